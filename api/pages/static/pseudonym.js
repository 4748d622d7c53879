// A consent's pseudonym key, derived in the page (the same steps as identity/pseudonym.py) and
// used to sign that consent's revocation. The wallet signs the fixed root message (personal_sign);
// key = keccak256("govchain consent pseudonym v1" || root signature || salt). The root signature
// and the key never leave this page. Libraries: @noble/secp256k1 3.2.0 and @noble/hashes 2.4.0,
// vendored in /static/vendor (copied unchanged from the pinned npm packages; no CDN).
import * as secp from "/static/vendor/secp256k1.js";
import { keccak_256 as keccak } from "/static/vendor/sha3.js";

const TAG = "govchain consent pseudonym v1";
const ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141n;
const utf8 = (text) => new TextEncoder().encode(text);
const hex = (bytes) => "0x" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const fromHex = (text) => Uint8Array.from(text.slice(2).match(/../g) || [], (b) => parseInt(b, 16));
const word = (value) => fromHex("0x" + BigInt(value).toString(16).padStart(64, "0"));
function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

function deriveKey(root, salt) {
  let material = concat(utf8(TAG), fromHex(root), fromHex(salt));
  for (;;) {  // hash again (a zero byte appended) in the ~2^-128 case of an invalid scalar
    const key = keccak(material);
    const scalar = BigInt(hex(key));
    if (scalar > 0n && scalar < ORDER) return key;
    material = concat(material, Uint8Array.of(0));
  }
}

const addressOf = (key) => hex(keccak(secp.getPublicKey(key, false).slice(1)).slice(12));

// The EIP-712 digest of a Revocation, computed here: the page signs nothing the server only describes.
function revocationDigest(typed) {
  if (typed.primaryType !== "Revocation") throw new Error("not a revocation; not signing 非撤回请求，拒绝签名");
  const d = typed.domain, m = typed.message;
  const domainType = keccak(utf8("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"));
  const separator = keccak(concat(domainType, keccak(utf8(d.name)), keccak(utf8(d.version)), word(d.chainId), word(d.verifyingContract)));
  const struct = keccak(concat(keccak(utf8("Revocation(bytes32 consentId,uint256 deadline)")), fromHex(m.consentId), word(m.deadline)));
  return keccak(concat(Uint8Array.of(0x19, 0x01), separator, struct));
}

// The pseudonym's signature (r || s || v) of the revocation offered by GET /v1/me/consents/{id}/revocation.
async function signRevocation(offer) {
  const session = GovchainSession.current();
  if (!session || !window.ethereum) throw new Error("please sign in 请先登录");
  const root = await window.ethereum.request({ method: "personal_sign", params: [hex(utf8(offer.derivation.message)), session.address] });
  const key = deriveKey(root, offer.derivation.salt);
  if (addressOf(key).toLowerCase() !== offer.pseudonym.toLowerCase()) {
    throw new Error("this wallet does not derive the consent's pseudonym 此钱包无法推导该授权的化名");
  }
  const signature = await secp.signAsync(revocationDigest(offer.typed_data), key, { prehash: false, format: "recovered" });
  return hex(concat(signature.slice(1), Uint8Array.of(27 + signature[0])));
}

window.GovchainPseudonym = { signRevocation };
// /apply derives the pseudonym of a new consent the same way (its key signs the consent terms there).
export { addressOf, deriveKey };
