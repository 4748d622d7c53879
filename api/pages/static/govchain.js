// Shared by /me, /audit and /tenders/{id}: Sign-In with Ethereum (EIP-4361) through the
// browser's EIP-1193 wallet (window.ethereum), and small display helpers. The page never sees
// a key: the wallet signs the server's message (personal_sign); the page keeps only the
// short-lived bearer token, in sessionStorage.
"use strict";
const GovchainSession = (() => {
  const KEY = "govchain.session";

  function current() {
    try {
      const saved = JSON.parse(sessionStorage.getItem(KEY));
      if (saved && saved.token && Date.parse(saved.expires_at) > Date.now() + 5000) return saved;
    } catch { /* unreadable: sign in again */ }
    sessionStorage.removeItem(KEY);
    return null;
  }

  async function problem(response) {
    const body = await response.json().catch(() => ({}));
    return new Error(body.detail || body.title || `the server answered ${response.status}`);
  }

  async function postJson(path, body) {
    const response = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    if (!response.ok) throw await problem(response);
    return response.json();
  }

  function utf8Hex(text) {
    return "0x" + Array.from(new TextEncoder().encode(text), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  async function signIn() {
    const wallet = window.ethereum;
    if (!wallet || typeof wallet.request !== "function") {
      throw new Error("No wallet found in this browser (EIP-1193 window.ethereum). 未检测到钱包，请安装或启用钱包。");
    }
    const [address] = await wallet.request({ method: "eth_requestAccounts" });
    if (!address) throw new Error("the wallet offered no account 钱包未提供账户");
    const challenge = await postJson("/v1/auth/challenge", { address });
    // Sign only a message bound to this very site (what EIP-4361 wallets check too).
    if (!challenge.message.startsWith(`${location.host} wants you to sign in with your Ethereum account:\n`)) {
      throw new Error(`the sign-in message is not for ${location.host}; not signing`);
    }
    const signature = await wallet.request({ method: "personal_sign", params: [utf8Hex(challenge.message), address] });
    const token = await postJson("/v1/auth/token", { message: challenge.message, signature });
    const session = { token: token.access_token, address: token.address, roles: token.roles, expires_at: token.expires_at };
    sessionStorage.setItem(KEY, JSON.stringify(session));
    return session;
  }

  function signOut() {
    sessionStorage.removeItem(KEY);
  }

  // GET or POST the API with the bearer token; a 401 ends the session.
  async function api(path, { method = "GET", body } = {}) {
    const session = current();
    if (!session) throw new Error("please sign in 请先登录");
    const headers = { Authorization: `Bearer ${session.token}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (response.status === 401) signOut();
    if (!response.ok) throw await problem(response);
    return response.json();
  }

  async function signTypedData(typedData) {
    const session = current();
    if (!session || !window.ethereum) throw new Error("please sign in 请先登录");
    return window.ethereum.request({ method: "eth_signTypedData_v4", params: [session.address, JSON.stringify(typedData)] });
  }

  return { current, signIn, signOut, api, signTypedData };
})();

// Small helpers the pages share.
const Show = {
  time(seconds) {
    if (!seconds) return "—";
    const d = new Date(seconds * 1000);
    const pad = (n) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  },
  short(hex) {
    return /^0x[0-9a-fA-F]{12,}$/.test(hex || "") ? `${hex.slice(0, 8)}…${hex.slice(-4)}` : hex || "";
  },
  cell(content, title) {
    const td = document.createElement("td");
    if (content instanceof Node) td.append(content); else td.textContent = content ?? "";
    if (title) td.title = title;
    return td;
  },
  code(text, title) {
    const code = document.createElement("code");
    code.textContent = Show.short(text);
    code.title = title || text;
    code.dataset.full = text;
    return code;
  },
};
