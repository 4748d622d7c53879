"""identity/oa.py against the npm package @govtechsg/open-attestation 6.9.7, run through
scripts/oa/wrap.mjs (one Node process per test, every request of a test in one batch)."""

from __future__ import annotations

import copy
import json
import re
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from identity import oa

ROOT = Path(__file__).resolve().parents[2]
WRAP_JS = ROOT / "scripts" / "oa" / "wrap.mjs"


STORE = "0x9178F546D3FF57D7A6352bD61B80cCCD46199C2d"
ISSUER = {"name": "某区教育局", "documentStore": STORE, "identityProof": {"type": "DNS-TXT", "location": "edu.gov.example"}}
UUID_PREFIX = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}:")


def node(request: dict):
    done = subprocess.run(["node", str(WRAP_JS)], input=json.dumps(request, allow_nan=False).encode(), capture_output=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr.decode()
    return json.loads(done.stdout)


def node_batch(*requests: dict) -> list:
    """Run requests in one Node process; each answer is its result (errors fail the test)."""
    answers = node({"op": "batch", "requests": list(requests)})
    for request, answer in zip(requests, answers):
        assert "ok" in answer, f"{request['op']}: {answer.get('error')}"
    return [a["ok"] for a in answers]


def certificate(i: int) -> dict:
    """Rich data: nested objects, arrays, Chinese, numbers, booleans, null, escapes."""
    return {
        "$template": {"name": "TEACHER_QUALIFICATION", "type": "EMBEDDED_RENDERER", "url": "https://render.gov.example"},
        "id": f"JS-2024-{i:06d}",
        "issuers": [ISSUER],
        "recipient": {"name": f"张三{i}", "idHint": "1101**********123X"},
        "subjects": [{"name": "初中数学", "score": 88.5 + i}, {"name": "教育学", "score": 91, "passed": True}, []],
        "numbers": [0, -0.0, 1, -7, 2**53 - 1, -(2**53 - 1), 0.1, 1 / 3, 1e21, 1e-7, 1.5e-7, 123e-20, 5e-324, 1.7976931348623157e308, 100.0],
        "flags": {"valid": True, "revoked": False, "note": None, "empty": {}, "list": []},
        "text": {
            "quotes": 'say "hi" \\ back/slash',
            "controls": "tab\tnl\ncr\rbs\bff\fnul\x00us\x1fdel\x7f",
            "separators": "line\u2028para\u2029",
            "emoji": "证书 ✓ 😀 \U0001f9d1\u200d\U0001f3eb",
            "lone_surrogate": "x\ud800y",
            "colons": "a:b:c",
            "salt_like": "0f8fad5b-d9cb-469f-a165-70867728950e:string:not salt",
            "spaces": " padded ",
        },
        "deep": {"a": {"b": {"c": {"d": [1, [2, [3, {"e": "深"}]]]}}}},
    }


DOCS = [certificate(i) for i in range(7)]


def strip_salt(value):
    if isinstance(value, dict):
        return {k: strip_salt(v) for k, v in value.items()}
    if isinstance(value, list):
        return [strip_salt(v) for v in value]
    assert UUID_PREFIX.match(value), value
    return value[37:]


def test_node_wrapped_batches_match_python():
    sizes = (1, 2, 3, 7)
    wrapped = node_batch(*({"op": "wrap", "documents": DOCS[:n]} for n in sizes))
    for n, batch in zip(sizes, wrapped):
        ours = oa.wrap([d["data"] for d in batch], salted=True)
        assert [d["signature"] for d in ours] == [d["signature"] for d in batch]
        assert ours == batch  # version, data, signature: the same documents
        for d in batch:
            assert oa.target_hash(d["data"]).hex() == d["signature"]["targetHash"]
            assert oa.check_integrity(d) == (True, "ok")
    # Python salts the same "type:value" strings as OA (numbers, booleans, null, escapes)
    assert strip_salt(oa.salt(DOCS[3])) == strip_salt(wrapped[-1][3]["data"])
    # getData: Node's and Python's plain data agree (OA trims the padded string on both sides)
    plain = node_batch(*({"op": "getData", "document": d} for d in wrapped[-1]))
    assert [oa.unsalt(d["data"]) for d in wrapped[-1]] == plain
    assert plain[0]["text"]["spaces"] == " padded"


def test_python_wrapped_documents_pass_oa():
    ours = oa.wrap(DOCS) + oa.wrap(DOCS[:1]) + oa.wrap(DOCS[:2])
    # seven leaves, sorted by their (salted, so random) target hashes: the odd one out is promoted
    # a level without a sibling, whichever document it is
    assert len({d["signature"]["merkleRoot"] for d in ours[:7]}) == 1 and sorted(len(d["signature"]["proof"]) for d in ours[:7]) == [2] + [3] * 6
    assert ours[7]["signature"]["proof"] == [] and ours[7]["signature"]["merkleRoot"] == ours[7]["signature"]["targetHash"]
    answers = node_batch(
        *({"op": "verifySignature", "document": d} for d in ours),
        *({"op": "validateSchema", "document": d} for d in ours),
        *({"op": "digest", "document": d} for d in ours),
    )
    n = len(ours)
    assert answers[:n] == [True] * n
    assert answers[n : 2 * n] == [True] * n
    assert answers[2 * n :] == [d["signature"]["targetHash"] for d in ours]


def test_intermediate_hashes_lead_to_the_root():
    docs = oa.wrap(DOCS[:5])
    for d in docs:
        sig = d["signature"]
        hashes = oa.intermediate_hashes(bytes.fromhex(sig["targetHash"]), [bytes.fromhex(p) for p in sig["proof"]])
        assert len(hashes) == len(sig["proof"]) + 1
        assert hashes[0].hex() == sig["targetHash"] and hashes[-1].hex() == sig["merkleRoot"]


OBFUSCATIONS = [
    ["recipient.name"],
    ["subjects.0.score", "flags.note", "text"],
    ["subjects[1].passed", "deep.a.b", "deep"],
    ["deep", "deep.a.b.c"],
    ["numbers", "missing.path", "flags.empty"],
    ["$template"],
]


def test_obfuscation_matches_oa_and_still_verifies():
    (wrapped,) = oa.wrap(DOCS[:1])
    twice = oa.obfuscate(oa.obfuscate(wrapped, ["recipient.name"]), ["text.emoji", "id"])
    ours = [oa.obfuscate(wrapped, paths) for paths in OBFUSCATIONS]
    answers = node_batch(
        *({"op": "obfuscate", "document": wrapped, "paths": paths} for paths in OBFUSCATIONS),
        *({"op": "verifySignature", "document": d} for d in [*ours, twice]),
    )
    assert ours == answers[: len(OBFUSCATIONS)]
    assert answers[len(OBFUSCATIONS) :] == [True] * (len(ours) + 1)
    for d in [*ours, twice]:
        assert oa.check_integrity(d) == (True, "ok")
        assert d["signature"] == wrapped["signature"]
    assert "name" not in ours[0]["data"]["recipient"] and len(ours[0]["privacy"]["obfuscatedData"]) == 1
    assert "emoji" not in twice["data"]["text"] and len(twice["privacy"]["obfuscatedData"]) == 3
    assert "name" in wrapped["data"]["recipient"]  # the input is not changed


def test_obfuscation_quirks_are_oas():
    (wrapped,) = oa.wrap([{"issuers": [ISSUER], "recipient": {"name": "李四"}, "items": ["a", "b"]}])
    # hiding an object's only field leaves {} behind: OA's own verifySignature fails then, and so do we
    lonely = oa.obfuscate(wrapped, ["recipient.name"])
    node_lonely, verdict = node_batch(
        {"op": "obfuscate", "document": wrapped, "paths": ["recipient.name"]},
        {"op": "verifySignature", "document": lonely},
    )
    assert lonely == node_lonely and verdict is False
    assert oa.check_integrity(lonely) == (False, "target hash does not match the data")
    # a single array element would leave a hole (null in JSON): refused
    with pytest.raises(ValueError, match="array element"):
        oa.obfuscate(wrapped, ["items.1"])


def test_tampering_is_detected_with_a_reason():
    docs = oa.wrap(DOCS[:3])
    good = docs[1]
    assert oa.check_integrity(good) == (True, "ok")

    changed = copy.deepcopy(good)
    value = changed["data"]["recipient"]["name"]
    changed["data"]["recipient"]["name"] = value[:37] + "string:李四"
    assert oa.check_integrity(changed) == (False, "target hash does not match the data")

    added = copy.deepcopy(good)
    added["data"]["extra"] = oa.salt({"x": "注入"})["x"]
    assert oa.check_integrity(added) == (False, "target hash does not match the data")

    proof = copy.deepcopy(good)
    proof["signature"]["proof"][0] = "22" * 32
    assert oa.check_integrity(proof) == (False, "merkle proof does not lead to the merkle root")

    root = copy.deepcopy(good)
    root["signature"]["merkleRoot"] = "00" * 32
    assert oa.check_integrity(root) == (False, "merkle proof does not lead to the merkle root")

    hidden = copy.deepcopy(good)
    hidden["privacy"] = {"obfuscatedData": ["11" * 32]}
    assert oa.check_integrity(hidden) == (False, "target hash does not match the data")

    unsigned = {k: v for k, v in good.items() if k != "signature"}
    assert oa.check_integrity(unsigned) == (False, "document has no signature")

    assert node_batch(*({"op": "verifySignature", "document": d} for d in (changed, added, proof, root, hidden))) == [False] * 5


@pytest.mark.parametrize(
    "data, message",
    [
        ({}, "'issuers' must be a non-empty list"),
        ({"issuers": []}, "'issuers' must be a non-empty list"),
        ({"issuers": [{"documentStore": STORE, "identityProof": {"type": "DNS-TXT", "location": "a.gov"}}]}, "needs a 'name'"),
        ({"issuers": [{"name": "A", "documentStore": STORE}]}, "identityProof"),
        ({"issuers": [{"name": "A", "documentStore": STORE, "identityProof": {"type": "DNS-TXT"}}]}, "identityProof"),
        ({"issuers": [{"name": "A", "documentStore": "0x1234", "identityProof": {"type": "DNS-TXT", "location": "a.gov"}}]}, "address"),
        ({"issuers": [{"name": "A", "documentStore": STORE, "certificateStore": STORE, "identityProof": {"type": "DNS-TXT", "location": "a"}}]}, "exactly one"),
        ({"issuers": [{"name": "A"}]}, "needs one of"),
        ({"issuers": [ISSUER], "recipient": {"name": 5}}, "recipient"),
    ],
)
def test_schema_errors_are_clear(data, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        oa.wrap([data])


def test_values_javascript_cannot_reproduce_are_refused():
    for bad in (float("nan"), float("inf"), 2**53, -(2**53), {1: "x"}, b"bytes", {"a.b": 1}):
        with pytest.raises(ValueError):
            oa.wrap([{"issuers": [ISSUER], "v": bad}])
    with pytest.raises(ValueError):
        oa.wrap([])


# -- property: random JSON gives the same salting and hashes in Python and Node ----------------

json_keys = st.text(min_size=1, max_size=8).filter(lambda k: "." not in k)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**53 - 1), max_value=2**53 - 1) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(json_keys, children, max_size=4),
    max_leaves=12,
)
documents = st.lists(json_values.map(lambda v: {"issuers": [ISSUER], "payload": v}), min_size=8, max_size=12)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(documents)
def test_random_json_hashes_like_oa(docs):
    salted = [oa.salt(d) for d in docs]
    answers = node_batch({"op": "wrap", "documents": docs}, *({"op": "digest", "document": {"data": s}} for s in salted))
    node_wrapped, digests = answers[0], answers[1:]
    assert [oa.target_hash(s).hex() for s in salted] == digests
    assert [d["signature"] for d in oa.wrap([d["data"] for d in node_wrapped], salted=True)] == [d["signature"] for d in node_wrapped]
    assert [strip_salt(s) for s in salted] == [strip_salt(d["data"]) for d in node_wrapped]
