// Shared by /procurement, /tenders/{id}/bid and /tenders/{id}/score (an ES module): calls to the
// API that keep the problem's status and contract error, every failure said in Chinese and
// English, EIP-712 messages for TenderLedger built here (the page signs nothing the server only
// describes) and signed in the browser's EIP-1193 wallet, and keccak-256 / ABI encoding for the
// key commitment and the scores hash (the same steps as identity/tender712.py). keccak-256 is
// @noble/hashes, vendored in /static/vendor (no CDN). The page never holds a platform key.
/* global GovchainSession */  // govchain.js, loaded before this module
import { keccak_256 as keccak } from "/static/vendor/sha3.js";

export const $ = (id) => document.getElementById(id);
export const utf8 = (text) => new TextEncoder().encode(text);
export const hex = (bytes) => "0x" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
export function fromHex(text) {
  if (!/^0x([0-9a-fA-F]{2})*$/.test(text || "")) throw new Error(`not hex: ${text}`);
  return Uint8Array.from(text.slice(2).match(/../g) || [], (b) => parseInt(b, 16));
}
export const word = (value) => fromHex("0x" + BigInt(value).toString(16).padStart(64, "0"));
export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}
export const keccakHex = (bytes) => hex(keccak(bytes));

// keccak256(abi.encode(uint256 chainId, address ledger, bytes32 tenderId, address bidder, bytes32 key, bytes32 salt)):
// what TenderLedger.revealKey checks (identity.tender712.key_commitment).
export function keyCommitment(chainId, ledger, tenderId, bidder, key, salt) {
  return keccakHex(concat(word(chainId), word(ledger), fromHex(tenderId), word(bidder), fromHex(key), fromHex(salt)));
}

// keccak256 of the scores, each a 32-byte big-endian word (identity.tender712.scores_hash).
export function scoresHash(scores) {
  return keccakHex(concat(...scores.map((s) => word(s))));
}

// -- EIP-712 messages of TenderLedger (contracts/interfaces/ITenderLedger.sol) ----------------
const DOMAIN_FIELDS = [
  { name: "name", type: "string" }, { name: "version", type: "string" },
  { name: "chainId", type: "uint256" }, { name: "verifyingContract", type: "address" },
];
const TYPES = {
  SignIn: [{ name: "tenderId", type: "bytes32" }, { name: "pseudonym", type: "bytes32" }, { name: "bidder", type: "address" }],
  Objection: [{ name: "tenderId", type: "bytes32" }, { name: "pseudonym", type: "bytes32" }, { name: "objectionHash", type: "bytes32" }],
  Score: [{ name: "tenderId", type: "bytes32" }, { name: "pseudonym", type: "bytes32" }, { name: "scoresHash", type: "bytes32" }],
};
export function typedData(primaryType, ledger, message) {
  return {
    types: { EIP712Domain: DOMAIN_FIELDS, [primaryType]: TYPES[primaryType] }, primaryType,
    domain: { name: "govchain TenderLedger", version: "1", chainId: ledger.chain_id, verifyingContract: ledger.address },
    message,
  };
}

// -- failures, said in both languages ----------------------------------------------------------
export class Failure extends Error {
  constructor(zh, en, detail) {
    super(`${zh} ${en}${detail ? ` — ${detail}` : ""}`);
    this.zh = zh; this.en = en; this.detail = detail;
  }
}
const CONTRACT = {
  TenderLedgerBiddingClosed: ["投标已截止，未接受任何内容。", "Bidding has closed: nothing was accepted."],
  TenderLedgerKeyMismatch: ["密钥与投标时的承诺不符（密钥错误）。", "Wrong key: it does not match the commitment made with the bid."],
  TenderLedgerDecryptionClosed: ["解密时间已过，不能再提交密钥。", "The decryption window has closed: the key can no longer be released."],
  TenderLedgerDecryptionOpen: ["解密时间尚未结束。", "The decryption window is still open."],
  TenderLedgerTooEarly: ["尚未到开标时间。", "It is not yet the opening time."],
  TenderLedgerObjectionPeriodOpen: ["异议期尚未结束，暂不能发布结果。", "The objection period is not over: no result yet."],
  TenderLedgerObjectionsClosed: ["异议期已结束。", "The objection period is over."],
  TenderLedgerObjectionsOpen: ["尚有异议未答复，请先答复。", "Objections are still unanswered: answer them first."],
  TenderLedgerObjectionAnswered: ["该异议已答复。", "This objection was answered already."],
  TenderLedgerAlreadySignedIn: ["已签到。", "Already signed in."],
  TenderLedgerAlreadyScored: ["已对该投标评分。", "You scored this bid already."],
  TenderLedgerNotAnExpert: ["您不是本项目的评标专家。", "You are not on this tender's expert panel."],
  TenderLedgerNotSignedIn: ["请先签到。", "Sign in to the opening first."],
  TenderLedgerScoresMissing: ["专家评分尚未完成。", "Experts' scores are missing."],
  TenderLedgerScoringOpen: ["该专家的评分期限未到，暂不能更换。", "The expert's scoring deadline has not passed: it cannot be replaced yet."],
  TenderLedgerExpertDone: ["该专家已完成全部评分，不能更换。", "This expert has scored every bid: it cannot be replaced."],
  TenderLedgerDuplicateExpert: ["替换专家已在评标委员会中。", "The replacement is on the panel already."],
  TenderLedgerInvalidTimes: ["时间设置无效（截止时间须在将来）。", "Invalid times (the deadline must be in the future)."],
  TenderLedgerWrongState: ["当前阶段不能执行此操作。", "Not possible at this stage of the tender."],
  TenderLedgerWrongBidStatus: ["投标状态不允许此操作。", "The bid's state does not allow this."],
  TenderLedgerUnregisteredBidder: ["您不是已登记的投标人。", "You are not a registered bidder."],
  TenderLedgerConflictOfInterest: ["存在利益冲突（采购人或评标专家不能投标）。", "Conflict of interest (the agency or an expert cannot bid)."],
};
const STATUS = {
  400: ["请求无效。", "Bad request."], 401: ["登录已失效，请重新用钱包登录。", "Your sign-in expired: sign in with your wallet again."],
  403: ["无权执行此操作。", "You may not do this."], 404: ["未找到。", "Not found."],
  409: ["当前阶段不能执行此操作，未做任何更改。", "Refused at this stage; nothing was changed."],
  413: ["文件过大。", "The file is too large."], 422: ["输入有误，请检查。", "Invalid input: please check it."],
  429: ["操作过于频繁，请稍后再试。", "Too many requests: try again later."], 503: ["服务暂不可用，请稍后再试。", "The service is unavailable: try again later."],
};
function explain(status, body) {
  const failure = describe(status, body);
  failure.status = status;
  failure.code = body.error || null;  // the contract's error, when the contract refused
  return failure;
}
function describe(status, body) {
  const detail = body.detail || body.title || `the server answered ${status}`;
  if (body.error && CONTRACT[body.error]) return new Failure(...CONTRACT[body.error], detail);
  if (/^bidding on .* closed/.test(detail)) return new Failure(...CONTRACT.TenderLedgerBiddingClosed, detail);
  if (/objections to .* may be raised until/.test(detail)) return new Failure(...CONTRACT.TenderLedgerObjectionPeriodOpen, detail);
  if (/decryption window .* is open/.test(detail)) return new Failure("解密时间尚未结束，且仍有投标未提交密钥。", "The decryption window is open and some bids have no key yet.", detail);
  const [zh, en] = STATUS[status] || ["操作失败。", "Failed."];
  return new Failure(zh, en, detail);
}

export class AwaitingAgency extends Failure {
  constructor(body) {
    super("已生成签名请求：请在本机构自己的客户端中签署（govchain agency sign），签署前不会发生任何更改。",
      "A signature request was made: sign it in the agency's own client (govchain agency sign); nothing changes before.", body.detail || "");
    this.request = body;
  }
}

// The API with the signed-in wallet's bearer token (govchain.js); problems become Failures.
export async function api(path, { method = "GET", json, bytes, params } = {}) {
  const session = GovchainSession.current();
  if (!session) throw new Failure("请先用钱包登录。", "Please sign in with your wallet first.");
  const headers = { Authorization: `Bearer ${session.token}` };
  let body;
  if (json !== undefined) { headers["Content-Type"] = "application/json"; body = JSON.stringify(json); }
  if (bytes !== undefined) { headers["Content-Type"] = "application/octet-stream"; body = bytes; }
  const url = params ? `${path}?${new URLSearchParams(params)}` : path;
  let response;
  try {
    response = await fetch(url, { method, headers, body, cache: "no-store" });
  } catch (error) {
    throw new Failure("无法连接服务器，未做任何更改。", "Could not reach the server; nothing was changed.", String(error.message || error));
  }
  const answer = await response.json().catch(() => ({}));
  if (response.status === 401) { GovchainSession.signOut(); if (signedOut) signedOut(); }  // the page shows the sign-in button again
  if (response.status === 202) throw new AwaitingAgency(answer);
  if (!response.ok) throw explain(response.status, answer);
  return answer;
}

export async function publicJson(path) {
  const response = await fetch(path, { cache: "no-store" });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw explain(response.status, answer);
  return answer;
}

// Sign EIP-712 typed data in the wallet; a refusal is said as such (EIP-1193 code 4001 or any error).
export async function walletSign(typed) {
  const session = GovchainSession.current();
  if (!session) throw new Failure("请先用钱包登录。", "Please sign in with your wallet first.");
  if (!window.ethereum) throw new Failure("未检测到钱包。", "No wallet found in this browser.");
  try {
    return await window.ethereum.request({ method: "eth_signTypedData_v4", params: [session.address, JSON.stringify(typed)] });
  } catch (error) {
    throw new Failure("钱包拒绝了签名，未提交任何内容。", "The wallet refused to sign; nothing was sent.", String(error.message || error));
  }
}

// Sign in through the wallet (EIP-4361, govchain.js); failures in both languages.
export async function signIn() {
  try {
    return await GovchainSession.signIn();
  } catch (error) {
    const message = String(error.message || error);
    if (/No wallet found/.test(message)) throw new Failure("未检测到钱包，请安装或启用钱包。", "No wallet found in this browser (EIP-1193 window.ethereum).");
    throw new Failure("登录失败（钱包未签名或服务器拒绝）。", "Sign-in failed (the wallet did not sign, or the server refused).", message);
  }
}

export function showError(error) {
  const box = $("error");
  box.hidden = false;
  box.textContent = String(error.message || error);
  box.dataset.kind = error instanceof AwaitingAgency ? "awaiting" : "error";
  box.scrollIntoView({ block: "nearest" });
}
export function clearError() { $("error").hidden = true; $("error").textContent = ""; }
export function say(id, text) { const el = $(id); el.hidden = false; el.textContent = text; }

// Disable a button while its action runs; show its failure on the page.
export function action(button, run) {
  button.addEventListener("click", async () => {
    if (button.disabled) return;
    button.disabled = true;
    clearError();
    try { await run(); } catch (error) { showError(error); } finally { button.disabled = false; }
  });
}

export const yuan = (fen) => (Number(fen) / 100).toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
export const STATES = {
  bidding: "投标中 Bidding", failed: "流标 Failed (too few bids)", opened: "开标中 Opening",
  read: "已唱标 Read", decided: "已定标 Decided", none: "—",
};

// The shared session bar: sign in / out, the address shown.
let signedOut = null;
export function sessionBar(onChange) {
  signedOut = () => show(null);
  const show = (session) => {
    $("signed-out").hidden = $("sign-in").hidden = Boolean(session);
    $("signed-in").hidden = $("sign-out").hidden = !session;
    $("address").textContent = session ? session.address : "";
    onChange(session);
  };
  action($("sign-in"), async () => show(await signIn()));
  $("sign-out").addEventListener("click", () => { GovchainSession.signOut(); show(null); });
  show(GovchainSession.current());
}
