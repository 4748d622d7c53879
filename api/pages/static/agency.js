// /agency: the handling agency's workbench, through the public API. The queue by state
// (GET /v1/agency/applications), one application (GET /v1/agency/applications/{id}), pulls whose
// EIP-712 requests the agency signs in its own wallet (GET .../pull-requests, POST .../pulls),
// decisions one or many (POST .../decision, /v1/agency/decisions), delivery steps, revocation of a
// certificate or its batch, and the commitments due for their after-the-fact check.
// With agency-held keys a chain write answers 202: the page says so and names `govchain agency sign`.
import { $, ATTRIBUTES, CATEGORIES, STATES, badge, button, call, clearError, downloadLink, el, fail, say, sessionBar, time, walletError } from "/static/people.js";

let catalog = null, members = [], current = null;
const memberName = (address) => (members.find((m) => m.address.toLowerCase() === String(address).toLowerCase()) || {}).name || address;
const matterName = (m) => `${m.name_zh} ${m.name_en}`;

function awaited(result) {  // agency-held keys: the platform recorded a signature request and changed nothing
  if (result && result.signature_request) {
    say(`已生成待签交易，请用本机构客户端签署（govchain agency sign） A transaction awaits your agency's own signature: run \`govchain agency sign\`. ${result.signature_request.url || ""}`);
    return true;
  }
  return false;
}

async function loadQueue() {
  const state = $("queue-state").value;
  const rows = await call(`/v1/agency/applications?state=${encodeURIComponent(state)}`);
  $("queue").replaceChildren(...rows.map((a) => el("tr", { dataset: { application: a.id, state: a.state } },
    el("td", {}, el("input", { type: "checkbox", className: "pick", value: a.id, "aria-label": `选择 Pick ${a.id}` })),
    el("td", { textContent: a.matters.map(matterName).join("；") }),
    el("td", {}, Show.code(a.applicant)),
    el("td", {}, badge(STATES[a.state] || a.state)),
    el("td", { textContent: time(a.updated_at) }),
    el("td", {}, button("打开 Open", () => openApplication(a.id), { secondary: true })))));
  $("queue-empty").hidden = rows.length > 0;
  $("bulk").hidden = state !== "submitted" || rows.length === 0;
  $("queue-section").dataset.loaded = `${state}:${rows.length}`;
}

async function decideMany(decision) {
  const ids = [...document.querySelectorAll("#queue input.pick:checked")].map((c) => c.value);
  const reason = $("bulk-reason").value.trim();
  if (!ids.length) throw new Error("请先勾选办件 Pick at least one application first");
  if (!reason) throw new Error("请填写理由 Please give a reason (the applicants see it)");
  const out = await call("/v1/agency/decisions", { method: "POST", body: { decisions: ids.map((application_id) => ({ application_id, decision, reason })) } });
  $("bulk-results").replaceChildren(...out.results.map((r) => el("li", { dataset: { application: r.application_id, status: String(r.status) } },
    r.status === 200 ? `${r.application_id}: ${STATES[r.state] || r.state}` : `${r.application_id}: 未处理 refused — ${r.problem.detail}`)));
  say(`已处理 ${out.decided} 件，未处理 ${out.refused} 件 Decided ${out.decided}, refused ${out.refused}.`);
  await loadQueue();
}

function pulledRow(p) {
  let content;
  if (p.sealed_to_agency) content = el("span", { className: "muted", textContent: "已加密至本机构密钥，请在本机构客户端打开 Sealed to your agency's own key: open it in your own client" });
  else if (p.found === false) content = el("span", { textContent: "未找到记录 No record found" });
  else content = el("dl", {}, ...Object.entries(p.data || {}).flatMap(([k, v]) => [el("dt", { textContent: ATTRIBUTES[k] || k }), el("dd", { textContent: String(v) })]));
  return el("tr", { dataset: { category: p.category } },
    el("td", { textContent: CATEGORIES[p.category] || p.category }), el("td", { textContent: memberName(p.holder) }),
    el("td", {}, content), el("td", {}, p.tx_hash ? Show.code(p.tx_hash) : "—"));
}

async function signAndPull() {
  const session = GovchainSession.current();
  const asked = await call(`/v1/applications/${current.id}/pull-requests`);
  if (!asked.requests.length) throw new Error("没有待调取的数据 Nothing left to pull under this consent");
  const signed = [];
  for (const r of asked.requests) {  // each request signed in the agency's own wallet
    const signature = await window.ethereum.request({ method: "eth_signTypedData_v4", params: [session.address, JSON.stringify(r.typed_data)] }).catch((e) => { throw walletError(e); });
    signed.push({ ...r.body, signature });
  }
  const out = await call(`/v1/applications/${current.id}/pulls`, { method: "POST", body: { requests: signed } });
  const refused = out.pulls.filter((p) => p.outcome !== "released");
  say(refused.length ? `部分调取被拒绝 Some pulls were refused: ${refused.map((p) => `${CATEGORIES[p.category] || p.category} (${p.reason || p.detail})`).join("; ")}`
    : `已调取 ${out.pulls.length} 项，均已上链记录 Pulled ${out.pulls.length}; each pull is logged on chain.`);
  await openApplication(current.id);
  await loadQueue();  // it has left the "consented" queue
}

async function openApplication(id) {
  clearError();
  const bundle = await call(`/v1/agency/applications/${encodeURIComponent(id)}`);
  const a = current = bundle.application;
  $("detail-id").textContent = a.id;
  $("detail-section").dataset.state = a.state;
  $("detail-summary").replaceChildren(a.matters.map(matterName).join("；"), " · ", badge(STATES[a.state] || a.state),
    ` · 申请人 applicant ${Show.short(a.applicant)} · 领取 delivery: ${bundle.delivery_method || "—"}${a.decision_reason ? ` · 理由 reason: ${a.decision_reason}` : ""}`);
  $("pull").hidden = !["consented", "data_pulled"].includes(a.state);
  $("pulled").replaceChildren(...bundle.pulled.map(pulledRow));
  $("detail-materials").replaceChildren(...bundle.materials.map((m) => {
    const action = el("td");
    let provided = "未提供 missing";
    if (m.provided && m.provided.kind === "file") {
      provided = `文件 file: ${m.provided.filename} (${m.provided.size} bytes)`;
      const link = el("a", { href: "#", textContent: "下载 Download", hidden: true, dataset: { material: m.material } });
      action.append(link);
      downloadLink(link, `/v1/applications/${a.id}/materials/${m.material}/file`, m.provided.filename).catch(fail);
    } else if (m.provided) provided = `告知承诺 commitment, 核查期限 check due ${time(m.provided.check_due)}${m.provided.check_outcome ? ` · ${m.provided.check_outcome}` : ""}`;
    return el("tr", { dataset: { material: m.material } }, el("td", { textContent: `${m.name_zh} ${m.name_en}` }), el("td", { textContent: provided }), action);
  }));
  $("decision-box").hidden = a.state !== "submitted";
  $("certificate-panel").hidden = !["approved", "issued", "delivered"].includes(a.state);
  if (!$("certificate-panel").hidden) {
    const c = await call(`/v1/applications/${a.id}/certificate`);
    $("certificate-panel").dataset.state = c.state;
    $("certificate-panel").dataset.certificate = c.id;
    $("certificate-panel").dataset.root = c.merkle_root || "";
    $("agency-certificate").replaceChildren(badge(c.state, c.state === "issued" ? "ok" : c.state === "revoked" ? "bad" : "neutral"),
      ` ${c.id}`, c.merkle_root ? ` · 批次 batch ${Show.short(c.merkle_root)}` : "", c.revoke_reason ? ` · 撤销理由 ${c.revoke_reason}` : "");
    $("revoke-one").disabled = $("revoke-batch").disabled = c.state !== "issued";
  }
  $("delivery-panel").hidden = !(bundle.delivery_method === "mail" && ["issued", "delivered"].includes(a.state));
  if (!$("delivery-panel").hidden) {
    const d = await call(`/v1/applications/${a.id}/delivery`);
    const ad = d.address || {};
    $("delivery-address").textContent = `${ad.recipient || ""} ${ad.phone || ""} ${ad.province || ""}${ad.city || ""}${ad.district || ""}${ad.line || ""} ${ad.postcode || ""}`;
    $("agency-delivery-events").replaceChildren(...d.events.map((e) => el("li", { className: "verified", dataset: { status: e.status } },
      el("div", { className: "step-head" }, el("strong", { textContent: e.status }), el("span", { textContent: time(e.at) })),
      el("div", { className: "meta", textContent: `${e.tracking_number || ""} tx ${Show.short(e.tx_hash || "")}` }))));
  }
  $("detail-section").hidden = false;
  document.body.dataset.opened = `${a.id}:${a.state}:${Date.now()}`;
}

async function decide(decision) {
  const reason = $("decision-reason").value.trim();
  if (!reason) throw new Error("请填写理由 Please give a reason (the applicant sees it); nothing was decided");
  const out = await call(`/v1/applications/${current.id}/decision`, { method: "POST", body: { decision, reason } });
  say(decision === "approve" ? "已批准，证书将随下一批签发 Approved; the certificate goes out with the next batch." : "已驳回 Rejected.");
  $("decision-reason").value = "";
  await openApplication(out.application.id);
  await loadQueue();
}

async function revoke(batch) {
  const reason = $("revoke-reason").value.trim();
  if (!reason) throw new Error("请填写撤销理由 Please give the reason to revoke; nothing was revoked");
  const panel = $("certificate-panel").dataset;
  if (!window.confirm(batch ? `撤销整批证书？ Revoke every certificate of batch ${panel.root}?` : `撤销证书 ${panel.certificate}？ Revoke this certificate?`)) return;
  const out = batch ? await call(`/v1/certificate-batches/${panel.root}/revoke`, { method: "POST", body: { reason } })
    : await call(`/v1/certificates/${panel.certificate}/revoke`, { method: "POST", body: { reason } });
  if (!awaited(out)) say(batch ? `整批已撤销 The batch is revoked (${out.size}).` : "证书已撤销 The certificate is revoked.");
  await openApplication(current.id);
}

async function deliveryStep(status) {
  const body = { status };
  if (status === "mailed") {
    body.tracking_number = $("tracking").value.trim();
    if (!/^[A-Za-z0-9-]{6,40}$/.test(body.tracking_number)) throw new Error("请填写运单号（6–40 位字母数字） Please enter the tracking number (6–40 letters, digits or -)");
  }
  const out = await call(`/v1/applications/${current.id}/delivery`, { method: "POST", body });
  if (!awaited(out)) say(`已记录并上链 Recorded and anchored: ${status}`);
  await openApplication(current.id);
}

async function loadCommitments() {
  const due = await call("/v1/agency/commitments");
  $("commitments").replaceChildren(...due.map((c) => {
    const note = el("input", { maxLength: 2000, "aria-label": `备注 Note ${c.application_id} ${c.material}` });
    const check = (outcome) => async () => {
      const out = await call(`/v1/applications/${c.application_id}/commitments/${c.material}/check`, { method: "POST", body: { outcome, note: note.value.trim() } });
      if (!awaited(out)) say(`核查结果已上链 The check's outcome is anchored: ${outcome}`);
      await loadCommitments();
    };
    return el("tr", { dataset: { application: c.application_id, material: c.material } },
      el("td", {}, Show.code(c.application_id)), el("td", { textContent: c.material }), el("td", { textContent: time(c.check_due) }),
      el("td", {}, note),
      el("td", {}, button("属实 Confirmed", check("confirmed"), { secondary: true }), " ", button("不实 False", check("false"), { secondary: true })));
  }));
  $("no-commitments").hidden = due.length > 0;
  $("commitments-section").hidden = false;
}

const guarded = (fn) => async () => { try { clearError(); await fn(); } catch (error) { fail(walletError(error)); } };
$("queue-form").addEventListener("submit", (event) => { event.preventDefault(); guarded(loadQueue)(); });
$("bulk-approve").addEventListener("click", guarded(() => decideMany("approve")));
$("bulk-reject").addEventListener("click", guarded(() => decideMany("reject")));
$("pull").addEventListener("click", guarded(signAndPull));
$("approve").addEventListener("click", guarded(() => decide("approve")));
$("reject").addEventListener("click", guarded(() => decide("reject")));
$("revoke-one").addEventListener("click", guarded(() => revoke(false)));
$("revoke-batch").addEventListener("click", guarded(() => revoke(true)));
for (const status of ["printed", "mailed", "delivered"]) $(`step-${status}`).addEventListener("click", guarded(() => deliveryStep(status)));

async function start(session) {
  for (const id of ["queue-section", "detail-section", "commitments-section"]) $(id).hidden = true;
  if (!session) return;
  if (!(session.roles || []).includes("AGENCY")) { fail(new Error(`此账户不是办理机构 This account (${session.address}) is not a handling agency (no AGENCY role)`)); return; }
  try {
    if (!catalog) [catalog, members] = await Promise.all([fetch("/v1/catalog").then((r) => r.json()), fetch("/v1/members").then((r) => (r.ok ? r.json() : []))]);
    $("queue-section").hidden = false;
    await loadQueue();
    await loadCommitments();
  } catch (error) { fail(error); }
}

start(sessionBar(start));
