// /apply: the applicant's journey through the public API. Choose a matter or scene (GET /v1/catalog),
// the face check at the vendor's own page and back, the consent (its pseudonym derived here from a
// wallet signature; the pseudonym signs the terms whose EIP-712 digest this page computes and checks
// against the consent id, the wallet signs the link), materials (type and size checked here before
// upload, progress shown) or a signed commitment (告知承诺), submission with the delivery choice,
// then the status: review, the certificate (.oa, PDF, QR link) and each delivery step.
import { hex, typedDataDigest, utf8, concat } from "/static/eip712.js";
import { addressOf, deriveKey } from "/static/pseudonym.js";
import * as secp from "/static/vendor/secp256k1.js";
import { $, ATTRIBUTES, CATEGORIES, Refused, STATES, badge, button, call, clearError, downloadLink, el, fail, say, sessionBar, time, walletError } from "/static/people.js";

const ORDER = ["draft", "face_verified", "consented", "data_pulled", "submitted", "approved", "issued", "delivered"];
const MAGIC = {  // what the server checks too (api/materials/sniff.py); here only to refuse early
  "application/pdf": [[0x25, 0x50, 0x44, 0x46, 0x2d]],
  "image/png": [[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]],
  "image/jpeg": [[0xff, 0xd8, 0xff]],
};
const TYPE_NAMES = { "application/pdf": "PDF", "image/png": "PNG", "image/jpeg": "JPEG" };
let catalog = null, members = [], current = null, consentKey = null, consentOffer = null;

const params = () => new URLSearchParams(location.search);
const matterName = (m) => `${m.name_zh} ${m.name_en}`;
const memberName = (address) => (members.find((m) => m.address.toLowerCase() === String(address).toLowerCase()) || {}).name || address;

async function loadCatalog() {
  if (!catalog) {
    const [c, m] = await Promise.all([fetch("/v1/catalog").then((r) => r.json()), fetch("/v1/members").then((r) => (r.ok ? r.json() : []))]);
    catalog = c; members = m;
  }
  return catalog;
}

function holdersOf(category) {
  return members.filter((m) => m.data_categories.includes(category) && m.status === "active").map((m) => m.name).join("、") || "—";
}

function agencyName(domain) {
  return (members.find((m) => m.domain === domain) || {}).name || domain;
}

// What a matter will look up, from whom and why, in plain words.
function explain(matters) {
  const scope = {};
  for (const m of matters) for (const [category, attributes] of Object.entries(m.data)) scope[category] = [...new Set([...(scope[category] || []), ...attributes])];
  const data = el("ul", {}, ...Object.entries(scope).map(([category, attributes]) => el("li", {},
    el("strong", { textContent: CATEGORIES[category] || category }), `：${attributes.map((a) => ATTRIBUTES[a] || a).join("、")}`,
    el("br"), el("span", { className: "muted", textContent: `向 from ${holdersOf(category)}` }))));
  const materials = matters.flatMap((m) => m.materials);
  return el("div", {},
    el("p", { textContent: `办理机构 Handled by: ${agencyName(matters[0].agency)}` }),
    el("p", { textContent: `为什么 Why: 仅用于审核您的「${matters.map((m) => m.name_zh).join("、")}」申请 — only to decide your application for ${matters.map((m) => m.name_en).join(", ")}.` }),
    el("p", { textContent: "将调取 What will be looked up:" }), data,
    materials.length ? el("p", { textContent: `需上传的材料 Materials to upload: ${[...new Set(materials.map((x) => `${x.name_zh} ${x.name_en}`))].join("；")}` }) : null);
}

async function showCatalog() {
  const c = await loadCatalog();
  const matters = Object.fromEntries(c.matter.map((m) => [m.code, m]));
  const card = (code, title, list, kind) => el("li", { dataset: { code } },
    el("h3", { textContent: title }), el("p", { className: "muted", textContent: kind }), explain(list),
    button("申请此事项 Apply for this", () => create(code)));
  $("catalog").replaceChildren(
    ...c.scene.map((s) => card(s.code, `${s.name_zh} ${s.name_en}`, s.matters.map((code) => matters[code]), "一件事 Scene (several matters at once)")),
    ...c.matter.map((m) => card(m.code, matterName(m), [m], "事项 Matter")));
  $("catalog-section").hidden = false;
}

async function showMine() {
  const mine = await call("/v1/me/applications");
  $("applications").replaceChildren(...mine.map((a) => el("tr", { dataset: { application: a.id, state: a.state } },
    el("td", { textContent: a.matters.map(matterName).join("；") }), el("td", {}, badge(STATES[a.state] || a.state)),
    el("td", { textContent: time(a.created_at) }), el("td", {}, button("打开 Open", () => open(a.id), { secondary: true })))));
  $("no-applications").hidden = mine.length > 0;
  $("mine-section").hidden = false;
}

async function create(code) {
  const application = await call("/v1/applications", { method: "POST", body: { code } });
  await open(application.id);
}

async function open(id) {
  if (params().get("application") !== id) history.pushState(null, "", `/apply?application=${encodeURIComponent(id)}`);
  consentKey = consentOffer = null;
  $("consent-terms").hidden = $("consent-sign").hidden = true;
  await render();
}

async function render() {
  const id = params().get("application");
  $("application-section").hidden = !id;
  $("catalog-section").hidden = Boolean(id);  // one application at a time; "New application" brings the catalog back
  if (!id) { current = null; return; }
  await loadCatalog();
  const application = current = await call(`/v1/applications/${encodeURIComponent(id)}`);
  $("application-id").textContent = application.id;
  $("application-section").dataset.state = application.state;
  $("application-matters").textContent = application.matters.map(matterName).join("；");
  const at = ORDER.indexOf(application.state);
  $("progress").replaceChildren(...ORDER.map((state, i) => el("li", {
    className: application.state === "rejected" && state === "approved" ? "current" : i < at ? "done" : i === at ? "current" : "",
    textContent: application.state === "rejected" && state === "approved" ? STATES.rejected : STATES[state],
  })));
  const state = application.state;
  $("face-step").hidden = state !== "draft";
  $("face-result").hidden = !(state === "draft" && application.face_decision);
  $("face-result").textContent = `人脸核验未通过，请重试 The face check did not pass; try again. (${application.face_decision || ""})`;
  $("consent-step").hidden = state !== "face_verified";
  $("materials-step").hidden = !["consented", "data_pulled"].includes(state);
  $("submit-step").hidden = !["consented", "data_pulled"].includes(state);
  $("submit-wait").hidden = state !== "consented";
  $("submit-button").disabled = state !== "data_pulled";
  $("status-step").hidden = at < ORDER.indexOf("submitted") && state !== "rejected";
  if (!$("materials-step").hidden) await renderMaterials();
  if (!$("status-step").hidden) await renderStatus();
  document.body.dataset.rendered = `${application.id}:${state}:${Date.now()}`;
}

// -- face check ----------------------------------------------------------------------------------
$("face-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  clearError();
  const body = { name: $("face-name").value.trim(), id_number: $("face-id").value.trim().toUpperCase() };
  if (!/^\d{17}[\dX]$/.test(body.id_number)) return fail(new Error("身份证号应为 18 位 The ID number has 18 characters (17 digits, then a digit or X)"));
  if (!$("face-outcome").hidden) body.outcome = $("face-outcome").value;
  $("face-start").disabled = true;
  try {
    const started = await call(`/v1/applications/${current.id}/face-verification`, { method: "POST", body });
    say("正在前往人脸核验页面 Going to the face-verification page…");
    location.assign(started.liveness_url);  // the vendor's own page; it sends you back here
  } catch (error) { fail(error); } finally { $("face-start").disabled = false; }
});

// -- consent ---------------------------------------------------------------------------------------
$("consent-load").addEventListener("click", async () => {
  clearError();
  $("consent-load").disabled = true;
  try {
    const session = GovchainSession.current();
    const first = await call(`/v1/applications/${current.id}/consent-terms`);
    const root = await window.ethereum.request({ method: "personal_sign", params: [hex(utf8(first.pseudonym.message)), session.address] }).catch((e) => { throw walletError(e); });
    const key = deriveKey(root, first.pseudonym.salt);
    const pseudonym = addressOf(key);
    const offer = await call(`/v1/applications/${current.id}/consent-terms?pseudonym=${pseudonym}`);
    if (offer.typed_data.message.applicant.toLowerCase() !== pseudonym.toLowerCase()) throw new Error("条款不是给此化名的 The terms are not for this consent's pseudonym; not signing");
    if (hex(typedDataDigest(offer.typed_data)) !== offer.consent_id.toLowerCase()) throw new Error("条款与授权编号不符 The terms do not hash to the consent id; not signing");
    consentKey = key; consentOffer = offer;
    const m = offer.typed_data.message;
    $("consent-plain").replaceChildren(
      el("p", { textContent: `机构 Agency: ${memberName(m.agency)}` }),
      el("p", { textContent: `用途 Purpose: ${offer.purposes.join("、")}` }),
      el("ul", {}, ...Object.entries(offer.scope).map(([c, attrs]) => el("li", { textContent: `${CATEGORIES[c] || c}：${attrs.map((a) => ATTRIBUTES[a] || a).join("、")}（向 from ${holdersOf(c)}）` }))),
      el("p", { textContent: `有效期 Valid: ${time(Number(m.notBefore))} – ${time(Number(m.expiresAt))}` }),
      el("p", { textContent: `最多调取 At most ${m.maxPulls} pulls 次；每次调取都记录在链上，您可在「我的数据」查看或随时撤回 every pull is logged on chain; see it or revoke at /me.` }),
      el("p", { className: "muted", textContent: `请在 ${time(Number(m.deadline))} 前签署 Sign before ${time(Number(m.deadline))}; 化名 pseudonym ${pseudonym}` }));
    $("consent-typed").textContent = JSON.stringify(offer.typed_data, null, 2);
    $("consent-terms").hidden = $("consent-sign").hidden = false;
  } catch (error) { fail(walletError(error)); } finally { $("consent-load").disabled = false; }
});

$("consent-sign").addEventListener("click", async () => {
  clearError();
  $("consent-sign").disabled = true;
  try {
    if (!consentOffer) throw new Error("请先查看条款 Show the terms first");
    if (Number(consentOffer.typed_data.message.deadline) * 1000 < Date.now()) {
      $("consent-terms").hidden = $("consent-sign").hidden = true;
      consentOffer = consentKey = null;
      throw new Error("授权条款已过期，请重新查看条款 The consent terms have expired; show them again to get fresh terms. Nothing was signed.");
    }
    const signature = await secp.signAsync(typedDataDigest(consentOffer.typed_data), consentKey, { prehash: false, format: "recovered" });
    const pseudonymSignature = hex(concat(signature.slice(1), Uint8Array.of(27 + signature[0])));
    const session = GovchainSession.current();
    const link = await window.ethereum.request({ method: "eth_signTypedData_v4", params: [session.address, JSON.stringify(consentOffer.link_typed_data)] }).catch((e) => { throw walletError(e); });
    await call(`/v1/applications/${current.id}/consent`, { method: "POST", body: { signature: pseudonymSignature, link_signature: link } });
    consentOffer = consentKey = null;
    say("授权已记录在链上 Your consent is recorded on chain. 机构调取数据后即可提交 You can submit once the agency has pulled your data.");
    await render();
  } catch (error) {
    if (error instanceof Refused && /expired|deadline/i.test(error.message)) {
      fail(new Error(`授权条款已过期，请重新查看条款 The consent terms have expired; show them again. (${error.message})`));
    } else fail(walletError(error));
  } finally { $("consent-sign").disabled = false; }
});

// -- materials ---------------------------------------------------------------------------------------
function upload(material, file, bar) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/v1/applications/${current.id}/materials`);
    xhr.setRequestHeader("Authorization", `Bearer ${GovchainSession.current().token}`);
    xhr.upload.addEventListener("progress", (e) => { if (e.lengthComputable) { bar.max = e.total; bar.value = e.loaded; } });
    xhr.addEventListener("load", () => {
      if (xhr.status === 201) { bar.value = bar.max; resolve(JSON.parse(xhr.responseText)); return; }
      let problem = {};
      try { problem = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      reject(new Refused(xhr.status, problem));
    });
    xhr.addEventListener("error", () => reject(new Error("网络错误，文件未上传 A network error; the file was not uploaded")));
    const form = new FormData();
    form.append("material", material);
    form.append("file", file, file.name);
    xhr.send(form);
  });
}

async function checkFile(entry, file) {
  const allowed = entry.types.map((t) => TYPE_NAMES[t] || t).join("/");
  if (!file.size) throw new Error(`文件为空 The file is empty: ${file.name}`);
  if (file.size > entry.max_bytes) {
    throw new Error(`文件过大，未上传 The file is too large and was not uploaded: ${file.name} ${(file.size / 1e6).toFixed(1)} MB > ${(entry.max_bytes / 1e6).toFixed(1)} MB`);
  }
  const head = new Uint8Array(await file.slice(0, 8).arrayBuffer());
  const type = entry.types.find((t) => (MAGIC[t] || []).some((magic) => magic.every((b, i) => head[i] === b)));
  if (!type) throw new Error(`文件类型不符，未上传（只接受 ${allowed}） Wrong file type, not uploaded (only ${allowed}): ${file.name}`);
}

function materialBox(entry) {
  const box = el("div", { className: "material", dataset: { material: entry.material, provided: entry.provided ? entry.provided.kind : "" } });
  const title = el("h4", { textContent: `${entry.name_zh} ${entry.name_en}` });
  if (entry.provided) {
    const p = entry.provided;
    const what = p.kind === "file" ? `已上传 Uploaded: ${p.filename} (${TYPE_NAMES[p.mime] || p.mime}, ${p.size} bytes, SHA-256 ${Show.short("0x" + p.sha256)})`
      : `已签署告知承诺 Commitment signed; 事后核查 checked by ${time(p.check_due)}`;
    box.append(title, el("p", { className: "ok-text", textContent: what }));
    if (p.kind === "file") box.append(button("删除 Remove", async () => { await call(`/v1/applications/${current.id}/materials/${entry.material}`, { method: "DELETE" }); await renderMaterials(); }, { secondary: true }));
    return box;
  }
  const input = el("input", { type: "file", id: `file-${entry.material}`, accept: entry.types.join(",") });
  const bar = el("progress", { max: 1, value: 0, hidden: true, "aria-label": `上传进度 Upload progress ${entry.name_en}` });
  const drop = el("label", { className: "drop", htmlFor: input.id },
    `拖入文件或点击选择 Drop a file here or choose one (${entry.types.map((t) => TYPE_NAMES[t] || t).join("/")}, ≤ ${(entry.max_bytes / 1e6).toFixed(0)} MB)`, input);
  const send = async (file) => {
    clearError();
    try {
      await checkFile(entry, file);
      bar.hidden = false;
      await upload(entry.material, file, bar);
      await renderMaterials();
    } catch (error) { bar.hidden = true; input.value = ""; fail(error); }
  };
  input.addEventListener("change", () => input.files[0] && send(input.files[0]));
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); if (e.dataTransfer.files[0]) send(e.dataTransfer.files[0]); });
  box.append(title, drop, bar);
  if (entry.commitment_allowed) box.append(el("div", { className: "actions" }, button("改为签署告知承诺 Sign a commitment instead", () => commit(entry), { secondary: true })));
  return box;
}

async function commit(entry) {
  const offer = await call(`/v1/applications/${current.id}/commitments/${entry.material}/typed-data`);
  if (!window.confirm(`${offer.text}\n\n用钱包签署此承诺？ Sign this commitment in your wallet?`)) return;
  const session = GovchainSession.current();
  const signature = await window.ethereum.request({ method: "eth_signTypedData_v4", params: [session.address, JSON.stringify(offer.typed_data)] }).catch((e) => { throw walletError(e); });
  await call(`/v1/applications/${current.id}/commitments`, { method: "POST", body: { material: entry.material, signed_at: offer.typed_data.message.signedAt, signature } });
  await renderMaterials();
}

async function renderMaterials() {
  const listing = await call(`/v1/applications/${current.id}/materials`);
  $("materials").replaceChildren(...listing.map(materialBox));
  $("materials-step").dataset.missing = String(listing.filter((m) => !m.provided).length);
}

// -- submission ---------------------------------------------------------------------------------------
for (const radio of document.querySelectorAll('input[name="delivery"]')) {
  radio.addEventListener("change", () => { $("mail-fields").hidden = document.querySelector('input[name="delivery"]:checked').value !== "mail"; });
}

$("submit-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  clearError();
  const method = document.querySelector('input[name="delivery"]:checked').value;
  const delivery = { method };
  if (method === "mail") {
    const v = (id) => $(id).value.trim();
    delivery.address = { recipient: v("mail-recipient"), phone: v("mail-phone"), province: v("mail-province"), city: v("mail-city"),
      district: v("mail-district"), line: v("mail-line"), postcode: v("mail-postcode") };
    const missing = ["recipient", "phone", "province", "city", "line"].filter((k) => !delivery.address[k]);
    if (missing.length) return fail(new Error(`请填写邮寄地址 Please fill in the mailing address: ${missing.join(", ")}`));
    if (!/^[0-9]{6}$/.test(delivery.address.postcode)) return fail(new Error("邮编应为 6 位数字 The postcode has 6 digits"));
  }
  const missing = Number($("materials-step").dataset.missing || 0);
  if (missing) return fail(new Error(`还有 ${missing} 项材料未提供 ${missing} material(s) still missing: upload or sign a commitment first`));
  $("submit-button").disabled = true;
  try {
    await call(`/v1/applications/${current.id}/submit`, { method: "POST", body: { delivery } });
    say("已提交，提交清单已上链 Submitted; the manifest of your materials is anchored on chain.");
    await render();
  } catch (error) { fail(error); $("submit-button").disabled = false; }
});

// -- status -------------------------------------------------------------------------------------------
async function renderStatus() {
  const a = current;
  const words = {
    submitted: "等待机构审核 Waiting for the agency's review.",
    approved: "已批准，证书签发中 Approved; the certificate is being issued.",
    rejected: `未予批准 Not approved: ${a.decision_reason || ""}`,
    issued: `证书已签发 The certificate is issued. ${a.decision_reason || ""}`,
    delivered: "证书已送达 The certificate is delivered.",
  };
  $("status-text").textContent = words[a.state] || STATES[a.state];
  try {
    const receipt = await call(`/v1/applications/${a.id}/receipt`);
    $("receipt-root").textContent = Show.short(receipt.root || receipt.manifest_root || "");
    $("receipt-tx").textContent = Show.short(receipt.tx_hash || "");
    $("receipt-box").hidden = false;
  } catch { $("receipt-box").hidden = true; }
  $("certificate-box").hidden = !["approved", "issued", "delivered"].includes(a.state);
  if (!$("certificate-box").hidden) {
    const c = await call(`/v1/applications/${a.id}/certificate`);
    $("certificate-box").dataset.state = c.state;
    $("certificate-state").replaceChildren(badge(c.state === "issued" ? "已签发 issued" : c.state === "revoked" ? `已撤销 revoked: ${c.revoke_reason || ""}` : `${c.state}`, c.state === "issued" ? "ok" : c.state === "revoked" ? "bad" : "neutral"),
      c.issue_tx ? ` 交易 tx ${Show.short(c.issue_tx)}` : "");
    if (c.state === "issued" || c.state === "revoked") {
      await downloadLink($("download-oa"), `/v1/certificates/${c.id}/document`, `${c.id}.oa`);
      await downloadLink($("download-pdf"), `/v1/certificates/${c.id}/pdf`, `${c.id}.pdf`);
      $("verify-link").href = c.verify_url;
      $("verify-link").hidden = false;
    }
  }
  const delivery = await call(`/v1/applications/${a.id}/delivery`);
  $("delivery-box").hidden = !delivery.method;
  const STEP = { printed: "已打印 printed", mailed: "已寄出 mailed", delivered: "已送达 delivered" };
  $("delivery-events").replaceChildren(...delivery.events.map((e) => el("li", { className: "verified", dataset: { status: e.status } },
    el("div", { className: "step-head" }, el("strong", { textContent: STEP[e.status] || e.status }), el("span", { textContent: time(e.at) })),
    el("div", { className: "meta", textContent: `${e.tracking_number ? `运单号 tracking ${e.tracking_number} · ` : ""}交易 tx ${Show.short(e.tx_hash || "")}` }))));
  if (!delivery.events.length) $("delivery-events").replaceChildren(el("li", { textContent: delivery.method === "mail" ? "尚未寄出 Not mailed yet" : "电子证照，无需寄送 Electronic: nothing to mail" }));
}

$("status-refresh").addEventListener("click", () => render().catch(fail));
window.addEventListener("popstate", () => render().catch(fail));

// -- start --------------------------------------------------------------------------------------------
async function start(session) {
  $("mine-section").hidden = $("catalog-section").hidden = $("application-section").hidden = true;
  if (!session) return;
  try {
    await showCatalog();
    await showMine();
    await render();
  } catch (error) { fail(error); }
}

fetch("/dev/wallet.json").then((r) => { for (const node of document.querySelectorAll(".dev-only")) node.hidden = !r.ok; }).catch(() => {});
start(sessionBar(start));
