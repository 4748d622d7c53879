"""The one EIP-712 module (identity.typed_data): every message type's digest is the one its contract
computes, re-derived here by hand from the typehash strings in the contracts' own source
(``_hashTypedDataV4(keccak256(abi.encode(TYPEHASH, ...)))``), and recovery refuses malformed signatures."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from eth_abi import encode
from eth_account import Account
from eth_utils import keccak

from identity import commitment as cm
from identity import eip712, pseudonym, tender712, typed_data
from identity.pull_request import PullRequest

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"
KEY = "0x" + "42" * 32
SIGNER = Account.from_key(KEY).address
CONTRACT = "0x" + "5a" * 20
CHAIN = 1337
A, B, C = (keccak(text=w) for w in ("a", "b", "c"))


def solidity_typehash(contract: str, constant: str) -> bytes:
    """``keccak256("...")`` of ``constant`` in ``contracts/<contract>.sol`` (adjacent literals joined)."""
    source = (CONTRACTS / f"{contract}.sol").read_text()
    match = re.search(constant + r"\s*=\s*keccak256\(\s*((?:\"[^\"]*\"\s*)+)\)", source)
    assert match, f"{constant} not found in {contract}.sol"
    return keccak("".join(re.findall(r"\"([^\"]*)\"", match.group(1))).encode())


def hash_typed_data_v4(domain: typed_data.Domain, struct_hash: bytes) -> bytes:
    domain_type = keccak(b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
    separator = keccak(encode(["bytes32", "bytes32", "bytes32", "uint256", "address"],
                              [domain_type, keccak(domain.name.encode()), keccak(domain.version.encode()), domain.chain_id, domain.verifying_contract]))  # fmt: skip
    return keccak(b"\x19\x01" + separator + struct_hash)


def test_consent_and_revocation_digests_are_consent_registrys():
    domain = eip712.Domain(CHAIN, CONTRACT)
    terms = eip712.ConsentTerms(SIGNER, CONTRACT, 5, A, B, C, 10, 20, 3, 7, 99)
    struct = keccak(encode(["bytes32", "address", "address", "uint8", "bytes32", "bytes32", "bytes32", "uint40", "uint40", "uint16", "uint256", "uint256"],
                           [solidity_typehash("ConsentRegistry", "CONSENT_TYPEHASH"), *terms.as_tuple()]))  # fmt: skip
    assert eip712.consent_id(terms, domain) == hash_typed_data_v4(domain, struct)
    struct = keccak(encode(["bytes32", "bytes32", "uint256"], [solidity_typehash("ConsentRegistry", "REVOCATION_TYPEHASH"), A, 99]))
    assert eip712.revocation_digest(A, 99, domain) == hash_typed_data_v4(domain, struct)


def test_pull_request_digest_is_consent_registrys():
    request = PullRequest(A, 2, 1, B, C, SIGNER, CONTRACT, 1000)
    details = keccak(encode(["bytes32", "bytes32", "bytes32"], [keccak(b"PullDetails(bytes32 attributesHash,bytes32 subjectHash)"), B, C]))
    struct = keccak(encode(["bytes32", "bytes32", "uint16", "uint8", "address", "address", "bytes32", "uint64"],
                           [solidity_typehash("ConsentRegistry", "PULL_REQUEST_TYPEHASH"), A, 2, 1, SIGNER, CONTRACT, details, 1000]))  # fmt: skip
    assert request.details_hash == details
    assert request.digest(CHAIN, CONTRACT) == hash_typed_data_v4(eip712.Domain(CHAIN, CONTRACT), struct)


@pytest.mark.parametrize("name", ["SignIn", "Objection", "Score"])
def test_tender_digests_are_tender_ledgers(name):
    domain = tender712.domain(CHAIN, CONTRACT)
    built = {
        "SignIn": (tender712.signin_typed_data(A, B, SIGNER, domain), "SIGNIN_TYPEHASH", ["address"], [SIGNER]),
        "Objection": (tender712.objection_typed_data(A, B, C, domain), "OBJECTION_TYPEHASH", ["bytes32"], [C]),
        "Score": (tender712.score_typed_data(A, B, [70, 80], domain), "SCORE_TYPEHASH", ["bytes32"], [tender712.scores_hash([70, 80])]),
    }
    typed, constant, last_type, last = built[name]
    struct = keccak(encode(["bytes32", "bytes32", "bytes32", *last_type], [solidity_typehash("TenderLedger", constant), A, B, *last]))
    assert typed_data.digest(typed) == tender712.typed_data_digest(typed) == hash_typed_data_v4(domain, struct)


def test_commitment_digest_goes_through_the_one_module():
    commitment, domain = cm.Commitment(SIGNER, A, "education-certificate", B, 1000), cm.domain(CHAIN, CONTRACT)
    assert cm.digest(commitment, domain) == typed_data.digest(cm.typed_data(commitment, domain))
    assert cm.recover(commitment, domain, cm.sign(commitment, domain, KEY)) == SIGNER


def test_a_domain_without_a_contract_has_three_fields():
    link = pseudonym.link_typed_data(SIGNER, CONTRACT, A, CHAIN)
    assert link["domain"] == {"name": "govchain consent pseudonym", "version": "1", "chainId": CHAIN}
    assert [f["name"] for f in link["types"]["EIP712Domain"]] == ["name", "version", "chainId"]
    domain_type = keccak(b"EIP712Domain(string name,string version,uint256 chainId)")
    separator = keccak(encode(["bytes32", "bytes32", "bytes32", "uint256"], [domain_type, keccak(b"govchain consent pseudonym"), keccak(b"1"), CHAIN]))
    struct = keccak(encode(["bytes32", "address", "address", "bytes32"],
                           [keccak(b"PseudonymLink(address applicant,address pseudonym,bytes32 consentId)"), SIGNER, CONTRACT, A]))  # fmt: skip
    assert typed_data.digest(link) == keccak(b"\x19\x01" + separator + struct)
    assert pseudonym.link_signer(link, typed_data.sign(link, KEY)) == SIGNER


def test_sign_and_recover_agree_and_malformed_signatures_are_refused():
    typed = tender712.signin_typed_data(A, B, SIGNER, tender712.domain(CHAIN, CONTRACT))
    signature = typed_data.sign(typed, Account.from_key(KEY))
    assert signature == typed_data.sign(typed, KEY) and len(signature) == 65
    assert typed_data.recover(typed, signature) == SIGNER
    other = tender712.signin_typed_data(A, C, SIGNER, tender712.domain(CHAIN, CONTRACT))
    assert typed_data.recover(other, signature) != SIGNER
    with pytest.raises(ValueError, match="65 bytes"):
        typed_data.recover(typed, signature[:64])
    with pytest.raises(ValueError, match="cannot be recovered"):
        typed_data.recover(typed, signature[:64] + b"\x05")
    assert typed_data.recover_or_none(typed, b"\0" * 65) is None
