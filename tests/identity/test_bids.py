"""Bid files: sealed with a fresh key, bound to tender and pseudonym, tamper-evident."""

from __future__ import annotations

import os

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from identity.bids import BidUnreadable, ciphertext_hash, open_bid, seal_bid

TENDER, PSEUDONYM = os.urandom(32), os.urandom(32)
BID = {"bidder": "测试建设有限公司", "price_fen": 128_000_00, "items": {"工期": "90天", "质保": "2年"}}


def test_round_trip_and_fresh_keys():
    sealed = seal_bid(BID, TENDER, PSEUDONYM)
    assert open_bid(sealed.ciphertext, sealed.key, TENDER, PSEUDONYM) == BID
    again = seal_bid(BID, TENDER, PSEUDONYM)
    assert again.key != sealed.key and again.ciphertext != sealed.ciphertext and again.salt != sealed.salt
    assert sealed.ciphertext_hash == ciphertext_hash(sealed.ciphertext) and len(sealed.ciphertext_hash) == 32
    assert "测试建设".encode() not in sealed.ciphertext


def test_wrong_key_tender_or_pseudonym_cannot_open():
    sealed = seal_bid(BID, TENDER, PSEUDONYM)
    for key, tender, pseudonym in [(os.urandom(32), TENDER, PSEUDONYM), (sealed.key, os.urandom(32), PSEUDONYM), (sealed.key, TENDER, os.urandom(32))]:
        with pytest.raises(BidUnreadable):
            open_bid(sealed.ciphertext, key, tender, pseudonym)
    with pytest.raises(BidUnreadable, match="length"):
        open_bid(sealed.ciphertext, sealed.key[:16], TENDER, PSEUDONYM)


@settings(max_examples=50, deadline=None)
@given(position=st.integers(min_value=0, max_value=10_000), flip=st.integers(min_value=1, max_value=255))
@example(position=0, flip=1)
def test_any_tampered_byte_is_caught(position, flip):
    sealed = seal_bid(BID, TENDER, PSEUDONYM)
    tampered = bytearray(sealed.ciphertext)
    tampered[position % len(tampered)] ^= flip
    with pytest.raises(BidUnreadable):
        open_bid(bytes(tampered), sealed.key, TENDER, PSEUDONYM)
