// The /tenders/{id} page: the public bid-opening hall. Polls GET /v1/tenders/{id} and its
// trail every second and redraws as bidders sign in, release keys, bids are decrypted, the
// reading (唱标) is published and the result is anchored. No framework, no CDN.
"use strict";
const $ = (id) => document.getElementById(id);
const TENDER = location.pathname.split("/").pop();
const STATES = {
  bidding: ["投标中 Bidding", "live"], failed: ["流标 Failed (too few bids)", "bad"], opened: ["开标中 Opening", "live"],
  read: ["已唱标 Read", "ok"], decided: ["已定标 Decided", "ok"], none: ["—", "neutral"],
};
const PHASES = ["bidding", "opened", "read", "decided"];
const BID_STATUS = {
  committed: "待解密 awaiting key", withdrawn: "已撤回 withdrawn", revealed: "密钥已提交 key released (opened once every bid can be)", decrypted: "✔ 已解密 decrypted",
  revoked: "✘ 解密失败（投标人责任） not decrypted, bidder's fault", not_decrypted_withdrawn: "✘ 未解密（视为撤回） not decrypted, withdrawn",
};
const STEPS = {
  TenderCreated: "招标创建 Tender created", BidCommitted: "投标提交 Bid committed", BidWithdrawn: "投标撤回 Bid withdrawn",
  TenderFailed: "流标 Tender failed", TenderOpened: "开标 Opened", BidderSignedIn: "投标人签到 Bidder signed in",
  KeyRevealed: "密钥公开 Key released", BidDecrypted: "解密成功 Bid decrypted", BidNotDecrypted: "未能解密 Bid not decrypted",
  BidSecurityForfeited: "没收投标保证金 Bid security forfeited", ExpertReplaced: "更换评标专家 Expert replaced",
  BidRead: "唱标 Bid read", ReadingPublished: "唱标记录发布 Reading published", ObjectionRaised: "异议 Objection raised",
  ObjectionAnswered: "异议答复 Objection answered", ScoresSubmitted: "专家评分 Scores submitted", ResultPublished: "结果发布 Result published",
};
const yuan = (fen) => (Number(fen) / 100).toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
let polls = 0;

async function getJson(path) {
  const response = await fetch(path, { cache: "no-store" });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(body.detail || `the server answered ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return body;
}

function terms(tender) {
  const t = tender.terms;
  const rows = [
    ["招标编号 Reference", tender.reference], ["采购人 Agency", tender.agency],
    ["投标截止 Bid deadline", Show.time(t.bid_deadline)], ["开标时间 Opening", Show.time(t.opening_time)],
    ["解密截止 Decryption ends", Show.time(t.decryption_end)],
    ["评标方法 Method", t.method === "lowest_price" ? "最低价 lowest price" : `综合评分 weighted score (${t.weights.map((w) => w / 100 + "%").join(" / ")})`],
    ["最少投标人 Minimum bidders", t.min_bidders], ["评标专家 Experts", t.experts.length],
  ];
  $("terms").replaceChildren(...rows.flatMap(([k, v]) => {
    const dt = document.createElement("dt"); dt.textContent = k;
    const dd = document.createElement("dd"); dd.textContent = v;
    return [dt, dd];
  }));
}

function byPseudonym(trail, step) {
  return new Map(trail.filter((s) => s.step === step).map((s) => [s.args.pseudonym, s]));
}

function draw(tender, trail) {
  $("tender").hidden = false;
  document.title = `开标大厅 ${tender.reference} — govchain`;
  $("title").textContent = tender.title;
  $("reference").textContent = `${tender.reference} · ${tender.tender_id}`;
  const [label, tone] = STATES[tender.state] || [tender.state, "neutral"];
  $("state").textContent = label;
  $("state").className = `badge ${tone}`;
  document.body.dataset.state = tender.state;
  const at = PHASES.indexOf(tender.state);
  for (const li of $("progress").children) {
    const i = PHASES.indexOf(li.dataset.phase);
    li.className = tender.state === "failed" ? "" : i < at ? "done" : i === at ? (at === PHASES.length - 1 ? "done" : "current") : "";
  }
  terms(tender);
  $("bid-link").href = `/tenders/${TENDER}/bid`;
  $("score-link").href = `/tenders/${TENDER}/score`;

  const bidding = tender.state === "bidding";
  $("sealed").hidden = !bidding;
  const signedIn = byPseudonym(trail, "BidderSignedIn"), keys = byPseudonym(trail, "KeyRevealed");
  const bids = (tender.bids || []).filter((b) => b.status !== "withdrawn");
  $("bids-section").hidden = bidding || bids.length === 0;
  $("bid-counts").textContent = `${signedIn.size} / ${bids.length} signed in 已签到 · ${bids.filter((b) => b.status === "decrypted").length} decrypted 已解密`;
  $("bids").replaceChildren(...bids.map((bid) => {
    const tr = document.createElement("tr");
    tr.dataset.pseudonym = bid.pseudonym;
    tr.dataset.status = bid.status;
    tr.dataset.signedIn = String(signedIn.has(bid.pseudonym));
    const signed = signedIn.get(bid.pseudonym), key = keys.get(bid.pseudonym);
    tr.append(
      Show.cell(Show.code(bid.pseudonym)),
      Show.cell(signed ? `✔ ${Show.time(signed.time)}` : "…"),
      Show.cell(key ? `✔ ${Show.time(key.time)}` : "…"),
      Show.cell(BID_STATUS[bid.status] || bid.status),
    );
    return tr;
  }));

  const reading = trail.find((s) => s.step === "ReadingPublished");
  $("reading-section").hidden = !reading;
  if (reading) {
    const named = new Map((tender.bids || []).map((b) => [b.pseudonym, b.bid]));
    $("reading").replaceChildren(...trail.filter((s) => s.step === "BidRead").map((s) => {
      const opened = named.get(s.args.pseudonym) || {};
      const tr = document.createElement("tr");
      tr.dataset.pseudonym = s.args.pseudonym;
      const items = Object.entries(opened.items || {}).map(([k, v]) => `${k}：${v}`).join("；");
      tr.append(Show.cell(opened.bidder_name || Show.short(s.args.pseudonym)), Show.cell(yuan(s.args.price)), Show.cell(items || "—"),
        Show.cell(Show.code(s.tx_hash)));
      return tr;
    }));
    $("announcement").textContent = reading.args.announcementHash;
  }

  const result = trail.find((s) => s.step === "ResultPublished");
  $("result-section").hidden = !result;
  if (result) {
    const winner = (tender.bids || []).find((b) => b.pseudonym === result.args.winner);
    const name = (winner && winner.bid && winner.bid.bidder_name) || Show.short(result.args.winner);
    const value = tender.terms.method === "lowest_price" ? `${yuan(result.args.value)} 元` : `score 得分 ${result.args.value}`;
    $("result").textContent = `中标候选人 Winner: ${name} — ${value}`;
  }

  // Before the deadline the hall shows no commitments (their count is not disclosed there).
  const shown = bidding ? trail.filter((s) => s.step === "TenderCreated") : trail;
  $("log").replaceChildren(...[...shown].reverse().map((s) => {
    const tr = document.createElement("tr");
    tr.dataset.step = s.step;
    tr.append(Show.cell(Show.time(s.time)), Show.cell(STEPS[s.step] || s.step), Show.cell(Show.code(s.tx_hash)), Show.cell(String(s.block_number)));
    return tr;
  }));
  $("updated").textContent = new Date().toLocaleTimeString("zh-CN", { hour12: false });
  document.body.dataset.polls = String(++polls);
}

async function poll() {
  let delay = 1000;
  try {
    const [tender, trail] = await Promise.all([getJson(`/v1/tenders/${TENDER}`), getJson(`/v1/tenders/${TENDER}/trail`)]);
    $("error").hidden = true;
    $("live").textContent = "● live 实时";
    draw(tender, trail);
    if (tender.state === "decided" || tender.state === "failed") delay = 10000;  // nothing more will happen but late reads
  } catch (error) {
    $("error").hidden = false;
    $("error").textContent = error.status === 404 ? `No such tender 无此招标: ${TENDER}` : `${error.message} — retrying 正在重试`;
    $("live").textContent = "○ reconnecting 重新连接中";
    if (error.status === 404) delay = 10000;
  }
  setTimeout(poll, document.hidden ? Math.max(delay, 5000) : delay);
}
poll();
