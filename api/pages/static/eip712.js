// EIP-712 typed-data digests (what eth_signTypedData_v4 signs) and EIP-191 personal-message
// digests, computed in the page with the vendored @noble/hashes keccak: the dev wallet and /apply
// sign only digests they computed themselves, never one the server merely describes.
import { keccak_256 as keccak } from "/static/vendor/sha3.js";

export const utf8 = (text) => new TextEncoder().encode(text);
export const hex = (bytes) => "0x" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
export function fromHex(text) {
  const body = String(text).replace(/^0x/i, "");
  if (body.length % 2 || /[^0-9a-f]/i.test(body)) throw new Error(`not hex: ${String(text).slice(0, 20)}`);
  return Uint8Array.from(body.match(/../g) || [], (b) => parseInt(b, 16));
}
export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}
export { keccak };

const TWO256 = 1n << 256n;
function word(value) {
  let n = BigInt(value);
  if (n < 0n) n += TWO256;  // intN: two's complement
  if (n < 0n || n >= TWO256) throw new Error(`value out of range: ${value}`);
  return fromHex("0x" + n.toString(16).padStart(64, "0"));
}

const DOMAIN_FIELDS = [["name", "string"], ["version", "string"], ["chainId", "uint256"], ["verifyingContract", "address"], ["salt", "bytes32"]];

function withDomain(typed) {
  if (typed.types.EIP712Domain) return typed.types;
  const fields = DOMAIN_FIELDS.filter(([name]) => typed.domain[name] !== undefined).map(([name, type]) => ({ name, type }));
  return { ...typed.types, EIP712Domain: fields };
}

function dependencies(types, primary, found = new Set()) {
  const base = primary.replace(/\[\d*\]$/, "");
  if (found.has(base) || !types[base]) return found;
  found.add(base);
  for (const field of types[base]) dependencies(types, field.type, found);
  return found;
}

export function encodeType(types, primary) {
  const [first, ...rest] = [...dependencies(types, primary)];
  return [first, ...rest.sort()].map((name) => `${name}(${types[name].map((f) => `${f.type} ${f.name}`).join(",")})`).join("");
}

function encodeValue(types, type, value) {
  const array = type.match(/^(.*)\[(\d*)\]$/);
  if (array) {
    if (!Array.isArray(value)) throw new Error(`${type} needs an array`);
    if (array[2] && value.length !== Number(array[2])) throw new Error(`${type} needs ${array[2]} items`);
    return keccak(concat(...value.map((item) => encodeValue(types, array[1], item))));
  }
  if (types[type]) return hashStruct(types, type, value);
  if (type === "string") return keccak(utf8(value));
  if (type === "bytes") return keccak(fromHex(value));
  if (type === "bool") return word(value === true || value === "true" || value === 1 ? 1 : 0);
  if (type === "address") {
    if (!/^0x[0-9a-fA-F]{40}$/.test(value)) throw new Error(`not an address: ${value}`);
    return word(value);
  }
  const fixed = type.match(/^bytes(\d+)$/);
  if (fixed) {
    const bytes = fromHex(value);
    if (bytes.length > Number(fixed[1])) throw new Error(`${type} too long`);
    return concat(bytes, new Uint8Array(32 - bytes.length));
  }
  if (/^u?int\d*$/.test(type)) return word(value);
  throw new Error(`unsupported EIP-712 type ${type}`);
}

export function hashStruct(types, primary, data) {
  if (!data || typeof data !== "object") throw new Error(`${primary} needs an object`);
  const fields = types[primary].map((f) => encodeValue(types, f.type, data[f.name]));
  return keccak(concat(keccak(utf8(encodeType(types, primary))), ...fields));
}

// The digest eth_signTypedData_v4 signs: keccak256(0x19 0x01 || domainSeparator || hashStruct(message)).
export function typedDataDigest(typed) {
  const data = typeof typed === "string" ? JSON.parse(typed) : typed;
  if (!data || !data.types || !data.primaryType || !data.domain || !data.message) throw new Error("not EIP-712 typed data");
  const types = withDomain(data);
  if (!types[data.primaryType]) throw new Error(`no type ${data.primaryType}`);
  return keccak(concat(Uint8Array.of(0x19, 0x01), hashStruct(types, "EIP712Domain", data.domain), hashStruct(types, data.primaryType, data.message)));
}

// The digest personal_sign signs (EIP-191 version 0x45) of the message bytes.
export function personalDigest(message) {
  return keccak(concat(utf8(`\x19Ethereum Signed Message:\n${message.length}`), message));
}

// JSON with every integer too large for a double kept as a decimal string (consent nonces are 128-bit).
export function parseExact(text) {
  return JSON.parse(text.replace(/([:[,]\s*)(-?\d{16,})(?=\s*[,\]}])/g, '$1"$2"'));
}
