// The /tenders/{id}/score page (an ES module): an expert on the tender's panel signs in with its
// wallet and scores each bid read at the opening, 0..100 per criterion. The EIP-712 Score message
// (tenderId, pseudonym, scoresHash = keccak256 of the scores as 32-byte words) is built here, as
// identity/tender712.py does, and signed in the wallet; the relayer puts it on chain, where
// TenderLedger checks the signer is on the panel. Bids already scored (ScoresSubmitted in the
// public trail) are shown with their scores.
/* global Show */  // govchain.js
import { $, Failure, STATES, action, api, publicJson, say, scoresHash, sessionBar, showError, typedData, walletSign, yuan } from "/static/procurement-kit.js";

const TENDER = location.pathname.split("/")[2];
let session = null, tender = null;

function criterion(i) {
  return `评分因素 ${i + 1} Criterion ${i + 1} (${tender.terms.weights[i] / 100}%)`;
}

async function load() {
  const [view, trail] = await Promise.all([publicJson(`/v1/tenders/${TENDER}`), publicJson(`/v1/tenders/${TENDER}/trail`)]);
  tender = view;
  $("tender").hidden = false;
  $("title").textContent = tender.title;
  $("reference").textContent = tender.reference;
  $("state").textContent = STATES[tender.state] || tender.state;
  $("hall-link").href = `/tenders/${TENDER}`;
  document.body.dataset.state = tender.state;
  const weighted = tender.terms.method === "weighted_score";
  $("criteria").textContent = weighted ? tender.terms.weights.map((_, i) => criterion(i)).join("；")
    : "最低价法，无需专家评分。 Lowest price: experts do not score.";
  $("scores-section").hidden = true;
  if (!session || !weighted) return;
  const onPanel = tender.terms.experts.some((e) => e.toLowerCase() === session.address.toLowerCase());
  if (!onPanel) throw new Failure("您不是本项目的评标专家。", "You are not on this tender's expert panel.", session.address);
  if (tender.state !== "read") {
    throw new Failure(tender.state === "decided" ? "结果已发布，评分已结束。" : "尚未唱标，暂不能评分。",
      tender.state === "decided" ? "The result is published: scoring is over." : "The bids are not read yet: nothing to score.");
  }
  const mine = new Map(trail.filter((s) => s.step === "ScoresSubmitted" && s.args.expert.toLowerCase() === session.address.toLowerCase())
    .map((s) => [s.args.pseudonym, s.args.scores]));
  const read = new Set(trail.filter((s) => s.step === "BidRead").map((s) => s.args.pseudonym));
  const bids = (tender.bids || []).filter((b) => read.has(b.pseudonym));
  const head = document.createElement("tr");
  head.append(...["投标人 Bidder", "报价 Price (元)", ...tender.terms.weights.map((_, i) => criterion(i)), "操作 Action"].map((t) => {
    const th = document.createElement("th"); th.textContent = t; return th;
  }));
  $("score-head").replaceChildren(head);
  // marks typed and not yet submitted survive a reload of the table (a session change reloads it)
  const typed = new Map([...$("bids").querySelectorAll("tr")].map((tr) => [tr.dataset.pseudonym, [...tr.querySelectorAll("input")].map((i) => i.value)]));
  $("bids").replaceChildren(...bids.map((bid) => row(bid, mine.get(bid.pseudonym), typed.get(bid.pseudonym))));
  $("scores-section").hidden = false;
  document.body.dataset.loaded = String(Date.now());
}

function row(bid, scored, typed) {
  const tr = document.createElement("tr");
  tr.dataset.pseudonym = bid.pseudonym;
  tr.dataset.scored = String(Boolean(scored));
  const name = bid.bid ? bid.bid.bidder_name : Show.short(bid.pseudonym);
  tr.append(Show.cell(name), Show.cell(bid.bid ? yuan(bid.bid.price_fen) : "—"));
  const inputs = tender.terms.weights.map((_, i) => {
    const input = document.createElement("input");
    input.type = "number"; input.min = "0"; input.max = "100"; input.step = "1"; input.required = true;
    input.setAttribute("aria-label", `${name}: ${criterion(i)}`);
    if (scored) { input.value = String(scored[i]); input.disabled = true; } else if (typed) { input.value = typed[i] ?? ""; }
    tr.append(Show.cell(input));
    return input;
  });
  const cell = Show.cell(scored ? "✔ 已签名提交 signed and submitted" : "");
  if (!scored) {
    const b = document.createElement("button");
    b.type = "button"; b.textContent = "Sign and submit 签名提交";
    b.setAttribute("aria-label", `Sign and submit 签名提交: ${name}`);
    action(b, () => submit(bid, name, inputs));
    cell.append(b);
  }
  tr.append(cell);
  return tr;
}

async function submit(bid, name, inputs) {
  const scores = inputs.map((input) => input.value.trim());
  if (scores.some((s) => !/^\d{1,3}$/.test(s) || Number(s) > 100)) {
    throw new Failure("每项评分须为 0–100 的整数。", "Each score must be a whole number from 0 to 100.");
  }
  const marks = scores.map(Number);
  const typed = typedData("Score", tender.ledger, { tenderId: TENDER, pseudonym: bid.pseudonym, scoresHash: scoresHash(marks) });
  const signature = await walletSign(typed);
  await api(`/v1/tenders/${TENDER}/scores`, { method: "POST", json: { pseudonym: bid.pseudonym, scores: marks, signature } });
  say("notice", `已提交对 ${name} 的评分。 Scores for ${name} signed and submitted.`);
  await load();
}

function start() {
  if (!/^0x[0-9a-fA-F]{64}$/.test(TENDER)) { showError(new Failure("无此招标。", "No such tender.")); return; }
  sessionBar((who) => {  // at once: the sign-in button works as soon as the page has loaded
    session = who;
    $("scores-section").hidden = true;
    load().catch(showError);
  });
}
start();
