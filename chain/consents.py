"""Typed client for ``ConsentRegistry``: signed consents, revocation, pause, and the pull log.

This module knows no EIP-712: consent terms arrive as tuples (anything with ``as_tuple()``,
e.g. ``identity.eip712.ConsentTerms``) and signatures as raw bytes. Building and signing
the typed data is ``identity.eip712``'s job (dependencies point api -> identity -> chain).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Protocol

from eth_account.signers.local import LocalAccount
from web3 import Web3

from chain.errors import NonceTaken, TransactionFailed
from chain.contract import ContractClient
from chain.hexcodec import unhex
from chain.tx import Receipt


class ConsentState(IntEnum):
    """``IConsentRegistry.ConsentState``; ``EXPIRED`` is derived from time, never stored."""

    NONE = 0
    ACTIVE = 1
    PAUSED = 2
    REVOKED = 3
    EXPIRED = 4


class PullRefusal(IntEnum):
    """``IConsentRegistry.PullRefusal``: why a pull was refused (``NONE``: it was, or would be, logged)."""

    NONE = 0
    UNKNOWN_CONSENT = 1
    REVOKED = 2
    PAUSED = 3
    NOT_YET_VALID = 4
    EXPIRED = 5
    CATEGORY_NOT_COVERED = 6
    WRONG_REQUESTER = 7
    CATEGORY_NOT_SERVED = 8
    MAX_PULLS_REACHED = 9
    DUPLICATE_REQUEST = 10  # the sequence number was logged already
    REQUESTER_NOT_AGENCY = 11  # the requester is not an active AGENCY (any more)
    OUT_OF_SEQUENCE = 12  # the sequence number skips ahead of the consent's pull count


# The data categories a consent covers, by ConsentRegistry's category number (bit index = position).
CATEGORIES = ("id_card", "residence_permit", "household_register")

# A refusal's name in answers and records (the gateway's 403 ``reason``, the data tracker).
REFUSAL_TEXT = {
    PullRefusal.UNKNOWN_CONSENT: "unknown_consent",
    PullRefusal.REVOKED: "revoked",
    PullRefusal.PAUSED: "paused",
    PullRefusal.NOT_YET_VALID: "not_yet_valid",
    PullRefusal.EXPIRED: "expired",
    PullRefusal.CATEGORY_NOT_COVERED: "category_not_covered",
    PullRefusal.WRONG_REQUESTER: "wrong_agency",
    PullRefusal.CATEGORY_NOT_SERVED: "category_not_served",
    PullRefusal.MAX_PULLS_REACHED: "max_pulls_reached",
    PullRefusal.DUPLICATE_REQUEST: "duplicate_request",
    PullRefusal.REQUESTER_NOT_AGENCY: "requester_not_agency",
    PullRefusal.OUT_OF_SEQUENCE: "out_of_sequence",
}


class _Tupled(Protocol):
    def as_tuple(self) -> tuple: ...


SECP256K1_HALF_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0


def compact_signature(signature: bytes) -> tuple[bytes, bytes] | None:
    """The EIP-2098 form ``(r, vs)`` of a 65-byte ECDSA signature ``r || s || v``, or None when
    it has no such form (another length, ``v`` not 27/28 or 0/1, or a high ``s`` the contract
    refuses anyway): such a signature is sent whole, for the contract to refuse or pass to ERC-1271."""
    if len(signature) != 65 or signature[64] not in (0, 1, 27, 28):
        return None
    r, s, parity = signature[:32], int.from_bytes(signature[32:64]), signature[64] % 27
    if s > SECP256K1_HALF_ORDER or not any(r):
        return None
    return r, (s | parity << 255).to_bytes(32)


@dataclass(frozen=True)
class PullRecord:
    """``IConsentRegistry.PullRecord``: a pull to log, with the requester's EIP-712 signature of
    its ``PullRequest`` (built and signed in ``identity.pull_request``). ``category`` is a bit
    index (0 ID card, 1 residence permit, 2 household register), not a mask; ``sequence`` the
    pull number asked for; ``details_hash`` the struct hash of the request's ``PullDetails``;
    ``digest`` hashes what was handed over. ``signature`` is the requester's as it signed
    (65 bytes for an EOA; whatever its ERC-1271 check takes for a contract wallet): on chain an
    EOA's goes compact in the record, a wallet's aside (:meth:`encoded`)."""

    consent_id: bytes
    sequence: int
    category: int
    requester: str
    issued_at: int
    details_hash: bytes
    digest: bytes
    signature: bytes

    def encoded(self, wallet_signatures: list[bytes], is_contract: bool) -> tuple:
        """The record as ``recordPulls`` takes it: an EOA's signature in EIP-2098 form in the
        record; a contract wallet's (or one with no compact form, which the contract then
        refuses) appended to ``wallet_signatures``, the record's ``r`` zero and ``vs`` its index."""
        compact = None if is_contract else compact_signature(bytes(self.signature))
        if compact is None:
            compact = bytes(32), len(wallet_signatures).to_bytes(32)
            wallet_signatures.append(bytes(self.signature))
        return (
            bytes(self.consent_id), int(self.sequence), int(self.category), Web3.to_checksum_address(self.requester),
            int(self.issued_at), bytes(self.details_hash), bytes(self.digest), *compact,
        )  # fmt: skip


@dataclass(frozen=True)
class Consent:
    """A consent as stored. ``status`` is the stored one (never EXPIRED); ``state`` the effective one."""

    consent_id: bytes
    applicant: str
    agency: str
    categories: int
    not_before: int
    expires_at: int
    max_pulls: int
    pulls: int
    status: ConsentState
    state: ConsentState


@dataclass(frozen=True)
class PullOutcome:
    """What became of one submitted record: logged as pull number ``pull_number``, or refused."""

    record: PullRecord
    refusal: PullRefusal
    pull_number: int | None = None

    @property
    def logged(self) -> bool:
        return self.refusal is PullRefusal.NONE


@dataclass(frozen=True)
class SentPulls:
    """A ``recordPulls`` batch sent and not yet awaited: its hash, the transaction, the records in order."""

    tx_hash: str
    tx: dict
    pulls: list[PullRecord]


@dataclass(frozen=True)
class PullBatchResult:
    """The receipt of a ``recordPulls`` batch and, per input record in order, its outcome."""

    receipt: Receipt
    outcomes: list[PullOutcome]

    @property
    def recorded(self) -> int:
        return sum(1 for o in self.outcomes if o.logged)

    @property
    def refusals(self) -> list[PullRefusal]:
        return [o.refusal for o in self.outcomes]


@dataclass(frozen=True)
class DomainFields:
    """The contract's EIP-712 domain as ERC-5267 ``eip712Domain()`` reports it."""

    name: str
    version: str
    chain_id: int
    verifying_contract: str


class ConsentRegistryClient(ContractClient):
    """Reads and writes of one deployed ConsentRegistry. Writes are sent by the given account."""

    # -- writes --------------------------------------------------------------------------

    def grant_call(self, terms: _Tupled | tuple, signature: bytes | str):
        """``grantConsent(terms, signature)`` built unsent (the outbox sends it)."""
        values = terms.as_tuple() if hasattr(terms, "as_tuple") else tuple(terms)
        return self.contract.functions.grantConsent(values, unhex(signature))

    def revoke_by_sig_call(self, consent_id: bytes | str, deadline: int, signature: bytes | str):
        """``revokeConsentBySig`` built unsent."""
        return self.contract.functions.revokeConsentBySig(unhex(consent_id), int(deadline), unhex(signature))

    def grant(self, sender: LocalAccount, terms: _Tupled | tuple, signature: bytes) -> tuple[bytes, Receipt]:
        """Submit the applicant's signed terms (sent by the applicant or a relayer); returns the consent id."""
        receipt = self.client.transact(sender, self.grant_call(terms, signature))
        (granted,) = [e for e in self.events(receipt) if e.name == "ConsentGranted"]
        return bytes(granted.args["consentId"]), receipt

    def revoke(self, applicant: LocalAccount, consent_id: bytes) -> Receipt:
        return self.client.transact(applicant, self.contract.functions.revokeConsent(bytes(consent_id)))

    def revoke_by_sig(self, sender: LocalAccount, consent_id: bytes, deadline: int, signature: bytes) -> Receipt:
        """Relay the applicant's signed revocation (any sender may)."""
        return self.client.transact(sender, self.revoke_by_sig_call(consent_id, deadline, signature))

    def pause(self, applicant: LocalAccount, consent_id: bytes) -> Receipt:
        return self.client.transact(applicant, self.contract.functions.pauseConsent(bytes(consent_id)))

    def resume(self, applicant: LocalAccount, consent_id: bytes) -> Receipt:
        return self.client.transact(applicant, self.contract.functions.resumeConsent(bytes(consent_id)))

    def record_pulls(self, holder: LocalAccount, pulls: list[PullRecord]) -> PullBatchResult:
        """Log a batch of pulls; each record comes back logged (with its pull number) or refused."""
        return self.pulls_result(holder, self.send_pulls(holder, pulls))

    def send_pulls(self, holder: LocalAccount, pulls: list[PullRecord]) -> SentPulls:
        """Send a batch of pull logs without awaiting it (a gateway keeps several in flight). A batch
        the contract would refuse whole raises its named error now, before anything is sent."""
        tx = self.client.build(holder, self.contract.functions.recordPulls(*self.encode_pulls(pulls)))
        try:
            tx_hash = self.client.send(holder, tx)
        except NonceTaken:  # another process took the nonce: the refused transaction never existed
            tx_hash = self.client.send(holder, tx)
        return SentPulls(tx_hash, tx, list(pulls))

    def pulls_result(self, holder: LocalAccount, sent: SentPulls) -> PullBatchResult:
        """Await a sent batch; each record comes back logged (with its pull number) or refused."""
        receipt = self.client.wait(sent.tx_hash)
        if not receipt.ok:
            raise self.client.explain_failure(sent.tx, holder, receipt)
        pulls = sent.pulls
        verdicts = [e for e in self.events(receipt) if e.name in ("DataPulled", "PullRefused")]
        if len(verdicts) != len(pulls):
            raise TransactionFailed(f"recordPulls {receipt.tx_hash} emitted {len(verdicts)} pull events for {len(pulls)} records", receipt.tx_hash)
        outcomes = []
        for record, event in zip(pulls, verdicts, strict=True):
            if event.name == "DataPulled":
                outcomes.append(PullOutcome(record, PullRefusal.NONE, event.args["pullNumber"]))
            else:
                outcomes.append(PullOutcome(record, PullRefusal(event.args["reason"])))
        return PullBatchResult(receipt, outcomes)

    def encode_pulls(self, pulls: list[PullRecord]) -> tuple[list[tuple], list[bytes]]:
        """``recordPulls``' two arguments: the records, and the contract wallets' signatures. Whether
        a requester is a contract is asked of the node once per requester in the batch."""
        contracts = {address: bool(self.client.w3.eth.get_code(address)) for address in {Web3.to_checksum_address(p.requester) for p in pulls}}
        wallet_signatures: list[bytes] = []
        records = [p.encoded(wallet_signatures, contracts[Web3.to_checksum_address(p.requester)]) for p in pulls]
        return records, wallet_signatures

    # -- reads ---------------------------------------------------------------------------

    def state(self, consent_id: bytes) -> ConsentState:
        return ConsentState(self.contract.functions.consentState(bytes(consent_id)).call())

    def get(self, consent_id: bytes) -> Consent:
        consent_id = bytes(consent_id)
        block = self.client.block_number()  # stored fields and effective state from the same block
        agency, not_before, expires_at, categories, status, applicant, pulls, max_pulls = self.contract.functions.getConsent(consent_id).call(block_identifier=block)
        return Consent(
            consent_id=consent_id,
            applicant=applicant,
            agency=agency,
            categories=categories,
            not_before=not_before,
            expires_at=expires_at,
            max_pulls=max_pulls,
            pulls=pulls,
            status=ConsentState(status),
            state=ConsentState(self.contract.functions.consentState(consent_id).call(block_identifier=block)),
        )

    def check_pull(self, consent_id: bytes, category: int, requester: str, holder: str) -> PullRefusal:
        """What ``record_pulls`` would say of the next pull now, signature and sequence aside (``NONE``: it would be logged)."""
        call = self.contract.functions.checkPull(bytes(consent_id), category, Web3.to_checksum_address(requester), Web3.to_checksum_address(holder))
        return PullRefusal(call.call())

    def pull_request_id(self, consent_id: bytes, sequence: int) -> bytes:
        return bytes(self.contract.functions.pullRequestId(bytes(consent_id), sequence).call())

    def pull_request_lifetime(self) -> int:
        return self.contract.functions.pullRequestLifetime().call()

    def domain(self) -> DomainFields:
        _fields, name, version, chain_id, verifying_contract, _salt, _extensions = self.contract.functions.eip712Domain().call()
        return DomainFields(name, version, chain_id, Web3.to_checksum_address(verifying_contract))
