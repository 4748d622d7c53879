"""The Verifier's status reads (identity/verify.py): batched and one by one give the
same verdicts, and a node that does not answer is an outage (ChainUnavailable, 503), never an
invalid certificate. The node sits behind a real HTTP proxy that can stop answering."""

from __future__ import annotations

import secrets
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from web3 import HTTPProvider, Web3

from identity.verify import Verifier
from chain.documents import DocumentStoreClient
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
