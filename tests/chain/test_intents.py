"""Outbox intent keys (chain.intents): pinned strings, since a key stored by a process that died is
resumed by the next release, and a retry must find the first try's key."""

from __future__ import annotations

from eth_utils import keccak

from chain import intents
from chain.hexcodec import hx

TID = "0x" + "ab" * 32
PID = "0x" + "cd" * 32
ROOT = bytes(range(32))


def test_consent_and_evidence_keys_are_the_stored_ones():
    assert intents.consent_grant("app_1", 7) == "consent:app_1:7"
    assert intents.consent_revoke(TID) == f"revoke:{TID}"
    assert intents.evidence("COMMITMENT", "app_1", ROOT) == f"evidence:COMMITMENT:app_1:0x{ROOT.hex()}"
    assert intents.certificates_issue(TID) == f"certificates:issue:{TID}"
    assert intents.certificates_revoke(PID) == f"certificates:revoke:{PID}"


def test_tender_keys_are_the_stored_ones():
    assert intents.tender_create(TID) == f"tender:create:{TID}"
    assert intents.tender_open(TID) == f"tender:open:{TID}"
    assert intents.tender_sign_in(TID, PID) == f"tender:signin:{TID}:{PID}"
    assert intents.tender_reveal(TID, PID) == f"tender:reveal:{TID}:{PID}"
    assert intents.tender_decrypt(TID, PID) == f"tender:decrypt:{TID}:{PID}"
    assert intents.tender_reading(TID) == f"tender:reading:{TID}"
    assert intents.tender_answer(TID, 3) == f"tender:answer:{TID}:3"
    expert = "0x" + "Ef" * 20
    assert intents.tender_scores(TID, expert, PID.upper().replace("0X", "0x")) == f"tender:scores:{TID}:{expert}:{PID}"
    assert intents.tender_replace(TID, expert) == f"tender:replace:{TID}:{expert}"
    assert intents.tender_result(TID, ROOT) == f"tender:result:{TID}:{hx(ROOT)}"


def test_sealed_bid_keys_name_no_tender_or_pseudonym():
    key = intents.tender_sealed("bid", TID, PID, 2)
    assert key == f"tender:bid:{hx(keccak(text=f'{TID}:{PID}:2'))}"
    assert TID[2:] not in key and PID[2:] not in key
    assert key != intents.tender_sealed("bid", TID, PID, 3) != intents.tender_sealed("withdraw", TID, PID, 3)


def test_an_objection_key_is_one_per_pseudonym_and_text_and_fits_the_outbox():
    text_hash = keccak(text="the reading left out my bid")
    key = intents.tender_objection(TID, PID, text_hash)
    assert key == f"tender:objection:{TID}:{hx(keccak(bytes.fromhex(PID[2:]) + text_hash))}"
    assert key != intents.tender_objection(TID, PID, keccak(text="another"))
    assert len(key) <= 200
