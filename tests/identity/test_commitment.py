"""Notification commitments: the applicant's EIP-712 signature over the exact promised text."""

from __future__ import annotations

import dataclasses

import pytest
from eth_abi import encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak
from hypothesis import example, given, settings
from hypothesis import strategies as st

from identity import commitment as cm

KEY = bytes.fromhex("4f3edf983ac636a65a842ce7c78d9aa706d3b113bce9c46f30d7d21715b23b1d")  # ganache dev key 0
APPLICANT = Account.from_key(KEY).address
LEDGER = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
TEXT = "本人承诺：申请人无犯罪记录，所填信息真实有效；如有虚假，愿承担相应法律责任。"


def create_commitment(**overrides) -> cm.Commitment:
    fields = {"applicant": APPLICANT, "application_id": "APP-2025-000042", "material": "no-criminal-record", "text": TEXT, "signed_at": 1_740_000_000}
    return cm.Commitment.of(**{**fields, **overrides})


def test_sign_and_recover_round_trip():
    commitment, domain = create_commitment(), cm.domain(1337, LEDGER)
    signature = cm.sign(commitment, domain, KEY)
    assert len(signature) == 65
    assert cm.recover(commitment, domain, signature) == APPLICANT == commitment.applicant
    assert cm.sign(commitment, domain, Account.from_key(KEY)) == signature  # a LocalAccount signs the same


@pytest.mark.parametrize(
    "tamper",
    [
        lambda c, d: (dataclasses.replace(c, text_hash=cm.text_hash(TEXT + " ")), d),
        lambda c, d: (dataclasses.replace(c, text_hash=cm.text_hash(TEXT.replace("无犯罪记录", "有犯罪记录"))), d),
        lambda c, d: (dataclasses.replace(c, material="household-register"), d),
        lambda c, d: (dataclasses.replace(c, application=cm.application_ref("APP-2025-000043")), d),
        lambda c, d: (dataclasses.replace(c, signed_at=c.signed_at + 1), d),
        lambda c, d: (c, cm.domain(1, LEDGER)),
        lambda c, d: (c, cm.domain(1337, "0x" + "11" * 20)),
        lambda c, d: (c, dataclasses.replace(d, version="2")),
    ],
    ids=["text-space", "text-word", "material", "application", "signed-at", "chain", "contract", "version"],
)
def test_a_signature_over_anything_else_recovers_another_signer(tamper):
    commitment, domain = create_commitment(), cm.domain(1337, LEDGER)
    signature = cm.sign(commitment, domain, KEY)
    other_commitment, other_domain = tamper(commitment, domain)
    assert cm.digest(other_commitment, other_domain) != cm.digest(commitment, domain)
    assert cm.recover(other_commitment, other_domain, signature) != APPLICANT


def test_typed_data_is_what_wallets_and_eth_account_take():
    commitment, domain = create_commitment(), cm.domain(1337, LEDGER)
    typed = cm.typed_data(commitment, domain)
    assert typed["primaryType"] == "Commitment"
    assert typed["domain"] == {"name": "govchain EvidenceLedger", "version": "1", "chainId": 1337, "verifyingContract": LEDGER}
    assert typed["message"]["textHash"] == "0x" + keccak(TEXT.encode()).hex()
    signable = encode_typed_data(full_message=typed)
    assert keccak(b"\x19" + signable.version + signable.header + signable.body) == cm.digest(commitment, domain)
    assert Account.recover_message(signable, signature=cm.sign(commitment, domain, KEY)) == APPLICANT


def test_digest_is_the_solidity_eip712_hash():
    # what EvidenceLedger computes: _hashTypedDataV4(keccak256(abi.encode(TYPEHASH, ...))), string hashed
    commitment, domain = create_commitment(), cm.domain(1337, LEDGER)
    type_hash = keccak(b"Commitment(address applicant,bytes32 application,string material,bytes32 textHash,uint64 signedAt)")
    assert cm.COMMITMENT_TYPE.encode() == b"Commitment(address applicant,bytes32 application,string material,bytes32 textHash,uint64 signedAt)"
    struct_hash = keccak(
        encode(
            ["bytes32", "address", "bytes32", "bytes32", "bytes32", "uint64"],
            [type_hash, APPLICANT, commitment.application, keccak(commitment.material.encode()), commitment.text_hash, commitment.signed_at],
        )
    )
    domain_type = keccak(b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
    separator = keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [domain_type, keccak(b"govchain EvidenceLedger"), keccak(b"1"), 1337, LEDGER],
        )
    )
    assert cm.digest(commitment, domain) == keccak(b"\x19\x01" + separator + struct_hash)


def test_domain_defaults_to_the_evidence_ledger():
    built = cm.Domain(chain_id=1337, verifying_contract=LEDGER)
    assert built == cm.domain(1337, LEDGER.lower())
    assert (built.name, built.version) == ("govchain EvidenceLedger", "1")


def test_malformed_signatures_raise_value_error():
    commitment, domain = create_commitment(), cm.domain(1337, LEDGER)
    signature = cm.sign(commitment, domain, KEY)
    for bad in (b"", signature[:64], b"\x00" * 65, signature[:64] + b"\x05"):
        with pytest.raises(ValueError, match="signature"):
            cm.recover(commitment, domain, bad)


def test_hashes_are_keccak_of_the_exact_utf8():
    assert cm.text_hash(TEXT) == keccak(TEXT.encode("utf-8"))
    assert cm.text_hash("承诺") != cm.text_hash("承诺 ")  # no normalisation: what was shown counts
    assert cm.application_ref("APP-1") == keccak(b"APP-1")


def test_malformed_commitments_are_refused():
    with pytest.raises(ValueError, match="non-empty"):
        cm.text_hash("")
    with pytest.raises(ValueError, match="non-empty"):
        cm.application_ref("")
    with pytest.raises(ValueError, match="32 bytes"):
        dataclasses.replace(create_commitment(), text_hash=b"\x00" * 31)
    with pytest.raises(ValueError, match="uint64"):
        create_commitment(signed_at=2**64)
    with pytest.raises(ValueError, match="uint64"):
        create_commitment(signed_at=-1)
    with pytest.raises(ValueError, match="material"):
        create_commitment(material="")
    with pytest.raises(ValueError):
        create_commitment(applicant="0x1234")


@settings(max_examples=25, deadline=None)
@given(text=st.text(min_size=1, max_size=200), material=st.text(min_size=1, max_size=40), signed_at=st.integers(0, 2**64 - 1))
@example(text="\x00", material="a", signed_at=0)
@example(text="承", material="无犯罪记录证明", signed_at=2**64 - 1)
def test_any_commitment_round_trips(text, material, signed_at):
    commitment, domain = create_commitment(text=text, material=material, signed_at=signed_at), cm.domain(31337, LEDGER)
    assert cm.recover(commitment, domain, cm.sign(commitment, domain, KEY)) == APPLICANT
