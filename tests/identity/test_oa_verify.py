"""Documents wrapped by identity/oa.py, issued on OpenAttestation's own DocumentStore (the npm
artifact, deployed here with web3), verified by the unmodified @govtechsg/oa-verify 9.4.0 through
scripts/oa/verify.mjs against the session node. Independent of govchain's own contracts."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path

import pytest
from web3 import Web3

from identity import oa

ROOT = Path(__file__).resolve().parents[2]
VERIFY_JS = ROOT / "scripts" / "oa" / "verify.mjs"
FACTORY = "@govtechsg/document-store/dist/contracts/factories/contracts/DocumentStore__factory.js"
LOCATION = "edu.gov.example"

pytestmark = pytest.mark.node  # oa-verify reads the store through the node: chain id 1337 on both nodes


@pytest.fixture(scope="module")
def store_artifact() -> dict:
    """OA's DocumentStore 3.0 ABI and bytecode, read from the npm package's ethers factory."""
    script = f"const F = require({json.dumps(FACTORY)}).DocumentStore__factory; process.stdout.write(JSON.stringify({{abi: F.abi, bytecode: F.bytecode}}))"
    done = subprocess.run(["node", "-e", script], capture_output=True, cwd=ROOT, timeout=60, check=True)
    return json.loads(done.stdout)


def deploy_store(client, owner, artifact, name: str):
    factory = client.w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    receipt = client.wait(client.send(owner, client.build(owner, factory.constructor(name, owner.address))))
    assert receipt.ok
    return client.w3.eth.contract(address=Web3.to_checksum_address(receipt.raw["contractAddress"]), abi=artifact["abi"])


def certificate(store: str, i: int) -> dict:
    return {
        "id": f"JS-2024-{i:06d}",
        "$template": {"name": "TEACHER_QUALIFICATION", "type": "EMBEDDED_RENDERER", "url": "https://render.gov.example"},
        "issuers": [{"name": "某区教育局", "documentStore": store, "identityProof": {"type": "DNS-TXT", "location": LOCATION}}],
        "recipient": {"name": f"张三{i}", "idHint": "1101**********123X"},
        "qualification": {"subject": "初中数学", "grade": "A", "year": 2024},
    }


def verify(client, documents: list[dict], txt: dict, tmp_path: Path) -> list[dict]:
    (tmp_path / "txt.json").write_text(json.dumps(txt))
    (tmp_path / "docs.json").write_text(json.dumps(documents, ensure_ascii=False))
    done = subprocess.run(
        ["node", str(VERIFY_JS), "--many", str(tmp_path / "docs.json"), "--rpc", client.w3.provider.endpoint_uri, "--txt", str(tmp_path / "txt.json")],
        capture_output=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()
    return json.loads(done.stdout)


def test_oa_verify_accepts_tampering_revocation_obfuscation_and_identity(client, parties, snapshot, store_artifact, tmp_path):
    chain_id = client.w3.eth.chain_id
    assert chain_id == 1337
    agency = parties.agency
    store = deploy_store(client, agency, store_artifact, "某区教育局证书库")
    other = deploy_store(client, agency, store_artifact, "未登记的证书库")

    docs = oa.wrap([certificate(store.address, i) for i in range(3)])
    (stranger,) = oa.wrap([certificate(other.address, 9)])
    for root in {d["signature"]["merkleRoot"] for d in docs} | {stranger["signature"]["merkleRoot"]}:
        target = store if root != stranger["signature"]["merkleRoot"] else other
        assert client.transact(agency, target.functions.issue("0x" + root)).ok
    assert store.functions.isIssued("0x" + docs[0]["signature"]["merkleRoot"]).call()

    tampered = copy.deepcopy(docs[0])
    tampered["data"]["qualification"]["grade"] = tampered["data"]["qualification"]["grade"][:37] + "string:A+"
    hidden = oa.obfuscate(docs[1], ["recipient.idHint", "qualification.year"])
    txt = {LOCATION: [f"openatts net=ethereum netId={chain_id} addr={store.address}"]}

    results = verify(client, [*docs, tampered, hidden, stranger], txt, tmp_path)
    for result in results[:3]:
        assert result["valid"] is True and result["codes"] == [], result
        statuses = {f["name"]: f["status"] for f in result["fragments"]}
        assert statuses["OpenAttestationHash"] == "VALID"
        assert statuses["OpenAttestationEthereumDocumentStoreStatus"] == "VALID"
        assert statuses["OpenAttestationDnsTxtIdentityProof"] == "VALID"
    assert results[3]["valid"] is False and results[3]["codes"] == ["DOCUMENT_TAMPERED"]
    assert results[4]["valid"] is True and results[4]["codes"] == []
    assert results[5]["valid"] is False and results[5]["codes"] == ["MATCHING_RECORD_NOT_FOUND"]
    identity = next(f for f in results[5]["fragments"] if f["name"] == "OpenAttestationDnsTxtIdentityProof")
    assert identity["status"] == "INVALID" and other.address in identity["reason"]["message"]

    # revoke one certificate of the batch: only that one is reported revoked
    revoked = docs[2]["signature"]["targetHash"]
    proof = [bytes.fromhex(p) for p in docs[2]["signature"]["proof"]]
    assert oa.intermediate_hashes(bytes.fromhex(revoked), proof)[-1].hex() == docs[2]["signature"]["merkleRoot"]
    assert client.transact(agency, store.functions.revoke("0x" + revoked)).ok
    results = verify(client, [*docs, hidden], txt, tmp_path)
    assert [r["valid"] for r in results] == [True, True, False, True]
    assert results[2]["codes"] == ["DOCUMENT_REVOKED"]
    status = next(f for f in results[2]["fragments"] if f["name"] == "OpenAttestationEthereumDocumentStoreStatus")
    assert status["status"] == "INVALID" and status["reason"]["codeString"] == "DOCUMENT_REVOKED"

    # a document whose store is named by no TXT record at all (empty answer for the location)
    results = verify(client, docs[:1], {}, tmp_path)
    assert results[0]["valid"] is False and results[0]["codes"] == ["MATCHING_RECORD_NOT_FOUND"]


def test_single_document_mode_and_unissued_root(client, parties, snapshot, store_artifact, tmp_path):
    store = deploy_store(client, parties.agency, store_artifact, "某区教育局证书库")
    (doc,) = oa.wrap([certificate(store.address, 1)])
    (tmp_path / "doc.json").write_text(json.dumps(doc))
    (tmp_path / "txt.json").write_text(json.dumps({LOCATION: [f"openatts net=ethereum netId=1337 addr={store.address}"]}))
    done = subprocess.run(
        ["node", str(VERIFY_JS), str(tmp_path / "doc.json"), "--rpc", client.w3.provider.endpoint_uri, "--txt", str(tmp_path / "txt.json")],
        capture_output=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()
    result = json.loads(done.stdout)
    assert result["valid"] is False and result["codes"] == ["DOCUMENT_NOT_ISSUED"]
