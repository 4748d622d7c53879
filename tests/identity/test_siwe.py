"""EIP-4361 messages: round trips, strict parsing and signature checks (pure logic)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from eth_account import Account
from hypothesis import example, given, settings
from hypothesis import strategies as st

from identity import siwe

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
KEY = Account.from_key("0x" + "11" * 32)


def message(**changes) -> siwe.SiweMessage:
    fields = dict(domain="gov.example", address=KEY.address, uri="https://gov.example", chain_id=1337, nonce="0123456789abcdef",
                  issued_at=NOW, expiration_time=NOW + timedelta(minutes=5))  # fmt: skip
    return siwe.SiweMessage(**{**fields, **changes})


def verify(text, signature, now=NOW):
    return siwe.verify(text, signature, domain="gov.example", uri="https://gov.example", chain_id=1337, now=now)


@settings(max_examples=50, deadline=None)
@given(nonce=st.text(alphabet="abcdefABCDEF0123456789", min_size=8, max_size=40), chain_id=st.integers(1, 2**63), minutes=st.integers(1, 10_000))
@example(nonce="00000000", chain_id=1, minutes=1)
def test_build_parse_round_trip(nonce, chain_id, minutes):
    original = message(nonce=nonce, chain_id=chain_id, expiration_time=NOW + timedelta(minutes=minutes))
    assert siwe.parse(original.text()) == original


def test_valid_signature_verifies():
    text = message().text()
    assert verify(text, siwe.sign(text, KEY.key)).address == KEY.address


@pytest.mark.parametrize(
    "text, error",
    [
        (message(domain="evil.example").text(), "is for evil.example"),
        (message(chain_id=1).text(), "for chain 1"),
        (message(expiration_time=NOW).text(), "expired"),
        (message(issued_at=NOW + timedelta(hours=1), expiration_time=NOW + timedelta(hours=2)).text(), "future"),
        (message().text().replace(KEY.address, KEY.address.lower()), "checksummed"),
        (message().text() + "\nResources:", "not an EIP-4361"),
        ("", "not an EIP-4361"),
    ],
)
def test_refusals(text, error):
    with pytest.raises(siwe.SiweError, match=error):
        verify(text, siwe.sign(text or "x", KEY.key))


@given(flip=st.integers(0, 64))
@settings(max_examples=30, deadline=None)
def test_any_tampered_signature_fails(flip):
    text = message().text()
    signature = bytearray(bytes.fromhex(siwe.sign(text, KEY.key)[2:]))
    signature[flip] ^= 0x01
    with pytest.raises(siwe.SiweError):
        verify(text, "0x" + signature.hex())
