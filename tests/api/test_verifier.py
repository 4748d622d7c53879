"""The Verifier's status reads (identity/verify.py): batched and one by one give the
same verdicts, and a node that does not answer is an outage (ChainUnavailable, 503), never an
invalid certificate. The node sits behind a real HTTP proxy that can stop answering.

The status from the audit index (api/certificates/status.py) gives the verdicts the chain gives,
over issued, revoked (leaf, part of a batch, whole batch, by a governor), unknown-store and
tampered documents, each naming its block; an index that lags the head falls back to the chain."""

from __future__ import annotations

import secrets
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from web3 import HTTPProvider, Web3

from api.audit.indexer import Indexer
from api.certificates.status import IndexStatus
from identity.verify import ChainStatus, Verifier
from chain.documents import DocumentStoreClient
from chain.node import rpc_call
from chain.errors import ChainUnavailable
from chain.registry import GovRegistryClient
from chain.tx import ChainClient
from identity import oa


class SwitchableProxy:
    """Forwards JSON-RPC to the node until ``down`` is set; then drops each connection unanswered."""

    def __init__(self, upstream: str):
        proxy = self
        self.down = False

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if proxy.down:
                    self.close_connection = True
                    self.connection.close()
                    return
                request = urllib.request.Request(upstream, body, {"Content-Type": "application/json"})
                with urllib.request.urlopen(request, timeout=30) as answer:
                    data = answer.read()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def issued(chain, deployment, parties, build):
    """Four certificates of the agency, issued in one batch; the last one revoked."""
    gov = GovRegistryClient(chain, deployment.address("GovRegistry"), build["GovRegistry"].abi)
    store_address = deployment.document_store(parties.agency.address)
    domain = gov.member(parties.agency.address).info.domain
    documents = oa.wrap([
        {"id": f"VER-{i}-{secrets.token_hex(4)}", "recipient": {"name": f"测试{i}"},
         "issuers": [{"name": "区教育局", "documentStore": store_address, "identityProof": {"type": "DNS-TXT", "location": domain}}]}
        for i in range(4)
    ])  # fmt: skip
    store = DocumentStoreClient(chain, store_address, deployment.document_store_abi())
    store.issue(parties.agency, "0x" + documents[0]["signature"]["merkleRoot"])
    store.revoke(parties.agency, "0x" + documents[3]["signature"]["targetHash"])
    return documents, deployment.address("GovRegistry"), build["GovRegistry"].abi


def _verifier(url: str, registry_address: str, registry_abi: list, store_abi: list, batched: bool) -> Verifier:
    client = ChainClient(Web3(HTTPProvider(url, request_kwargs={"timeout": 5})))
    return Verifier(client, GovRegistryClient(client, registry_address, registry_abi), store_abi, cache_seconds=3600, batched=batched)


def test_batched_and_one_by_one_reads_agree(issued, chain, deployment):
    documents, registry_address, registry_abi = issued
    url = chain.w3.provider.endpoint_uri
    verdicts = {batched: [_verifier(url, registry_address, registry_abi, deployment.document_store_abi(), batched).verify(d).to_json() for d in documents]
                for batched in (True, False)}  # fmt: skip
    assert verdicts[True] == verdicts[False]
    assert [v["valid"] for v in verdicts[True]] == [True, True, True, False]
    assert "the certificate was revoked" in verdicts[True][3]["checks"][1]["reason"]
    tampered = {**documents[0], "signature": {**documents[0]["signature"], "merkleRoot": "ab" * 20}}  # 20 bytes: not a hash
    assert "no readable signature block" in _verifier(url, registry_address, registry_abi, deployment.document_store_abi(), True).verify(tampered).status.reason


@pytest.mark.parametrize("batched", [True, False], ids=["batched", "one-by-one"])
def test_a_node_that_stops_answering_is_an_outage_not_an_invalid_certificate(issued, chain, deployment, batched):
    documents, registry_address, registry_abi = issued
    proxy = SwitchableProxy(chain.w3.provider.endpoint_uri)
    try:
        verifier = _verifier(proxy.url, registry_address, registry_abi, deployment.document_store_abi(), batched)
        assert verifier.verify(documents[0]).valid  # registry answers are now cached; the status reads are not
        proxy.down = True
        with pytest.raises(ChainUnavailable):
            verifier.verify(documents[1])
        proxy.down = False
        assert verifier.verify(documents[1]).valid
        assert not verifier.verify(documents[3]).valid
    finally:
        proxy.close()


# -- the status from the audit index against the chain's --------------------------------------


def _wrapped(store_address: str, domain: str, count: int) -> list[dict]:
    return oa.wrap([
        {"id": f"IDX-{i}-{secrets.token_hex(4)}", "recipient": {"name": f"索引{i}"},
         "issuers": [{"name": "区教育局", "documentStore": store_address, "identityProof": {"type": "DNS-TXT", "location": domain}}]}
        for i in range(count)
    ])  # fmt: skip


def _nodes(document: dict) -> list[bytes]:
    signature = document["signature"]
    return oa.intermediate_hashes(bytes.fromhex(signature["targetHash"]), [bytes.fromhex(p) for p in signature["proof"]])


@pytest.fixture
def every_case(chain, deployment, parties, registry):
    """Documents of every status: valid, revoked as a leaf, as a part of a batch, as a whole batch
    and by a governor (issuer suspended, then reinstated), never issued, of a store that is not a
    contract or not a DocumentStore, tampered (data edited; root swapped)."""
    agency = parties.agency
    store_address = deployment.document_store(agency.address)
    domain = registry.member(agency.address).info.domain
    store = DocumentStoreClient(chain, store_address, deployment.document_store_abi())
    first, second, by_governor = _wrapped(store_address, domain, 4), _wrapped(store_address, domain, 2), _wrapped(store_address, domain, 2)
    for batch in (first, second, by_governor):
        store.issue(agency, "0x" + batch[0]["signature"]["merkleRoot"])
    store.revoke(agency, "0x" + first[3]["signature"]["targetHash"])  # a leaf
    part = _nodes(first[0])[1]  # the node above first[0] and its sibling: a part of the batch
    store.revoke(agency, part)
    valid = next(d for d in first[1:3] if part not in _nodes(d))
    store.revoke(agency, "0x" + second[0]["signature"]["merkleRoot"])  # the whole batch
    registry.suspend_member(parties.governor, agency.address)
    registry.revoke_document(parties.governor, agency.address, bytes.fromhex(by_governor[0]["signature"]["targetHash"]))
    registry.reinstate_member(parties.governor, agency.address)
    never = _wrapped(store_address, domain, 1)
    no_contract = _wrapped(Web3.to_checksum_address("0x" + secrets.token_hex(20)), domain, 1)
    not_a_store = _wrapped(registry.address, domain, 1)
    edited = {**valid, "data": {**valid["data"], "id": valid["data"]["id"][:-1] + "x"}}
    swapped = {**valid, "signature": {**valid["signature"], "merkleRoot": secrets.token_hex(32)}}
    return {"valid": valid, "leaf": first[3], "part of a batch": first[0], "whole batch": second[1], "governor": by_governor[0],
            "sibling of the governor's": by_governor[1], "never issued": never[0], "no contract": no_contract[0],
            "not a store": not_a_store[0], "edited": edited, "root swapped": swapped}  # fmt: skip


def _verifiers(chain, deployment, registry, sessions, *, max_lag: int = 1) -> tuple[Verifier, Verifier]:
    """(from the index, from the chain), each with its own status reads; the head read every time."""

    def chain_status() -> ChainStatus:
        return ChainStatus(chain, registry.address, deployment.document_store_abi(), cache_seconds=0, head_seconds=0)

    index = Verifier(chain, registry, deployment.document_store_abi(), cache_seconds=0, status=IndexStatus(sessions, chain_status(), max_lag=max_lag))
    return index, Verifier(chain, registry, deployment.document_store_abi(), cache_seconds=0, status=chain_status())


@pytest.mark.db
def test_the_index_and_the_chain_give_the_same_verdicts(every_case, chain, deployment, parties, registry, sessions):
    indexer = Indexer(lambda: chain, lambda: deployment, sessions)
    indexer.catch_up()
    head = chain.block_number()
    assert indexer.indexed_block() == head
    from_index, from_chain = _verifiers(chain, deployment, registry, sessions)
    verdicts = {name: (from_index.verify(document).to_json(), from_chain.verify(document).to_json()) for name, document in every_case.items()}
    for name, (indexed, read) in verdicts.items():
        assert indexed["checks"] == read["checks"], name
        assert read["source"] == "chain" and read["checkedAtBlock"] == head, name
        followed = name not in ("no contract", "not a store")  # the index follows only stores created through GovRegistry
        assert indexed["source"] == ("index" if followed else "chain") and indexed["checkedAtBlock"] == head, name
    status = {name: indexed["checks"][1] for name, (indexed, _) in verdicts.items()}
    assert {name for name, (indexed, _) in verdicts.items() if indexed["valid"]} == {"valid", "sibling of the governor's"}
    assert "the certificate was revoked" in status["leaf"]["reason"] and f"by key {parties.agency.address}" in status["leaf"]["reason"]
    assert "a part of its batch was revoked" in status["part of a batch"]["reason"]
    assert "its whole batch was revoked" in status["whole batch"]["reason"]
    assert "a governor's revocation through GovRegistry" in status["governor"]["reason"]
    assert "is not issued" in status["never issued"]["reason"] and "is not issued" in status["root swapped"]["reason"]
    assert "there is no contract at" in status["no contract"]["reason"]
    assert "does not answer as a DocumentStore" in status["not a store"]["reason"]
    assert status["edited"]["valid"] and not verdicts["edited"][0]["checks"][0]["valid"]  # integrity fails; the status holds


@pytest.mark.db
def test_an_index_that_lags_falls_back_to_the_chain_and_names_its_block(every_case, chain, deployment, parties, registry, sessions):
    indexer = Indexer(lambda: chain, lambda: deployment, sessions)
    indexer.catch_up()
    indexed = chain.block_number()
    from_index, _ = _verifiers(chain, deployment, registry, sessions)
    document = every_case["valid"]
    assert from_index.verify(document).to_json() | {"checks": None} == {"valid": True, "checks": None, "checkedAtBlock": indexed, "source": "index"}

    # the indexer stopped; a revocation on chain past the index: a lag within max_lag is served from the index, at its block
    store = DocumentStoreClient(chain, deployment.document_store(parties.agency.address), deployment.document_store_abi())
    store.revoke(parties.agency, "0x" + document["signature"]["targetHash"])
    head = chain.block_number()
    lag = head - indexed
    assert lag >= 1
    tolerant, _ = _verifiers(chain, deployment, registry, sessions, max_lag=lag)
    within = tolerant.verify(document)
    assert (within.valid, within.source, within.checked_at_block) == (True, "index", indexed)
    # a root the lagging index has not seen issued is the chain's to answer: issued in the blocks not indexed yet
    fresh_batch = _wrapped(store.address, registry.member(parties.agency.address).info.domain, 2)
    store.issue(parties.agency, "0x" + fresh_batch[0]["signature"]["merkleRoot"])
    head = chain.block_number()
    lag = head - indexed
    tolerant, _ = _verifiers(chain, deployment, registry, sessions, max_lag=lag)
    just_issued = tolerant.verify(fresh_batch[1])
    assert (just_issued.valid, just_issued.source, just_issued.checked_at_block) == (True, "chain", head)
    assert tolerant.verify(document).source == "index"

    # one block more than max_lag behind: the chain answers, at its own block, and sees the revocation
    strict, _ = _verifiers(chain, deployment, registry, sessions, max_lag=lag - 1)
    behind = strict.verify(document)
    assert (behind.valid, behind.source, behind.checked_at_block) == (False, "chain", head)
    assert "the certificate was revoked" in behind.status.reason
    rpc_call(chain.w3.provider.endpoint_uri, "evm_mine")  # the default (max_lag 1) at two blocks or more behind
    head += 1
    default = from_index.verify(document)
    assert (default.valid, default.source, default.checked_at_block) == (False, "chain", head)

    # the caller asks for the chain: it answers even when the index is up to date; the index then agrees
    indexer.catch_up()
    asked = from_index.verify(document, fresh=True)
    caught_up = from_index.verify(document)
    assert (asked.source, asked.checked_at_block, caught_up.source, caught_up.checked_at_block) == ("chain", head, "index", head)
    assert asked.status == caught_up.status and not caught_up.valid


@pytest.mark.db
def test_the_index_answer_forgets_a_revocation_the_chain_went_back_on(every_case, chain, deployment, parties, registry, sessions):
    indexer = Indexer(lambda: chain, lambda: deployment, sessions)
    indexer.catch_up()
    from_index, _ = _verifiers(chain, deployment, registry, sessions)
    document = every_case["valid"]
    assert from_index.verify(document).valid
    snapshot = rpc_call(chain.w3.provider.endpoint_uri, "evm_snapshot")
    store = DocumentStoreClient(chain, deployment.document_store(parties.agency.address), deployment.document_store_abi())
    store.revoke(parties.agency, "0x" + document["signature"]["targetHash"])
    indexer.catch_up()
    revoked = from_index.verify(document)
    assert (revoked.valid, revoked.source) == (False, "index")

    rpc_call(chain.w3.provider.endpoint_uri, "evm_revert", [snapshot])  # the revocation's block is gone
    chain.nonces.reset()
    for _ in range(3):  # the chain grows past the old cursor with other blocks
        rpc_call(chain.w3.provider.endpoint_uri, "evm_mine")
    indexer.catch_up()  # rewinds: the revocation's row is deleted
    again = from_index.verify(document)
    assert (again.valid, again.source, again.checked_at_block) == (True, "index", chain.block_number())
