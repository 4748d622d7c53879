"""The typed clients build every write the API sends through the outbox (``*_call``): callers pass
bytes32/bytes arguments as bytes or 0x hex and addresses in any case, and the client converts, so
the calldata is the same either way; a wrong-length word is refused before anything is sent."""

from __future__ import annotations

import pytest
from eth_utils import keccak

from chain.consents import ConsentRegistryClient
from chain.documents import DocumentStoreClient
from chain.evidence import EvidenceLedgerClient
from chain.hexcodec import hx
from chain.tenders import Reading, TenderLedgerClient

T, P, K, S = (keccak(text=w) for w in ("tender", "pseudonym", "key", "salt"))
SIG = b"\x11" * 65
EXPERT = "0x" + "ab" * 20


def data(call) -> str:
    return call._encode_transaction_data()


@pytest.fixture
def ledger(chain, deployment, build) -> TenderLedgerClient:
    return TenderLedgerClient(chain, deployment.address("TenderLedger"), build["TenderLedger"].abi)


def test_tender_calls_take_hex_or_bytes_alike(ledger):
    pairs = [
        (ledger.commit_bid_call(T, P, K, S), ledger.commit_bid_call(hx(T), hx(P), hx(K), hx(S))),
        (ledger.withdraw_bid_call(T, P), ledger.withdraw_bid_call(hx(T), hx(P))),
        (ledger.open_tender_call(T), ledger.open_tender_call(hx(T))),
        (ledger.sign_in_call(T, P, EXPERT, SIG), ledger.sign_in_call(hx(T), hx(P), EXPERT.upper().replace("0X", "0x"), hx(SIG))),
        (ledger.reveal_key_call(T, P, K, S), ledger.reveal_key_call(hx(T), hx(P), hx(K), hx(S))),
        (ledger.record_decryption_call(T, P, True, K, 0), ledger.record_decryption_call(hx(T), hx(P), True, hx(K), 0)),
        (ledger.publish_reading_call(T, [Reading(P, 5, K)], S), ledger.publish_reading_call(hx(T), [(P, 5, K)], hx(S))),
        (ledger.raise_objection_call(T, P, K, SIG), ledger.raise_objection_call(hx(T), hx(P), hx(K), hx(SIG))),
        (ledger.answer_objection_call(T, 2, K), ledger.answer_objection_call(hx(T), 2, hx(K))),
        (ledger.submit_scores_call(T, EXPERT, P, [7, 8], SIG), ledger.submit_scores_call(hx(T), EXPERT, hx(P), [7, 8], hx(SIG))),
        (ledger.replace_expert_call(T, EXPERT, EXPERT), ledger.replace_expert_call(hx(T), EXPERT.lower(), EXPERT)),
        (ledger.publish_result_call(T, P, K), ledger.publish_result_call(hx(T), hx(P), hx(K))),
    ]
    for from_bytes, from_hex in pairs:
        assert data(from_bytes) == data(from_hex)
    assert data(ledger.open_tender_call(T)) == ledger.contract.encode_abi("openTender", [T])


def test_document_evidence_and_consent_calls_take_hex_or_bytes_alike(chain, deployment, build):
    store = DocumentStoreClient(chain, "0x" + "11" * 20, build["DocumentStore"].abi)
    assert data(store.issue_call(K)) == data(store.issue_call(hx(K))) == store.contract.encode_abi("issue", [K])
    assert data(store.revoke_call(K)) == data(store.revoke_call(K.hex()))
    with pytest.raises(ValueError, match="32 bytes"):
        store.issue_call(K[:31])
    ledger = EvidenceLedgerClient(chain, deployment.address("EvidenceLedger"), build["EvidenceLedger"].abi)
    assert data(ledger.anchor_call("COMMITMENT", T, K)) == data(ledger.anchor_call("commitment", hx(T), hx(K)))
    with pytest.raises(ValueError, match="32 bytes"):
        ledger.anchor_call("COMMITMENT", T, K + b"\0")
    consents = ConsentRegistryClient(chain, deployment.address("ConsentRegistry"), build["ConsentRegistry"].abi)
    assert data(consents.revoke_by_sig_call(T, 99, SIG)) == data(consents.revoke_by_sig_call(hx(T), 99, hx(SIG)))
