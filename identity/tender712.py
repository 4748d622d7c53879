"""EIP-712 messages for ``TenderLedger`` (sign-in, objection, scores) and the key commitment.

The types mirror ``contracts/interfaces/ITenderLedger.sol`` exactly:

    SignIn(bytes32 tenderId,bytes32 pseudonym,address bidder)
    Objection(bytes32 tenderId,bytes32 pseudonym,bytes32 objectionHash)
    Score(bytes32 tenderId,bytes32 pseudonym,bytes32 scoresHash)

under the domain "govchain TenderLedger", version "1", the chain id and the contract (the
:class:`identity.typed_data.Domain` with this name; digest and signing are that module's). A bidder signs its sign-in and its
objections, an expert its scores; the relayer (or the signer itself) submits them.

The key commitment a bid carries is
``keccak256(abi.encode(uint256 chainId, address ledger, bytes32 tenderId, address bidder, bytes32 key, bytes32 salt))``:
bound to the bidder, the tender, the contract and the chain, and checked by ``revealKey``.
"""

from __future__ import annotations

from collections.abc import Sequence

from eth_abi import encode
from eth_utils import keccak, to_checksum_address

from chain.hexcodec import hx, to_bytes32
from identity import typed_data
from identity.typed_data import Domain, MessageType, Signer

DOMAIN_NAME = "govchain TenderLedger"
DOMAIN_VERSION = "1"
MAX_SCORE = 100  # per criterion; the contract refuses more

SIGNIN = MessageType("SignIn(bytes32 tenderId,bytes32 pseudonym,address bidder)")
OBJECTION = MessageType("Objection(bytes32 tenderId,bytes32 pseudonym,bytes32 objectionHash)")
SCORE = MessageType("Score(bytes32 tenderId,bytes32 pseudonym,bytes32 scoresHash)")
SIGNIN_TYPE, OBJECTION_TYPE, SCORE_TYPE = SIGNIN.encoded, OBJECTION.encoded, SCORE.encoded


def domain(chain_id: int, ledger: str) -> Domain:
    """The EIP-712 domain of the TenderLedger deployed at ``ledger`` on chain ``chain_id``."""
    return Domain(chain_id, to_checksum_address(ledger), DOMAIN_NAME, DOMAIN_VERSION)


def _hex(value: bytes, what: str) -> str:
    return hx(to_bytes32(value, what))


def typed_data_digest(typed: dict) -> bytes:
    """The EIP-712 digest the contract checks a signature of ``typed`` against."""
    return typed_data.digest(typed)


# -- sign-in --------------------------------------------------------------------------------


def signin_typed_data(tender_id: bytes, pseudonym: bytes, bidder: str, domain: Domain) -> dict:
    """The full EIP-712 ``SignIn`` message (``eth_signTypedData_v4``): ``bidder`` is behind ``pseudonym``."""
    message = {"tenderId": _hex(tender_id, "tender_id"), "pseudonym": _hex(pseudonym, "pseudonym"), "bidder": to_checksum_address(bidder)}
    return SIGNIN.typed_data(message, domain)


def sign_signin(tender_id: bytes, pseudonym: bytes, bidder: str, domain: Domain, signer: Signer) -> bytes:
    """The bidder's 65-byte signature (r, s, v) signing in under ``pseudonym``."""
    return typed_data.sign(signin_typed_data(tender_id, pseudonym, bidder, domain), signer)


# -- objections -----------------------------------------------------------------------------


def text_hash(text: str) -> bytes:
    """keccak256 of the UTF-8 text (an objection or an answer: the text itself stays off chain)."""
    return keccak(text.encode("utf-8"))


def objection_typed_data(tender_id: bytes, pseudonym: bytes, objection_hash: bytes, domain: Domain) -> dict:
    """The full EIP-712 ``Objection`` message of the bidder signed in under ``pseudonym``."""
    message = {
        "tenderId": _hex(tender_id, "tender_id"),
        "pseudonym": _hex(pseudonym, "pseudonym"),
        "objectionHash": _hex(objection_hash, "objection_hash"),
    }
    return OBJECTION.typed_data(message, domain)


def sign_objection(tender_id: bytes, pseudonym: bytes, objection_hash: bytes, domain: Domain, signer: Signer) -> bytes:
    """The bidder's 65-byte signature raising the objection hashed to ``objection_hash``."""
    return typed_data.sign(objection_typed_data(tender_id, pseudonym, objection_hash, domain), signer)


# -- scores ---------------------------------------------------------------------------------


def scores_hash(scores: Sequence[int]) -> bytes:
    """keccak256(abi.encodePacked(uint16[] scores)): each score as one 32-byte big-endian word
    (Solidity pads array elements in ``encodePacked``; EIP-712 encodes a ``uint16[]`` the same way)."""
    words = []
    for index, score in enumerate(scores):
        if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score < 2**16:
            raise ValueError(f"score {index} must be a uint16 (0..65535), got {score!r}")
        words.append(int(score).to_bytes(32, "big"))
    return keccak(b"".join(words))


def score_typed_data(tender_id: bytes, pseudonym: bytes, scores: Sequence[int], domain: Domain) -> dict:
    """The full EIP-712 ``Score`` message over ``scores`` (0..100, one per criterion) for one bid."""
    message = {
        "tenderId": _hex(tender_id, "tender_id"),
        "pseudonym": _hex(pseudonym, "pseudonym"),
        "scoresHash": hx(scores_hash(scores)),
    }
    return SCORE.typed_data(message, domain)


def sign_scores(tender_id: bytes, pseudonym: bytes, scores: Sequence[int], domain: Domain, signer: Signer) -> bytes:
    """The expert's 65-byte signature over its ``scores`` for the bid ``pseudonym``."""
    return typed_data.sign(score_typed_data(tender_id, pseudonym, scores, domain), signer)


# -- key commitment -------------------------------------------------------------------------


def key_commitment(chain_id: int, contract: str, tender_id: bytes, bidder: str, key: bytes, salt: bytes) -> bytes:
    """keccak256(abi.encode(chainId, contract, tenderId, bidder, key, salt)), as ``revealKey`` checks it.

    ``key`` is the bid file's 32-byte key; ``salt`` 32 random bytes kept with it, so the
    commitment says nothing about the key before the reveal.
    """
    values = [
        int(chain_id),
        to_checksum_address(contract),
        to_bytes32(tender_id, "tender_id"),
        to_checksum_address(bidder),
        to_bytes32(key, "key"),
        to_bytes32(salt, "salt"),
    ]
    return keccak(encode(["uint256", "address", "bytes32", "address", "bytes32", "bytes32"], values))
