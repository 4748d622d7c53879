// Shared by /apply and /agency (a module): the signed-in session bar, API calls with the bearer
// token, and every failure said in both languages. Sign-in itself is govchain.js (EIP-4361 through
// the browser's EIP-1193 wallet, or the dev wallet in dev).
import { parseExact } from "/static/eip712.js";

export const $ = (id) => document.getElementById(id);

const STATUS_TEXT = {
  400: "请求被拒绝 The request was refused", 401: "登录已过期，请重新登录 Your sign-in expired; sign in again",
  403: "无权进行此操作 You may not do this", 404: "未找到 Not found", 409: "当前状态下无法进行此操作 Not possible in the current state",
  413: "文件过大 The file is too large", 422: "填写的内容有误 Something entered is not valid",
  429: "操作过于频繁，请稍后再试 Too many attempts; try again later", 503: "服务暂不可用，请稍后重试 A service is unavailable now; try again",
};

export class Refused extends Error {
  constructor(status, problem) {
    const detail = problem.detail || problem.title || "";
    super(`${STATUS_TEXT[status] || `操作未完成 The step was not done (${status})`}${detail ? `: ${detail}` : ""}`);
    this.status = status; this.problem = problem;
  }
}

// A wallet's refusal (EIP-1193 4001) or failure, said in both languages.
export function walletError(error) {
  if (error && (error.code === 4001 || /reject|denied|declin|refused/i.test(error.message || ""))) {
    return new Error(`钱包拒绝签名，未做任何更改 The wallet refused to sign; nothing was changed. (${error.message || error})`);
  }
  return error instanceof Error ? error : new Error(String(error));
}

export async function call(path, { method = "GET", body, raw = false } = {}) {
  const session = GovchainSession.current();
  if (!session) throw new Error("请先登录 Please sign in first");
  const headers = { Authorization: `Bearer ${session.token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (response.status === 401) GovchainSession.signOut();
  if (!response.ok) throw new Refused(response.status, await response.json().catch(() => ({})));
  if (raw) return response;
  const text = await response.text();
  return text ? parseExact(text) : null;  // big integers (consent nonces) kept exact
}

export function fail(error) {
  $("error").hidden = false;
  $("error").textContent = String((error && error.message) || error);
  document.body.dataset.failed = String(Date.now());
}

export function clearError() { $("error").hidden = true; $("error").textContent = ""; }

export function say(text) {
  $("notice").hidden = !text;
  $("notice").textContent = text || "";
}

export function badge(text, tone = "neutral") {
  const span = document.createElement("span");
  span.className = `badge ${tone}`;
  span.textContent = text;
  return span;
}

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "dataset") Object.assign(node.dataset, value); else if (key in node) node[key] = value; else node.setAttribute(key, value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

export function button(text, onClick, { secondary = false, ...props } = {}) {
  const b = el("button", { type: "button", textContent: text, ...props });
  if (secondary) b.className = "secondary";
  b.addEventListener("click", async () => {
    b.disabled = true;
    try { clearError(); await onClick(); } catch (error) { fail(walletError(error)); } finally { b.disabled = false; }
  });
  return b;
}

// The session bar: sign in through the wallet, sign out; ``onChange(session)`` after each.
export function sessionBar(onChange) {
  const show = (session) => {
    $("signed-out").hidden = $("sign-in").hidden = Boolean(session);
    $("signed-in").hidden = $("sign-out").hidden = !session;
    $("address").textContent = session ? session.address : "";
  };
  $("sign-in").addEventListener("click", async () => {
    $("sign-in").disabled = true;
    clearError();
    try { const session = await GovchainSession.signIn(); show(session); await onChange(session); } catch (error) { fail(walletError(error)); } finally { $("sign-in").disabled = false; }
  });
  $("sign-out").addEventListener("click", async () => { GovchainSession.signOut(); show(null); await onChange(null); });
  const session = GovchainSession.current();
  show(session);
  return session;
}

export const CATEGORIES = { id_card: "身份证 ID card", household_register: "户籍 household register", residence_permit: "居住证 residence permit" };
export const ATTRIBUTES = {
  name: "姓名 name", id_number: "身份证号 ID number", sex: "性别 sex", birth_date: "出生日期 date of birth", valid_until: "有效期至 valid until",
  registered_address: "户籍地址 registered address", registration_district: "户籍所在区 registration district",
  permit_number: "居住证号 permit number", residence_district: "居住区 district of residence",
};
export const STATES = {
  draft: "草稿 draft", face_verified: "已核验身份 face checked", consented: "已授权 consented", data_pulled: "已调取数据 data pulled",
  submitted: "已提交 submitted", approved: "已批准 approved", rejected: "未予批准 rejected", issued: "已发证 issued", delivered: "已送达 delivered",
};
export const time = (value) => (typeof value === "number" ? Show.time(value) : value ? Show.time(Date.parse(value) / 1000) : "—");

// A blob URL for an authenticated download, set on ``link`` (so it is a real link with a file name).
export async function downloadLink(link, path, filename) {
  const response = await call(path, { raw: true });
  if (link.href.startsWith("blob:")) URL.revokeObjectURL(link.href);
  link.href = URL.createObjectURL(await response.blob());
  link.download = filename;
  link.hidden = false;
}
