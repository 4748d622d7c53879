// DEV ONLY (GOVCHAIN_ENV=dev; the server answers 404 for this file elsewhere): a built-in EIP-1193
// wallet, so a new user can walk every journey without a wallet extension. Any page loads it with
//   <script type="module" src="/static/devwallet.js"></script>
// It steps aside when the browser already has a wallet (window.ethereum). Each tab chooses its
// account (sessionStorage). Keys: "my own key", generated here and kept in this browser's localStorage, or a dev party's key derived here
// (BIP-39/BIP-32, m/44'/60'/0'/0/i) from the public test mnemonic served by GET /dev/wallet.json.
// It answers eth_requestAccounts, eth_accounts, eth_chainId, personal_sign and
// eth_signTypedData_v4, asking before each signature (refusing gives EIP-1193 error 4001).
import * as secp from "/static/vendor/secp256k1.js";
import { concat, fromHex, hex, keccak, personalDigest, typedDataDigest, utf8 } from "/static/eip712.js";

const OWN = "own";
const STORE = { key: "govchain.devwallet.key", account: "govchain.devwallet.account", ask: "govchain.devwallet.ask" };
const ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141n;

// -- keys -------------------------------------------------------------------------------------
async function hmacSha512(key, data) {
  const imported = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-512" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", imported, data));
}

async function mnemonicSeed(mnemonic) {  // BIP-39: PBKDF2-HMAC-SHA512, 2048 rounds, salt "mnemonic" (no passphrase)
  const password = await crypto.subtle.importKey("raw", utf8(mnemonic.normalize("NFKD")), "PBKDF2", false, ["deriveBits"]);
  return new Uint8Array(await crypto.subtle.deriveBits({ name: "PBKDF2", salt: utf8("mnemonic"), iterations: 2048, hash: "SHA-512" }, password, 512));
}

const big = (bytes) => BigInt(hex(bytes));
const bytes32 = (n) => fromHex("0x" + n.toString(16).padStart(64, "0"));

async function derivePath(seed, path) {  // BIP-32 private derivation
  let I = await hmacSha512(utf8("Bitcoin seed"), seed);
  let key = I.slice(0, 32), chain = I.slice(32);
  for (const part of path.split("/").slice(1)) {
    const hardened = part.endsWith("'");
    const index = (Number.parseInt(part, 10) + (hardened ? 0x80000000 : 0)) >>> 0;
    const data = concat(hardened ? concat(Uint8Array.of(0), key) : secp.getPublicKey(key, true), Uint8Array.of(index >>> 24, (index >>> 16) & 255, (index >>> 8) & 255, index & 255));
    I = await hmacSha512(chain, data);
    const child = (big(I.slice(0, 32)) + big(key)) % ORDER;
    if (big(I.slice(0, 32)) >= ORDER || child === 0n) throw new Error("invalid BIP-32 child; use the next index");
    key = bytes32(child); chain = I.slice(32);
  }
  return key;
}

const addressOf = (key) => {
  const raw = hex(keccak(secp.getPublicKey(key, false).slice(1)).slice(12)).slice(2);
  const digest = hex(keccak(utf8(raw))).slice(2);  // EIP-55 checksum
  return "0x" + [...raw].map((c, i) => (parseInt(digest[i], 16) >= 8 ? c.toUpperCase() : c)).join("");
};

function ownKey() {
  let saved = localStorage.getItem(STORE.key);
  if (!saved || !/^0x[0-9a-f]{64}$/.test(saved)) {
    saved = hex(secp.utils.randomSecretKey());
    localStorage.setItem(STORE.key, saved);
  }
  return fromHex(saved);
}

let config = null;      // GET /dev/wallet.json
let seed = null;
const derived = new Map();  // party -> key

async function loadConfig() {
  if (!config) {
    const response = await fetch("/dev/wallet.json", { cache: "no-store" });
    if (!response.ok) throw rpcError(4900, "the dev wallet is available in dev only 开发钱包仅用于开发环境");
    config = await response.json();
  }
  return config;
}

async function keyOf(account) {
  if (account === OWN) return ownKey();
  if (!derived.has(account)) {
    const cfg = await loadConfig();
    const entry = cfg.accounts.find((a) => a.party === account);
    if (!entry) throw rpcError(4100, `no dev account ${account}`);
    seed = seed || await mnemonicSeed(cfg.mnemonic);
    derived.set(account, await derivePath(seed, `m/44'/60'/0'/0/${entry.index}`));
  }
  return derived.get(account);
}

const selected = () => sessionStorage.getItem(STORE.account) || OWN;  // per tab: the applicant in one, the agency in another
const asking = () => localStorage.getItem(STORE.ask) !== "no";

// -- EIP-1193 -----------------------------------------------------------------------------------
function rpcError(code, message) {
  const error = new Error(message);
  error.code = code;
  return error;
}

const listeners = {};
function emit(event, value) { for (const fn of listeners[event] || []) { try { fn(value); } catch { /* a listener's own error */ } } }

async function signDigest(digest, key) {
  const signature = await secp.signAsync(digest, key, { prehash: false, format: "recovered" });
  return hex(concat(signature.slice(1), Uint8Array.of(27 + signature[0])));
}

async function approve(address, what, summary) {
  if (asking() && !window.confirm(`开发钱包 Dev wallet — ${address}\n\n${what}\n\n${summary}\n\n签名？ Sign?`)) {
    throw rpcError(4001, "The dev wallet refused to sign (you declined). 钱包拒绝签名（您已取消）。");
  }
}

async function checkSigner(address) {
  const key = await keyOf(selected());
  if (String(address).toLowerCase() !== addressOf(key).toLowerCase()) {
    throw rpcError(4100, `the dev wallet holds ${addressOf(key)}, not ${address} 开发钱包当前账户不是 ${address}`);
  }
  return key;
}

function readable(bytes) {
  try { return new TextDecoder("utf-8", { fatal: true }).decode(bytes); } catch { return hex(bytes); }
}

async function request({ method, params = [] } = {}) {
  switch (method) {
    case "eth_requestAccounts":
    case "eth_accounts":
      return [addressOf(await keyOf(selected()))];
    case "eth_chainId":
      return "0x" + Number((await loadConfig()).chain_id).toString(16);
    case "personal_sign": {
      const [message, address] = params;
      const key = await checkSigner(address);
      const bytes = /^0x[0-9a-fA-F]*$/.test(message) ? fromHex(message) : utf8(message);
      await approve(address, "签署消息 Sign this message:", readable(bytes));
      return signDigest(personalDigest(bytes), key);
    }
    case "eth_signTypedData_v4": {
      const [address, typed] = params;
      const key = await checkSigner(address);
      const data = typeof typed === "string" ? JSON.parse(typed) : typed;
      const digest = typedDataDigest(data);  // computed here: what is shown is what is signed
      await approve(address, `签署 Sign ${data.primaryType} (EIP-712, ${data.domain.name || ""}):`, JSON.stringify(data.message, null, 1));
      return signDigest(digest, key);
    }
    default:
      throw rpcError(4200, `the dev wallet does not support ${method} 开发钱包不支持 ${method}`);
  }
}

// -- the panel ------------------------------------------------------------------------------------
function element(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, props);
  node.append(...children);
  return node;
}

async function panel() {
  const choose = element("select", { id: "devwallet-account" });
  const address = element("code", { id: "devwallet-address" });
  const ask = element("input", { type: "checkbox", id: "devwallet-ask", checked: asking() });
  const fresh = element("button", { type: "button", className: "secondary", textContent: "新密钥 New key" });
  choose.append(element("option", { value: OWN, textContent: "我的密钥（本浏览器生成） My own key (made in this browser)" }));
  const box = element("aside", { className: "devwallet", id: "devwallet" },
    element("strong", { textContent: "开发钱包 Dev wallet" }), " ",
    element("span", { className: "muted", textContent: "仅开发环境；助记词公开 dev only, public mnemonic" }),
    element("div", {},
      element("label", { htmlFor: "devwallet-account", textContent: "账户 Account " }), choose),
    element("div", {}, address),
    element("div", {}, ask, element("label", { htmlFor: "devwallet-ask", textContent: " 签名前询问 Ask before signing" }), " ", fresh));
  document.body.prepend(box);  // a bar above the page, covering nothing
  const show = async () => { address.textContent = addressOf(await keyOf(selected())); };
  try {
    for (const a of (await loadConfig()).accounts) choose.append(element("option", { value: a.party, textContent: `${a.party} #${a.index} ${a.name}` }));
  } catch (error) { address.textContent = error.message; return; }
  choose.value = selected();
  choose.addEventListener("change", async () => {
    sessionStorage.setItem(STORE.account, choose.value);
    await show();
    emit("accountsChanged", [address.textContent]);
  });
  ask.addEventListener("change", () => localStorage.setItem(STORE.ask, ask.checked ? "yes" : "no"));
  fresh.addEventListener("click", async () => {
    if (!window.confirm("Forget my own dev key and make a new one? 丢弃当前开发密钥并生成新的？")) return;
    localStorage.removeItem(STORE.key);
    if (selected() === OWN) { await show(); emit("accountsChanged", [address.textContent]); }
  });
  await show();
  box.dataset.ready = "true";
}

if (!window.ethereum) {
  window.ethereum = {
    isGovchainDevWallet: true,
    request,
    on(event, fn) { (listeners[event] = listeners[event] || []).push(fn); },
    removeListener(event, fn) { listeners[event] = (listeners[event] || []).filter((f) => f !== fn); },
    // for scripts and tests: the accounts this wallet can use, and which is selected
    async accounts() { const cfg = await loadConfig(); return Promise.all([OWN, ...cfg.accounts.map((a) => a.party)].map(async (p) => ({ party: p, address: addressOf(await keyOf(p)) }))); },
    select(party) { sessionStorage.setItem(STORE.account, party); const s = document.getElementById("devwallet-account"); if (s) s.value = party; return request({ method: "eth_accounts" }); },
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", panel); else panel();
}
