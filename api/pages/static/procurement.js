// The /procurement page (an ES module): the procurement agency signs in with its wallet, lists
// its tenders, creates one (the document's SHA-256 computed here; only the hash goes on chain),
// opens it at the opening time, records the decryption outcomes, publishes the reading (唱标),
// answers the objections and publishes the result once the objection period is over. Every
// call is the public API with the agency's own token; with agency-held keys the API answers 202
// and the agency signs the transaction in its own client (said on the page).
/* global Show */  // govchain.js
import { $, Failure, STATES, action, api, hex, publicJson, say, sessionBar, showError, yuan } from "/static/procurement-kit.js";

let session = null, current = null, announcement = null;

function selected() {
  const id = new URLSearchParams(location.search).get("tender");
  return /^0x[0-9a-fA-F]{64}$/.test(id || "") ? id.toLowerCase() : null;
}

function select(tenderId) {
  const url = new URL(location.href);
  if (tenderId) url.searchParams.set("tender", tenderId); else url.searchParams.delete("tender");
  history.replaceState(null, "", url);
  announcement = null;
  return manage();
}

function button(text, onClick, secondary = true) {
  const b = document.createElement("button");
  b.type = "button"; b.textContent = text; if (secondary) b.className = "secondary";
  action(b, onClick);
  return b;
}

async function list() {
  const tenders = await api("/v1/tenders");
  $("list-section").hidden = false;
  $("no-tenders").hidden = tenders.length > 0;
  $("tenders").replaceChildren(...tenders.map((t) => {
    const tr = document.createElement("tr");
    tr.dataset.tender = t.tender_id;
    tr.dataset.state = t.state;
    tr.append(Show.cell(t.reference), Show.cell(t.title), Show.cell(STATES[t.state] || t.state),
      Show.cell(button(`Manage 管理 ${t.reference}`, () => select(t.tender_id))));
    return tr;
  }));
}

function seconds(value, what) {
  if (!value) return null;
  const at = Math.floor(new Date(value).getTime() / 1000);
  if (!Number.isFinite(at)) throw new Failure(`${what[0]}无效。`, `${what[1]} is not a valid time.`);
  return at;
}

async function create(event) {
  event.preventDefault();
  const file = $("document").files[0];
  if (!file) throw new Failure("请选择招标文件。", "Choose the tender document.");
  const documentHash = hex(new Uint8Array(await crypto.subtle.digest("SHA-256", await file.arrayBuffer())));
  const experts = $("experts").value.split(/\s+/).map((e) => e.trim()).filter(Boolean);
  const wrong = experts.filter((e) => !/^0x[0-9a-fA-F]{40}$/.test(e));
  if (!experts.length || wrong.length) throw new Failure(`专家地址无效：${wrong.join(" ")}`, `Each expert must be a 0x… address (one a line): ${wrong.join(" ") || "none given"}`);
  const method = $("method").value;
  let weights = [];
  if (method === "weighted_score") {
    weights = $("weights").value.split(/[,，\s]+/).filter(Boolean).map((w) => Math.round(Number(w) * 100));
    if (!weights.length || weights.some((w) => !Number.isInteger(w) || w <= 0) || weights.reduce((a, b) => a + b, 0) !== 10000) {
      throw new Failure("权重须为正数，合计 100%。", "The weights must be positive percentages summing to 100.");
    }
  }
  const body = {
    reference: $("reference").value.trim(), title: $("tender-title").value.trim(), document_hash: documentHash,
    bid_deadline: seconds($("deadline").value, ["投标截止时间", "The bid deadline"]), method, weights, experts,
    decryption_minutes: Number($("decryption").value), objection_seconds: Number($("objection-minutes").value) * 60,
    min_bidders: Number($("min-bidders").value),
  };
  const opening = seconds($("opening").value, ["开标时间", "The opening time"]);
  if (opening !== null) body.opening_time = opening;
  const created = await api("/v1/tenders", { method: "POST", json: body });
  $("create").reset();
  $("weights").disabled = true;
  say("notice", `招标已发布：${created.reference}。 Tender published: ${created.reference}.`);
  await list();
  await select(created.tender_id);
}

function terms(tender) {
  const t = tender.terms;
  const rows = [
    ["投标截止 Bid deadline", Show.time(t.bid_deadline)], ["开标时间 Opening", Show.time(t.opening_time)],
    ["解密截止 Decryption ends", Show.time(t.decryption_end)],
    ["异议截止 Objections until", tender.objection_deadline ? Show.time(tender.objection_deadline) : `${Math.round(t.objection_seconds / 60)} min after the reading 唱标后`],
    ["评标方法 Method", t.method === "lowest_price" ? "最低价 lowest price" : `综合评分 weighted score (${t.weights.map((w) => w / 100 + "%").join(" / ")})`],
    ["最少投标人 Minimum bidders", t.min_bidders], ["评标专家 Experts", t.experts.join(" ")],
  ];
  $("m-terms").replaceChildren(...rows.flatMap(([k, v]) => {
    const dt = document.createElement("dt"); dt.textContent = k;
    const dd = document.createElement("dd"); dd.textContent = v;
    return [dt, dd];
  }));
}

function objectionItem(objection) {
  const li = document.createElement("li");
  li.dataset.index = String(objection.index);
  li.dataset.answered = String(Boolean(objection.answer));
  const text = document.createElement("p");
  text.textContent = `${objection.text} — ${Show.short(objection.pseudonym)}`;
  li.append(text);
  if (objection.answer) {
    const answer = document.createElement("p");
    answer.className = "muted";
    answer.textContent = `答复 Answer: ${objection.answer}`;
    li.append(answer);
  } else if (current.state === "opened" || current.state === "read") {
    const id = `answer-${objection.index}`;
    const label = document.createElement("label");
    label.htmlFor = id; label.textContent = "答复 Answer";
    const area = document.createElement("textarea");
    area.id = id; area.rows = 2; area.maxLength = 5000;
    li.append(label, area, button("Answer 答复", async () => {
      const text = area.value.trim();
      if (!text) throw new Failure("请填写答复。", "Write the answer first.");
      await api(`/v1/tenders/${current.tender_id}/objections/${objection.index}/answer`, { method: "POST", json: { text } });
      say("notice", `异议 ${objection.index + 1} 已答复。 Objection ${objection.index + 1} answered.`);
      await manage();
    }, false));
  }
  return li;
}

async function manage() {
  const id = selected();
  $("manage-section").hidden = !id || !session;
  if (!id || !session) return;
  const [tender, trail] = await Promise.all([publicJson(`/v1/tenders/${id}`), publicJson(`/v1/tenders/${id}/trail`)]);
  current = tender;
  document.body.dataset.state = tender.state;
  $("m-title").textContent = tender.title;
  $("m-reference").textContent = tender.reference;
  $("m-state").textContent = STATES[tender.state] || tender.state;
  $("m-hall").href = `/tenders/${id}`;
  terms(tender);
  $("open").hidden = tender.state !== "bidding";
  $("close-decryption").hidden = tender.state !== "opened";
  $("reading").hidden = tender.state !== "opened";
  $("result").hidden = tender.state !== "read";

  const bids = tender.bids || [];
  $("bids-part").hidden = bids.length === 0;
  $("m-bids").replaceChildren(...bids.map((b) => {
    const tr = document.createElement("tr");
    tr.dataset.pseudonym = b.pseudonym;
    tr.dataset.status = b.status;
    tr.append(Show.cell(Show.code(b.pseudonym)), Show.cell(b.decryption && b.decryption !== b.status ? `${b.status} (${b.decryption})` : b.status),
      Show.cell(b.bid ? b.bid.bidder_name : "—"), Show.cell(b.bid ? yuan(b.bid.price_fen) : "—"));
    return tr;
  }));
  $("announcement-part").hidden = !announcement;
  $("announcement").textContent = announcement || "";

  const objectionsOpen = ["opened", "read", "decided"].includes(tender.state);
  $("objections-part").hidden = !objectionsOpen;
  if (objectionsOpen) {
    const objections = await api(`/v1/tenders/${id}/objections`);
    $("no-objections").hidden = objections.length > 0;
    $("objections").replaceChildren(...objections.map(objectionItem));
  }
  $("replace-part").hidden = !(tender.state === "read" && tender.terms.method === "weighted_score");
  const chosen = $("replace-expert").value;
  $("replace-expert").replaceChildren(...tender.terms.experts.map((e) => {
    const option = document.createElement("option");
    option.value = option.textContent = e;
    return option;
  }));
  if (tender.terms.experts.includes(chosen)) $("replace-expert").value = chosen;
  const result = trail.find((s) => s.step === "ResultPublished");
  $("result-part").hidden = !result;
  if (result) {
    const winner = bids.find((b) => b.pseudonym === result.args.winner);
    const name = (winner && winner.bid && winner.bid.bidder_name) || Show.short(result.args.winner);
    const value = tender.terms.method === "lowest_price" ? `${yuan(result.args.value)} 元` : `score 得分 ${result.args.value}`;
    $("m-result").textContent = `中标候选人 Winner: ${name} — ${value}`;
  }
  document.body.dataset.loaded = String(Date.now());
}

async function step(path, done) {
  const answer = await api(`/v1/tenders/${current.tender_id}/${path}`, { method: "POST", json: path === "result" ? {} : undefined });
  say("notice", done(answer));
  await manage();
  await list();
}

action($("open"), () => step("open", (t) => t.state === "failed"
  ? "投标人不足，已流标。 Too few bids: the tender failed (re-tender)." : "已开标，请投标人签到并提交密钥。 Opened: bidders now sign in and release their keys."));
action($("close-decryption"), () => step("close-decryption", (r) => `已记录 ${r.length} 项解密结果。 ${r.length} decryption outcomes recorded.`));
action($("reading"), () => step("reading", (r) => { announcement = r.announcement; return `唱标完成，共 ${r.read} 份投标。 Reading published: ${r.read} bids read.`; }));
action($("result"), () => step("result", (r) => `结果已发布。 Result published (winner ${Show.short(r.winner)}).`));
action($("reload"), manage);
$("replace").addEventListener("submit", async (event) => {
  event.preventDefault();
  const b = $("replace-button");
  if (b.disabled) return;
  b.disabled = true;
  $("error").hidden = true;
  try {
    const replacement = $("replacement").value.trim();
    if (!/^0x[0-9a-fA-F]{40}$/.test(replacement)) throw new Failure("替换专家地址无效。", "The replacement must be a 0x… address.");
    const done = await api(`/v1/tenders/${current.tender_id}/experts/replace`, { method: "POST", json: { expert: $("replace-expert").value, replacement } });
    $("replace").reset();
    say("notice", `已更换专家，作废评分 ${done.dropped_scores} 项。 Expert replaced; ${done.dropped_scores} of its scores dropped.`);
    await manage();
  } catch (error) { showError(error); } finally { b.disabled = false; }
});
$("method").addEventListener("change", () => { $("weights").disabled = $("method").value !== "weighted_score"; });
$("create").addEventListener("submit", async (event) => {
  event.preventDefault();
  const b = $("create-button");
  if (b.disabled) return;
  b.disabled = true;
  $("error").hidden = true;
  try { await create(event); } catch (error) { showError(error); } finally { b.disabled = false; }
});

sessionBar((who) => {
  session = who;
  $("list-section").hidden = $("create-section").hidden = true;
  $("manage-section").hidden = true;
  if (!who) return;
  if (!(who.roles || []).includes("PROCUREMENT")) {
    showError(new Failure("此钱包没有采购人角色（PROCUREMENT），不能管理招标。", "This wallet has no PROCUREMENT role: it cannot manage tenders.", who.address));
    return;
  }
  $("create-section").hidden = false;
  Promise.all([list(), manage()]).catch(showError);
});
