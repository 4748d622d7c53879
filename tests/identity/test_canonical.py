"""One canonical JSON (``identity.canonical``): it is the rule ``docs/audit.md`` states (checked
against a hand-written serializer), and it is byte for byte what each anchored or signed kind
hashed before it existed, so roots already on chain still re-derive."""

from __future__ import annotations

import json

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eth_utils import keccak
from hypothesis import example, given, settings
from hypothesis import strategies as st

from identity.bids import bid_context, seal_bid
from identity.canonical import canonical_hash, canonical_json, evidence_json_v0
from identity.eip712 import scope_digest
from identity.pull_request import attributes_hash
from tests.support import canonical as rule

# what was hashed before identity.canonical, copied as it was written in each module
BEFORE = {
    "scope digest (identity/eip712.py)": lambda v: json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8"),
    "pull answers, attributes, bid receipts, readings, result report (identity/pull_request.py)":
        lambda v: json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(),
    "bid plaintext (identity/bids.py)": lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode(),
}  # fmt: skip
EVIDENCE_BEFORE = lambda v: json.dumps(v, sort_keys=True).encode()  # noqa: E731  api/materials/service.py: COMMITMENT_CHECK, DELIVERY

text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)  # no lone surrogates: not encodable
values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats() | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12,
)
AWKWARD = {"z": 1, "a": [True, False, None, -7, 0], "é": "naïve \"quoted\" \\ /", "ctl": "\b\f\n\r\t\x00\x1f\x7f", "𝄞": "😀 \u2028\u2029",
           "ä": {"户籍": ["住址", "姓名"]}, "A": "", "10": 10, "9": 9}  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(values)
@example(AWKWARD)
def test_the_form_is_the_documented_rule_and_what_every_kind_hashed_before(value):
    assert canonical_json(value) == rule.canonical(value)
    assert evidence_json_v0(value) == rule.evidence_v0(value)
    for kind, before in BEFORE.items():
        assert canonical_json(value) == before(value), kind
    assert evidence_json_v0(value) == EVIDENCE_BEFORE(value)
    assert canonical_hash(value) == keccak(rule.canonical(value))


def test_the_rule_spelled_out_on_one_value():
    assert canonical_json(AWKWARD).decode() == (
        '{"10":10,"9":9,"A":"","a":[true,false,null,-7,0],"ctl":"\\b\\f\\n\\r\\t\\u0000\\u001f\x7f","z":1,"ä":{"户籍":["住址","姓名"]},"é":"naïve \\"quoted\\" \\\\ /","𝄞":"😀 \u2028\u2029"}'
    )
    assert evidence_json_v0({"note": "核实 ok", "a": "𝄞"}) == b'{"a": "\\ud834\\udd1e", "note": "\\u6838\\u5b9e ok"}'


def test_each_kind_hashes_the_same_bytes_as_before():
    scope = {"户籍": ["姓名", "住址", "姓名"], "id_card": ["name"]}
    assert scope_digest(scope) == keccak(BEFORE["scope digest (identity/eip712.py)"]({c: sorted(set(n)) for c, n in scope.items()}))
    assert attributes_hash(scope, ["住址", "name"]) == keccak(json.dumps({"scope": scope, "attributes": ["name", "住址"]}, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())
    bid = {"bidder": "测试公司", "price": 99_000_00, "items": {"工期": "90天", "质保": "2年"}}
    tender, pseudonym = b"\x01" * 32, b"\x02" * 32
    sealed = seal_bid(bid, tender, pseudonym)
    nonce, body = sealed.ciphertext[:12], sealed.ciphertext[12:]
    assert AESGCM(sealed.key).decrypt(nonce, body, bid_context(tender, pseudonym)) == BEFORE["bid plaintext (identity/bids.py)"](bid)


def test_roots_computed_before_the_change_still_come_out():
    """Golden roots, computed with the code before identity.canonical (commit 5438d17)."""
    delivery = {"application": "app_0001", "status": "mailed", "tracking": "SF1234567890"}
    check = {"commitment": "0x" + "ab" * 32, "outcome": "confirmed", "note": "核实无误 checked"}
    report = {"report": {"tender_id": "0x" + "01" * 32, "winner": "0x" + "02" * 32, "value": 98_000_00,
                         "bids": [{"bidder_name": "测试公司", "price": 98_000_00}]}, "signature": None}  # fmt: skip
    assert keccak(evidence_json_v0(delivery)).hex() == "7258b27cd30dddd16404ea606783dc4d6a9effbf8a7d1442ec797410361dbed0"
    assert keccak(evidence_json_v0(check)).hex() == "4539a8c548aa3fe27df190f7ae32f4657e48f36a615836f9c4e3954502ae4a3e"
    assert canonical_hash(report).hex() == "a95c96c9c7785b09b5ddf246b6417a476a5a333794cebfd5031e366c15a9057d"
