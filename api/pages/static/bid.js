// The /tenders/{id}/bid page (an ES module): a registered bidder seals its bid file here with
// WebCrypto (AES-256-GCM, a fresh 256-bit key, the tender and pseudonym bound as AAD, exactly as
// identity/bids.py), uploads only the ciphertext with its key commitment, keeps the platform's
// signed receipt, replaces or withdraws before the deadline; at the opening it signs in (EIP-712
// SignIn, in the wallet) and releases the key. The key stays in this browser's localStorage
// until then (with a warning, and a backup to download); a replacement's new key is kept beside
// the old one until the platform has accepted it, so a failed upload leaves the old bid and key.
/* global Show */  // govchain.js
import {
  $, Failure, STATES, action, api, clearError, concat, fromHex, hex, keccakHex, keyCommitment,
  publicJson, say, sessionBar, showError, typedData, utf8, walletSign, yuan,
} from "/static/procurement-kit.js";

const TENDER = location.pathname.split("/")[2];
let tender = null, session = null, pseudonym = null;

const storageKey = () => `govchain.bid.${TENDER}.${session.address.toLowerCase()}`;
function saved() {
  try { return JSON.parse(localStorage.getItem(storageKey())) || null; } catch { return null; }
}
function save(record) {
  if (record) localStorage.setItem(storageKey(), JSON.stringify(record)); else localStorage.removeItem(storageKey());
}

function link(id, name, value) {
  const a = $(id);
  if (a.href.startsWith("blob:")) URL.revokeObjectURL(a.href);
  a.href = URL.createObjectURL(new Blob([JSON.stringify(value, null, 2)], { type: "application/json" }));
  a.download = name;
}

function backup(record) {
  return { what: "govchain bid key backup — keep it secret until the opening 投标密钥备份，开标前请保密", tender_id: TENDER,
    bidder: session.address, pseudonym: record.pseudonym, key: record.key, salt: record.salt, key_commitment: record.key_commitment,
    chain_id: tender.ledger.chain_id, ledger: tender.ledger.address };
}

async function loadTender() {
  tender = await publicJson(`/v1/tenders/${TENDER}`);
  $("tender").hidden = false;
  $("title").textContent = tender.title;
  $("reference").textContent = tender.reference;
  $("state").textContent = STATES[tender.state] || tender.state;
  document.body.dataset.state = tender.state;
  $("hall-link").href = `/tenders/${TENDER}`;
  const t = tender.terms;
  const rows = [["投标截止 Bid deadline", Show.time(t.bid_deadline)], ["开标时间 Opening", Show.time(t.opening_time)],
    ["解密截止 Decryption ends", Show.time(t.decryption_end)]];
  $("terms").replaceChildren(...rows.flatMap(([k, v]) => {
    const dt = document.createElement("dt"); dt.textContent = k;
    const dd = document.createElement("dd"); dd.textContent = v;
    return [dt, dd];
  }));
}

function draw() {
  const record = session && saved();
  const signed = Boolean(session);
  $("mine").hidden = !signed;
  const bidding = tender && tender.state === "bidding";
  $("bid-section").hidden = !signed || !bidding;
  const chainBid = tender && (tender.bids || []).find((b) => b.pseudonym === pseudonym);
  const inOpening = Boolean(signed && tender && tender.state === "opened" && chainBid && chainBid.status !== "withdrawn");
  $("opening-section").hidden = !inOpening;
  if (inOpening) {
    $("opening-sign-in").hidden = Boolean(chainBid.bidder);
    $("release").hidden = !chainBid.bidder || chainBid.status !== "committed";
  }
  $("objection-section").hidden = !signed || !tender || !["opened", "read"].includes(tender.state) || !chainBid;
  if (!signed) return;
  $("pseudonym").textContent = pseudonym || "…";
  let status = "尚未投标 No bid yet";
  if (record && record.withdrawn) status = "已撤回 Withdrawn";
  else if (record && record.receipt) status = `已提交 Submitted (version 版本 ${record.receipt.version}, ${Show.time(record.receipt.received_at)})`;
  if (chainBid) status = `${status} · 链上 on chain: ${chainBid.status}${chainBid.bidder ? " · 已签到 signed in" : ""}`;
  $("my-status").textContent = status;
  document.body.dataset.bid = record ? (record.withdrawn ? "withdrawn" : "submitted") : "none";
  const holding = Boolean(tender && record && record.key && record.receipt && !record.withdrawn);
  $("key-warning").hidden = $("downloads").hidden = !holding;
  if (holding) {
    link("key-download", `bid-key-${tender.reference}.json`, backup(record));
    link("receipt-download", `bid-receipt-${tender.reference}-v${record.receipt.version}.json`, record.receipt);
  }
  $("receipt-details").hidden = !(record && record.receipt);
  $("receipt").textContent = record && record.receipt ? JSON.stringify(record.receipt, null, 2) : "";
  $("withdraw").hidden = !(record && record.receipt && !record.withdrawn);
  $("bid-heading").textContent = record && record.receipt && !record.withdrawn ? "替换投标文件 Replace the bid file" : "投标文件 Bid file";
  $("seal").textContent = record && record.receipt && !record.withdrawn ? "Seal and replace 加密并替换" : "Seal and upload 加密并提交";
}

async function refresh() {
  await loadTender();
  if (session) pseudonym = (await api(`/v1/tenders/${TENDER}/pseudonym`)).pseudonym;
  draw();
}

// -- sealing (identity/bids.py: nonce || AES-256-GCM(key, nonce, JSON, aad = "govchain bid\0" || tender || pseudonym)) --
function bidJson() {
  const name = $("bidder-name").value.trim();
  const price = $("price").value.trim();
  if (!name) throw new Failure("请填写投标人名称。", "Enter the bidder's name.");
  if (!/^[0-9]+(\.[0-9]{1,2})?$/.test(price) || Number(price) <= 0) throw new Failure("投标报价须为正数，最多两位小数。", "The price must be a positive amount in yuan, with at most two decimals.");
  const [whole, cents = ""] = price.split(".");
  const fen = Number(whole) * 100 + Number(cents.padEnd(2, "0"));
  const items = {};
  for (const line of $("items").value.split("\n").map((l) => l.trim()).filter(Boolean)) {
    const at = line.search(/[:：]/);
    if (at <= 0) throw new Failure(`其他内容格式应为“名称：内容”：${line}`, `Each item line must be "name: value": ${line}`);
    items[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  const sorted = (o) => Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));
  return JSON.stringify({ bidder: name, items: sorted(items), price_fen: fen });
}

async function seal(plaintext) {
  if (!window.crypto || !crypto.subtle) {
    throw new Failure("此浏览器环境不能加密（需要 HTTPS 或本机地址）。", "This browser cannot encrypt here (WebCrypto needs HTTPS or localhost).");
  }
  const key = crypto.getRandomValues(new Uint8Array(32)), salt = crypto.getRandomValues(new Uint8Array(32));
  const nonce = crypto.getRandomValues(new Uint8Array(12));
  const aad = concat(utf8("govchain bid\0"), fromHex(TENDER), fromHex(pseudonym));
  const aes = await crypto.subtle.importKey("raw", key, { name: "AES-GCM" }, false, ["encrypt"]);
  const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv: nonce, additionalData: aad, tagLength: 128 }, aes, utf8(plaintext)));
  const ciphertext = concat(nonce, sealed);
  const commitment = keyCommitment(tender.ledger.chain_id, tender.ledger.address, TENDER, session.address, hex(key), hex(salt));
  return { ciphertext, key: hex(key), salt: hex(salt), key_commitment: commitment };
}

async function upload(event) {
  event.preventDefault();
  const plaintext = bidJson();
  await loadTender();
  if (tender.state !== "bidding") throw new Failure("投标已截止，未接受任何内容。", "Bidding has closed: nothing was accepted.");
  // past the deadline but not yet opened: the platform's and the chain's clocks decide (409, said below)
  const sealed = await seal(plaintext);
  const before = saved();
  // the new key is written before the upload (a crash mid-upload must not lose the key of an accepted bid),
  // beside the old one; it replaces the old one only once the platform has accepted the new file
  save({ ...(before || {}), pending: { key: sealed.key, salt: sealed.salt, key_commitment: sealed.key_commitment } });
  let receipt;
  try {
    receipt = await api(`/v1/tenders/${TENDER}/bids`, { method: "POST", bytes: sealed.ciphertext, params: { key_commitment: sealed.key_commitment } });
  } catch (error) {
    save(before);  // refused: the old bid (if any) and its key stay as they were
    draw();
    throw error;
  }
  if (receipt.key_commitment !== sealed.key_commitment.toLowerCase() || receipt.ciphertext_hash !== hex(new Uint8Array(await crypto.subtle.digest("SHA-256", sealed.ciphertext)))) {
    save({ pseudonym: receipt.pseudonym, key: sealed.key, salt: sealed.salt, key_commitment: sealed.key_commitment, receipt, withdrawn: false });
    throw new Failure("回执与提交的内容不符，请联系平台。", "The receipt does not match what was uploaded; contact the platform.");
  }
  save({ pseudonym: receipt.pseudonym, key: sealed.key, salt: sealed.salt, key_commitment: sealed.key_commitment, receipt, withdrawn: false });
  draw();  // the backup and receipt links name the new key at once
  say("notice", `投标已提交（版本 ${receipt.version}），请下载密钥备份。 Bid submitted (version ${receipt.version}); download the key backup.`);
  await refresh();
}

async function withdraw() {
  if (!window.confirm("Withdraw your bid? 确认撤回投标？")) return;
  await api(`/v1/tenders/${TENDER}/bids/mine`, { method: "DELETE" });
  const record = saved();
  save({ pseudonym: record.pseudonym, receipt: record.receipt, withdrawn: true });  // the key of a withdrawn bid is of no use
  draw();
  say("notice", "投标已撤回。 Your bid is withdrawn.");
  await refresh();
}

async function signInToOpening() {
  const signature = await walletSign(typedData("SignIn", tender.ledger, { tenderId: TENDER, pseudonym, bidder: session.address }));
  await api(`/v1/tenders/${TENDER}/sign-in`, { method: "POST", json: { signature } });
  say("opening-result", "已签到。 Signed in to the opening.");
  await refresh();
}

async function release() {
  const record = saved();
  const commits = (c) => keyCommitment(tender.ledger.chain_id, tender.ledger.address, TENDER, session.address, c.key, c.salt) === (c.key_commitment || "").toLowerCase();
  // the accepted bid's key; and a replacement's key kept beside it, should the browser have stopped
  // after the platform accepted the replacement but before the page saved its receipt
  const candidates = record ? [record, record.pending].filter((c) => c && c.key && c.salt && commits(c)) : [];
  if (!record || !record.key) throw new Failure("本浏览器中没有此投标的密钥，请从备份恢复。", "This browser holds no key for this bid: restore it from your backup.");
  if (!candidates.length) {
    throw new Failure("密钥错误：与投标时的承诺不符，未提交。", "Wrong key: it does not match the commitment made with the bid; nothing was sent.");
  }
  let outcome = null;
  for (const [i, candidate] of candidates.entries()) {
    try {
      outcome = await api(`/v1/tenders/${TENDER}/key`, { method: "POST", json: { key: candidate.key, salt: candidate.salt } });
    } catch (error) {
      if (error.code === "TenderLedgerKeyMismatch" && i + 1 < candidates.length) continue;  // refused before anything was sent: try the next
      throw error;
    }
    if (candidate !== record) save({ ...record, key: candidate.key, salt: candidate.salt, key_commitment: candidate.key_commitment, pending: undefined });
    break;
  }
  $("opening-result").dataset.decrypted = String(outcome.decrypted);
  say("opening-result", outcome.decrypted
    ? "密钥已提交，可以打开您的投标文件；所有投标可解密后统一唱标。 Key released: it opens your bid file. Bids are read once every bid can be opened."
    : `密钥已提交，但未能打开投标文件。 Key released, but it does not open the stored file (${outcome.cause}).`);
  await refresh();
}

async function restore() {
  const file = $("restore").files[0];
  if (!file) return;
  let copy;
  try { copy = JSON.parse(await file.text()); } catch { throw new Failure("备份文件无法读取。", "The backup file cannot be read."); }
  $("restore").value = "";
  if (!copy || copy.tender_id !== TENDER || !/^0x[0-9a-fA-F]{64}$/.test(copy.key || "") || !/^0x[0-9a-fA-F]{64}$/.test(copy.salt || "")) {
    throw new Failure("这不是本项目的密钥备份。", "This is not a key backup for this tender.");
  }
  const expected = keyCommitment(tender.ledger.chain_id, tender.ledger.address, TENDER, session.address, copy.key, copy.salt);
  if (expected !== String(copy.key_commitment).toLowerCase()) {
    throw new Failure("密钥错误：备份与此钱包的投标不符。", "Wrong key: the backup does not belong to this wallet's bid.");
  }
  const record = saved() || {};
  save({ ...record, pseudonym: copy.pseudonym, key: copy.key, salt: copy.salt, key_commitment: expected, withdrawn: false });
  say("notice", "密钥已从备份恢复。 Key restored from the backup.");
  draw();
}

async function object() {
  const text = $("objection").value.trim();
  if (!text) throw new Failure("请填写异议内容。", "Write your objection first.");
  const objectionHash = keccakHex(utf8(text));
  const signature = await walletSign(typedData("Objection", tender.ledger, { tenderId: TENDER, pseudonym, objectionHash }));
  const raised = await api(`/v1/tenders/${TENDER}/objections`, { method: "POST", json: { text, signature } });
  $("objection").value = "";
  say("notice", `异议已提出（第 ${raised.index + 1} 项）。 Objection raised (number ${raised.index + 1}).`);
}

$("bid-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = $("seal");
  if (button.disabled) return;
  button.disabled = true;
  clearError();
  $("notice").hidden = true;
  try { await upload(event); } catch (error) { showError(error); } finally { button.disabled = false; }
});
action($("withdraw"), withdraw);
action($("opening-sign-in"), signInToOpening);
action($("release"), release);
action($("object"), object);
$("restore").addEventListener("change", () => restore().catch(showError));

function start() {
  if (!/^0x[0-9a-fA-F]{64}$/.test(TENDER)) { showError(new Failure("无此招标。", "No such tender.")); return; }
  sessionBar((current) => {  // at once: the sign-in button works as soon as the page has loaded
    session = current;
    pseudonym = null;
    draw();
    (current ? refresh() : loadTender().then(draw)).catch(showError);
  });
  setInterval(() => { if (!document.hidden && tender) loadTender().then(draw).catch(() => {}); }, 3000);
}
start();
