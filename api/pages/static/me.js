// The /me page: the signed-in applicant's consents (GET /v1/me/consents) with their state, a
// receipt for each (GET /v1/me/consents/{id}/receipt), revocation signed by the consent's pseudonym (its key derived in the page from a wallet signature, pseudonym.js), and
// every access to their data (GET /v1/me/data-access). No framework, no CDN.
"use strict";
const $ = (id) => document.getElementById(id);
const STATES = {
  active: ["有效 active", "ok"], paused: ["暂停 paused", "neutral"], revoked: ["已撤回 revoked", "bad"],
  expired: ["已过期 expired", "neutral"], none: ["无 none", "neutral"],
};
const CATEGORIES = { id_card: "身份证 ID card", household_register: "户籍 household register", residence_permit: "居住证 residence permit" };
const OUTCOMES = { released: ["已提供 released", "ok"], refused: ["已拒绝 refused", "bad"] };

function badge([text, tone]) {
  const span = document.createElement("span");
  span.className = `badge ${tone}`;
  span.textContent = text;
  return span;
}

function fail(error) {
  $("error").hidden = false;
  $("error").textContent = String(error.message || error);
}

function button(text, onClick, secondary = true) {
  const b = document.createElement("button");
  b.type = "button"; b.textContent = text; if (secondary) b.className = "secondary";
  b.addEventListener("click", onClick);
  return b;
}

function consentRow(consent) {
  const tr = document.createElement("tr");
  tr.dataset.consent = consent.consent_id;
  tr.dataset.state = consent.state;
  const actions = document.createElement("div");
  actions.append(button("Receipt 凭证", () => showReceipt(consent.consent_id)));
  if (consent.state === "active") actions.append(" ", button("Revoke 撤回", () => revoke(consent.consent_id), false));
  tr.append(
    Show.cell(Show.code(consent.consent_id)),
    Show.cell(consent.purposes.join("；") || consent.application_id || "—"),
    Show.cell(consent.agency_name || consent.agency, consent.agency),
    Show.cell(consent.categories.map((c) => CATEGORIES[c] || c).join("、")),
    Show.cell(`${Show.time(consent.not_before)} – ${Show.time(consent.expires_at)}`),
    Show.cell(`${consent.pulls} / ${consent.max_pulls}`),
    Show.cell(badge(STATES[consent.state] || [consent.state, "neutral"])),
    Show.cell(actions),
  );
  return tr;
}

function accessRow(access) {
  const tr = document.createElement("tr");
  tr.dataset.outcome = access.outcome;
  tr.dataset.tx = access.tx_hash;
  const outcome = document.createElement("div");
  outcome.append(badge(OUTCOMES[access.outcome] || [access.outcome, "neutral"]));
  if (access.reason) outcome.append(" ", access.reason);
  tr.append(
    Show.cell(Show.time(access.at)),
    Show.cell(access.purposes.join("；") || "—"),
    Show.cell(access.legal_basis || "—"),
    Show.cell(access.requester_name || access.requester, access.requester),
    Show.cell(access.holder_name || access.holder, access.holder),
    Show.cell(CATEGORIES[access.category] || access.category),
    Show.cell(outcome),
    Show.cell(Show.code(access.tx_hash, `${access.tx_hash} (block ${access.block_number})`)),
  );
  return tr;
}

async function load() {
  $("error").hidden = true;
  const [consents, accesses] = await Promise.all([GovchainSession.api("/v1/me/consents"), GovchainSession.api("/v1/me/data-access")]);
  $("consents").replaceChildren(...consents.map(consentRow));
  $("no-consents").hidden = consents.length > 0;
  $("access").replaceChildren(...[...accesses].reverse().map(accessRow));  // newest first
  $("no-access").hidden = accesses.length > 0;
  $("consents-section").hidden = $("access-section").hidden = false;
  document.body.dataset.loaded = String(Date.now());
}

async function showReceipt(consentId) {
  try {
    const receipt = await GovchainSession.api(`/v1/me/consents/${consentId}/receipt`);
    const text = JSON.stringify(receipt, null, 2);
    $("receipt").textContent = text;
    $("receipt-of").textContent = consentId;
    $("receipt-section").dataset.consent = consentId;
    const link = $("receipt-download");
    if (link.href.startsWith("blob:")) URL.revokeObjectURL(link.href);
    link.href = URL.createObjectURL(new Blob([text], { type: "application/json" }));
    link.download = `consent-receipt-${consentId.slice(2, 12)}.json`;
    $("receipt-section").hidden = false;
    $("receipt-section").scrollIntoView();
  } catch (error) { fail(error); }
}

async function revoke(consentId) {
  if (!window.confirm("Revoke this consent? Agencies can no longer pull your data under it. 确认撤回此授权？")) return;
  try {
    const offer = await GovchainSession.api(`/v1/me/consents/${consentId}/revocation`);
    // signed by the consent's pseudonym, its key derived here from the wallet's root signature (pseudonym.js)
    const signature = await window.GovchainPseudonym.signRevocation(offer);
    await GovchainSession.api(`/v1/me/consents/${consentId}/revocation`, { method: "POST", body: { deadline: offer.deadline, signature } });
    await load();
  } catch (error) { fail(error); }
}

function showSession(session) {
  $("signed-out").hidden = $("sign-in").hidden = Boolean(session);
  $("signed-in").hidden = $("sign-out").hidden = $("refresh").hidden = !session;
  $("address").textContent = session ? session.address : "";
  if (!session) {
    for (const id of ["consents-section", "access-section", "receipt-section"]) $(id).hidden = true;
  }
}

async function start(session) {
  showSession(session);
  if (session) await load().catch((error) => { fail(error); showSession(GovchainSession.current()); });
}

$("sign-in").addEventListener("click", async () => {
  $("sign-in").disabled = true;
  try { await start(await GovchainSession.signIn()); } catch (error) { fail(error); } finally { $("sign-in").disabled = false; }
});
$("sign-out").addEventListener("click", () => { GovchainSession.signOut(); showSession(null); });
$("refresh").addEventListener("click", () => load().catch(fail));
start(GovchainSession.current());
