// The /audit page: an auditor searches a case and sees its trail as a timeline, each step
// re-verified against the chain's receipts (GET /v1/audit/{applications|tenders}/{id}/trail?verify=true).
"use strict";
const $ = (id) => document.getElementById(id);
const KINDS = { application: "申请 Application", tender: "招标 Tender" };

function fail(error) {
  $("error").hidden = false;
  $("error").textContent = String(error.message || error);
}

function kindOf(value, chosen) {
  if (chosen !== "auto") return chosen;
  if (/^0x[0-9a-fA-F]{64}$/.test(value)) return "tender";
  if (value.startsWith("app_")) return "application";
  throw new Error("say whether this is an application or a tender 请选择案件类型");
}

function verdictOf(verified) {
  if (verified === true) return ["✔", "verified", "verified against the chain 已与链上核对一致"];
  if (verified === false) return ["✘", "unverified", "does not hold on the chain 与链上记录不符"];
  return ["–", "unchecked", "not checked 未核对"];
}

function step(s) {
  const li = document.createElement("li");
  const [mark, state, words] = verdictOf(s.verified);
  li.className = state;
  li.dataset.verified = String(s.verified);
  li.dataset.event = s.event;
  li.dataset.tx = s.tx_hash;
  const head = document.createElement("div");
  head.className = "step-head";
  const title = document.createElement("strong");
  title.textContent = `${s.index + 1}. ${s.event}`;
  const badge = document.createElement("span");
  badge.className = `badge ${state === "verified" ? "ok" : state === "unverified" ? "bad" : "neutral"}`;
  badge.textContent = `${mark} ${words}`;
  head.append(title, badge);
  const summary = document.createElement("div");
  summary.textContent = s.summary;
  const meta = document.createElement("div");
  meta.className = "meta";
  meta.append(`${Show.time(s.time)} · ${s.kind} · contract `, Show.code(s.contract), " · signer 签名方 ", Show.code(s.signer),
    " · tx ", Show.code(s.tx_hash), ` · block ${s.block_number} #${s.log_index}`);
  li.append(head, summary, meta);
  if (s.verification) {
    const why = document.createElement("div");
    why.className = "meta verification";
    why.textContent = s.verification;
    li.append(why);
  }
  return li;
}

async function search(value, chosen) {
  $("error").hidden = true;
  const id = value.trim();
  const kind = kindOf(id, chosen);
  $("search").disabled = true;
  try {
    const trail = await GovchainSession.api(`/v1/audit/${kind === "tender" ? "tenders" : "applications"}/${encodeURIComponent(id)}/trail?verify=true`);
    const [mark, state, words] = verdictOf(trail.verified);
    $("verdict").textContent = `${mark} ${trail.verified === true ? "Every step " : trail.verified === false ? "Some steps: " : ""}${words}`;
    $("verdict").className = state === "verified" ? "valid" : state === "unverified" ? "invalid" : "";
    $("trail-section").dataset.verified = String(trail.verified);
    $("case-kind").textContent = KINDS[trail.case.kind] || trail.case.kind;
    $("case-id").textContent = trail.case.id;
    $("step-count").textContent = `${trail.steps.length} steps 步`;
    $("timeline").replaceChildren(...trail.steps.map(step));
    $("trail-section").hidden = false;
    history.replaceState(null, "", `/audit?${kind}=${encodeURIComponent(id)}`);
  } catch (error) {
    $("trail-section").hidden = true;
    fail(error);
  } finally {
    $("search").disabled = false;
  }
}

function showSession(session) {
  $("signed-out").hidden = $("sign-in").hidden = Boolean(session);
  $("signed-in").hidden = $("sign-out").hidden = !session;
  $("address").textContent = session ? session.address : "";
  $("roles").textContent = session ? `(${session.roles.join(", ") || "no role 无角色"})` : "";
}

$("sign-in").addEventListener("click", async () => {
  $("sign-in").disabled = true;
  try { showSession(await GovchainSession.signIn()); } catch (error) { fail(error); } finally { $("sign-in").disabled = false; }
});
$("sign-out").addEventListener("click", () => { GovchainSession.signOut(); showSession(null); $("trail-section").hidden = true; });
$("search-form").addEventListener("submit", (e) => {
  e.preventDefault();
  search($("case").value, $("kind").value).catch(fail);
});
showSession(GovchainSession.current());
const params = new URLSearchParams(location.search);
for (const kind of ["application", "tender"]) {
  if (params.get(kind)) {
    $("case").value = params.get(kind);
    $("kind").value = kind;
    if (GovchainSession.current()) search(params.get(kind), kind).catch(fail);
  }
}
