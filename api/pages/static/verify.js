// The /verify page: send a dropped file to POST /v1/verify, or a QR link's target hash to
// GET /v1/verify/{targetHash}, and show the three checks. No framework, no CDN.
"use strict";
const $ = (id) => document.getElementById(id);
const NAMES = { integrity: "Integrity 完整性", status: "Status 状态", identity: "Issuer identity 签发方" };

function show(verdict) {
  $("error").hidden = true;
  $("result").hidden = false;
  $("verdict").textContent = verdict.valid ? "✔ Valid certificate 证书有效" : "✘ Not valid 证书无效";
  $("verdict").className = verdict.valid ? "valid" : "invalid";
  const summary = $("summary");
  summary.replaceChildren();
  for (const [label, value] of Object.entries(verdict.certificate || {})) {
    const dt = document.createElement("dt"); dt.textContent = label;
    const dd = document.createElement("dd"); dd.textContent = value;
    summary.append(dt, dd);
  }
  const rows = verdict.checks.map((check) => {
    const tr = document.createElement("tr");
    tr.dataset.check = check.name;
    tr.className = check.valid ? "valid" : "invalid";
    for (const text of [NAMES[check.name] || check.name, check.valid ? "yes" : "no", check.reason]) {
      const td = document.createElement("td"); td.textContent = text; tr.append(td);
    }
    return tr;
  });
  $("checks").replaceChildren(...rows);
}

function fail(message) {
  $("result").hidden = true;
  $("error").hidden = false;
  $("error").textContent = message;
}

async function answer(response) {
  const body = await response.json().catch(() => ({}));
  if (!response.ok) return fail(body.detail || `the server answered ${response.status}`);
  show(body);
}

async function verifyFile(file) {
  const text = await file.text();
  const response = await fetch("/v1/verify", { method: "POST", headers: { "Content-Type": "application/json" }, body: text });
  await answer(response);
}

async function verifyHash(value) {
  const match = /0x[0-9a-fA-F]{64}/.exec(value);
  if (!match) return fail("no target hash (0x followed by 64 hex digits) in that link");
  await answer(await fetch(`/v1/verify/${match[0]}`));
}

$("file").addEventListener("change", (e) => e.target.files[0] && verifyFile(e.target.files[0]));
const drop = $("drop");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); e.dataTransfer.files[0] && verifyFile(e.dataTransfer.files[0]); });
$("link-form").addEventListener("submit", (e) => { e.preventDefault(); verifyHash($("link").value); });
const fromQr = new URLSearchParams(location.search).get("targetHash");
if (fromQr) { $("link").value = location.href; verifyHash(fromQr); }
