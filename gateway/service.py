"""The data holder's gateway: check the consent on chain, log the pull on chain, then
release the data sealed to the requesting agency, and never the other way round.

The contract is the one place that decides: every pull that passes the signature, scope
and subject checks is sealed, stored as pending and handed to ``recordPulls``; a logged
pull is released, a refused one is recorded on chain (``PullRefused``, with the digest of
what would have gone out), its ciphertext is dropped and the agency gets 403 + the reason.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from collections.abc import Sequence
from typing import cast

from eth_account.signers.local import LocalAccount
from sqlalchemy.exc import IntegrityError
from web3 import Web3

from chain import reverts
from chain.config import Environment, load_node_config
from chain.consents import CATEGORIES, REFUSAL_TEXT, ConsentRegistryClient, PullOutcome, PullRecord, PullRefusal
from chain.db import make_engine, session_factory
from chain.erc1271 import wallet_accepts
from chain.deploy import load_record
from chain.errors import ConfigError, ContractRevert, NotDeployed
from chain.registry import GovRegistryClient, Member, MemberStatus, Role
from chain.tx import ChainClient, Receipt
from gateway.batcher import PullBatcher
from gateway.dataset import DataSource, DemoDataset
from gateway.models import LOGGED, PENDING, REFUSED, GatewayPull
from gateway.settings import GatewaySettings
from httpkit.problems import BadRequest, Conflict, Forbidden, Problem, Unauthorized
from identity import binding
from identity.eip712 import scope_hash
from identity.keys import dev_party, hpke_key_history, load_keystore
from identity.pull_body import PullIn, PullOut
from identity.canonical import canonical_json
from identity.pull_request import BadMessage, PullRequest, attributes_hash, pull_request_id, sign_answer
from identity.sealing import SealError, hpke_open, hpke_seal
from chain.hexcodec import hx, unhex

MEMBER_CACHE_SECONDS = 30.0  # a suspension or key rotation reaches the gateway within this


class Refused(Forbidden):
    """403 with the exact reason (revoked, expired, category_not_covered, ...)."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail, reason=reason)


@dataclass(eq=False)
class Pending:
    """A pull's row on its way through the batcher; ``stored`` once it is in the database."""

    row: GatewayPull
    stored: bool


@dataclass(frozen=True)
class GrantedTerms:
    applicant: str
    agency: str
    scope_hash: bytes
    face_check_ref: bytes


class Gateway:
    def __init__(self, settings: GatewaySettings, source: DataSource | None = None):
        self.settings = settings
        self.holder = self._holder_key()
        # the current HPKE key and the earlier ones: a subject sealed to a key before its rotation still opens
        self.hpke_keys = hpke_key_history(self.holder, settings.hpke_generation)
        record = load_record(settings.state_dir)
        if record is None:
            raise NotDeployed(f"no deployment record in {settings.state_dir}")
        for entry in record.contracts.values():
            reverts.register_abi(entry["abi"])
        self.client = ChainClient.from_url(settings.rpc_url, expected_chain_id=settings.chain_id)
        self.registry = GovRegistryClient(self.client, record.address("GovRegistry"), record.contracts["GovRegistry"]["abi"])
        entry = record.contracts["ConsentRegistry"]
        self.consents = ConsentRegistryClient(self.client, entry["address"], entry["abi"])
        self.from_block = entry["block"]
        url = settings.database_url or f"sqlite:///{settings.state_dir / f'gateway-{self.holder.address}.db'}"
        self.engine = make_engine(url)
        self.sessions = session_factory(self.engine)
        self.source = source or DemoDataset(settings.dataset_size)
        self.batcher = PullBatcher(self.consents, self.holder, max_batch=settings.max_batch, interval=settings.batch_interval,
                                   max_in_flight=settings.batches_in_flight, store=self._store, settle=self._settle)  # fmt: skip
        self._terms: dict[bytes, GrantedTerms] = {}
        self._members: dict[str, tuple[float, Member, bool]] = {}
        self._lock = threading.Lock()

    def _holder_key(self) -> LocalAccount:
        if self.settings.keystore:
            return load_keystore(self.settings.keystore, self.settings.keystore_password.get_secret_value())
        if self.settings.env is not Environment.DEV:
            raise ConfigError("GOVCHAIN_GATEWAY_KEYSTORE is needed outside dev")
        return dev_party(load_node_config(), self.settings.holder_party)

    def close(self) -> None:
        self.batcher.close()
        self.engine.dispose()

    # -- the pull ------------------------------------------------------------------------

    def pull(self, body: PullIn, now: datetime) -> PullOut:
        request, category = self._verified_request(body, now)
        request_id = hx(request.request_id)
        # what the request asks for, not its envelope: a retry re-signs with a new time and a new box
        asked = body.model_dump(include={"sequence", "consent_id", "category", "attributes", "scope", "requester"})
        fingerprint = hx(Web3.keccak(canonical_json({**asked, "attributes": sorted(body.attributes)})))
        with self.sessions() as session:
            known = session.get(GatewayPull, request_id)
            if known is not None and known.status == REFUSED:  # released nothing: its number is free again
                session.delete(known)
                session.commit()
            elif known is not None:
                if known.fingerprint != fingerprint:
                    raise Conflict(f"request {body.sequence} of consent {body.consent_id} ({request_id}) was used for another request")
                if known.status == LOGGED:
                    return self._answer(known)
                return self._log(Pending(known, stored=True), request, body.signature)  # pending: a retry after a crash or a timeout finishes the same pull
        terms = self._granted_terms(request.consent_id)
        self._check_scope_and_subject(body, request, terms)
        subject = self._subject(body)
        data = self.source.lookup(body.category, subject["id_number"])
        released = {name: data[name] for name in body.attributes if name in data} if data else None
        payload = {
            "request_id": request_id, "consent_id": body.consent_id.lower(), "sequence": body.sequence, "category": body.category,
            "holder": self.holder.address, "found": data is not None, "data": released, "answered_at": int(now.timestamp()),
        }  # fmt: skip
        requester_key = self._requester_key(request.requester)
        ciphertext = hpke_seal(requester_key, canonical_json(sign_answer(payload, self.holder.key)), b"govchain pull " + request.request_id)
        row = GatewayPull(
            request_id=request_id, holder=self.holder.address, consent_id=body.consent_id.lower(), category=category,
            requester=request.requester, fingerprint=fingerprint, ciphertext=ciphertext,
            digest="0x" + hashlib.sha256(ciphertext).hexdigest(), status=PENDING,
        )  # fmt: skip
        return self._log(Pending(row, stored=False), request, body.signature)

    def _log(self, pending: Pending, request: PullRequest, signature: str) -> PullOut:
        """Log the pull on chain with the agency's signed request (the contract checks the signature).
        The batcher stores the row as pending before its batch is sent (:meth:`_store`) and records
        the outcome after it is mined (:meth:`_settle`), a batch's rows in one transaction each way."""
        row = pending.row
        record = PullRecord(
            request.consent_id, request.sequence, row.category, row.requester, request.issued_at, request.details_hash,
            unhex(row.digest), unhex(signature),
        )  # fmt: skip
        try:
            outcome, receipt = self.batcher.submit(record, pending).result(120)
        except ContractRevert as exc:
            if exc.name not in ("ConsentRegistryInvalidPullSignature", "ConsentRegistryPullRequestExpired"):
                raise
            with self.sessions() as session:  # the contract will not take this request: nothing goes out
                stored = session.get(GatewayPull, row.request_id)
                stored.status, stored.reason, stored.ciphertext = REFUSED, "request_not_accepted_on_chain", None
                session.commit()
            raise Unauthorized(f"the chain does not accept the request's signature ({exc.name})") from None
        if outcome.refusal is PullRefusal.DUPLICATE_REQUEST:
            return self._recover(row, request.sequence)
        if not outcome.logged:
            raise Refused(REFUSAL_TEXT[outcome.refusal], f"pull refused: {REFUSAL_TEXT[outcome.refusal]}")
        return self._answer(row)

    def _store(self, batch: Sequence[Pending]) -> list[Exception | None]:
        """Before a batch is sent: its new rows stored as pending, in one transaction. A request id
        already stored (the same request raced in) is refused with 409, the others go on."""
        new = [pending for pending in batch if not pending.stored]
        ids = [pending.row.request_id for pending in new]
        errors: dict[int, Exception] = {
            id(pending): Conflict(f"request id {pending.row.request_id} is being processed; retry")
            for index, pending in enumerate(new) if pending.row.request_id in ids[:index]
        }  # fmt: skip
        fresh = [pending for pending in new if id(pending) not in errors]
        try:
            with self.sessions() as session:
                session.add_all([pending.row for pending in fresh])
                session.commit()
        except IntegrityError:  # one of them is stored already: store one by one to learn which
            for pending in fresh:
                with self.sessions() as session:
                    session.add(pending.row)
                    try:
                        session.commit()
                    except IntegrityError:
                        session.rollback()
                        errors[id(pending)] = Conflict(f"request id {pending.row.request_id} is being processed; retry")
        for pending in fresh:
            pending.stored = id(pending) not in errors
        return [errors.get(id(pending)) for pending in batch]

    def _settle(self, batch: Sequence[tuple[Pending, PullOutcome]], receipt: Receipt) -> None:
        """After a batch is mined: each row logged (with its pull number) or refused (its ciphertext
        dropped), in one transaction. A duplicate request is left pending: its caller recovers it."""
        with self.sessions() as session:
            for pending, outcome in batch:
                if outcome.refusal is PullRefusal.DUPLICATE_REQUEST:
                    continue
                row = pending.row
                session.add(row)  # the stored row, detached since it was stored: updated without a read
                if outcome.logged:
                    row.status, row.tx_hash, row.block_number, row.pull_number = LOGGED, receipt.tx_hash, receipt.block_number, outcome.pull_number
                else:
                    row.status, row.reason, row.ciphertext = REFUSED, REFUSAL_TEXT[outcome.refusal], None
            session.commit()

    def _recover(self, row: GatewayPull, sequence: int) -> PullOut:
        """The chain may already hold this request's log (a crash between log and answer)."""
        events = self.consents.contract.events.DataPulled.get_logs(from_block=self.from_block, argument_filters={"consentId": unhex(row.consent_id)})
        for event in events:  # DataPulled names no holder: the holder is the transaction's sender
            if (event["args"]["pullNumber"] == sequence and hx(event["args"]["digest"]) == row.digest
                    and self.consents.client.w3.eth.get_transaction(event["transactionHash"])["from"] == self.holder.address):  # fmt: skip
                with self.sessions() as session:
                    stored = session.get(GatewayPull, row.request_id)
                    stored.status, stored.tx_hash = LOGGED, hx(event["transactionHash"])
                    stored.block_number, stored.pull_number = event["blockNumber"], event["args"]["pullNumber"]
                    session.commit()
                    return self._answer(stored)
        with self.sessions() as session:  # the number went to another pull: this one was never logged
            stored = session.get(GatewayPull, row.request_id)
            stored.status, stored.reason, stored.ciphertext = REFUSED, REFUSAL_TEXT[PullRefusal.DUPLICATE_REQUEST], None
            session.commit()
        raise Refused("duplicate_request", f"pull number {sequence} of consent {row.consent_id} is logged already, for another request")

    def _answer(self, row: GatewayPull) -> PullOut:
        """The answer of an answered row (those keep their ciphertext)."""
        return PullOut(
            request_id=row.request_id, consent_id=row.consent_id, category=CATEGORIES[row.category], holder=row.holder,
            ciphertext=base64.b64encode(cast(bytes, row.ciphertext)).decode(), digest=row.digest, tx_hash=row.tx_hash,
            block_number=row.block_number, pull_number=row.pull_number,
        )  # fmt: skip

    # -- checks --------------------------------------------------------------------------

    def _verified_request(self, body: PullIn, now: datetime) -> tuple[PullRequest, int]:
        if abs(now.timestamp() - body.issued_at) > self.settings.clock_skew_seconds:
            raise Unauthorized(f"the request was issued at {body.issued_at}, too far from now ({int(now.timestamp())})")
        category = CATEGORIES.index(body.category)
        request = PullRequest(
            consent_id=unhex(body.consent_id), sequence=body.sequence, category=category,
            attributes_hash=attributes_hash(cast(dict[str, list[str]], body.scope), body.attributes), subject_hash=Web3.keccak(body.subject.encode()),
            requester=Web3.to_checksum_address(body.requester), holder=self.holder.address, issued_at=body.issued_at,
        )  # fmt: skip
        signature = unhex(body.signature)
        malformed: BadMessage | None
        try:
            signer: str | None = request.signer(signature, self.client.chain_id, self.consents.address)
        except BadMessage as exc:
            signer, malformed = None, exc
        else:
            malformed = None
        if signer != request.requester and not self._wallet_accepts(request, signature):
            if malformed is not None:
                raise Unauthorized(str(malformed))
            raise Unauthorized(f"the request is signed by {signer}, not by the requester {request.requester}")
        return request, category

    def _wallet_accepts(self, request: PullRequest, signature: bytes) -> bool:
        """True when the requester is a contract wallet whose ERC-1271 ``isValidSignature`` accepts
        the signature (the contract asks the same when the pull is logged)."""
        return wallet_accepts(self.client, request.requester, request.digest(self.client.chain_id, self.consents.address), signature)

    def _granted_terms(self, consent_id: bytes) -> GrantedTerms:
        with self._lock:
            if consent_id in self._terms:
                return self._terms[consent_id]
        events = self.consents.contract.events.ConsentGranted.get_logs(from_block=self.from_block, argument_filters={"consentId": consent_id})
        if not events:
            raise Refused("unknown_consent", f"no consent 0x{consent_id.hex()} was granted on chain")
        args = events[0]["args"]
        terms = GrantedTerms(args["applicant"], args["agency"], bytes(args["scopeHash"]), bytes(args["faceCheckRef"]))
        with self._lock:
            self._terms[consent_id] = terms
        return terms

    def _requester_key(self, requester: str) -> bytes:
        """The requester's registered X25519 key (cached for ``MEMBER_CACHE_SECONDS``); refused
        if the requester is not an active member holding the AGENCY role any more (the contract
        checks the role again when the pull is logged, so a cached answer never lets one through)."""
        now = time.monotonic()
        with self._lock:
            cached = self._members.get(requester)
        if cached is None or now - cached[0] > MEMBER_CACHE_SECONDS:
            cached = (now, self.registry.member(requester, with_roles=False), self.registry.has_active_role(Role.AGENCY, requester))
            with self._lock:
                self._members[requester] = cached
        member, is_agency = cached[1], cached[2]
        if member.status is not MemberStatus.ACTIVE:
            raise Refused("requester_not_active", f"{requester} is not an active member ({member.status.name.lower()})")
        if not is_agency:
            raise Refused("requester_not_agency", f"{requester} does not hold the AGENCY role")
        return member.info.hpke_public_key

    def _check_scope_and_subject(self, body: PullIn, request: PullRequest, terms: GrantedTerms) -> None:
        if scope_hash({k: sorted(v) for k, v in body.scope.items()}, unhex(body.scope_salt)) != terms.scope_hash:
            raise Refused("scope_mismatch", "the attribute list does not match the consent's scope hash")
        allowed = set(body.scope.get(body.category, []))
        extra = sorted(set(body.attributes) - allowed)
        if extra:
            raise Refused("attribute_not_covered", f"attributes {extra} are not in the consent's scope for {body.category}")
        subject = self._subject(body)
        if not binding.matches(terms.face_check_ref, subject["vendor_request_id"], subject["id_number"], bytes.fromhex(subject["salt"])):
            raise Refused("subject_mismatch", "the subject does not open the consent's face-check reference")

    def _subject(self, body: PullIn) -> dict:
        try:
            opened = hpke_open(self.hpke_keys, base64.b64decode(body.subject, validate=True), b"govchain subject " + pull_request_id(unhex(body.consent_id), body.sequence))
            subject = json.loads(opened)
            assert isinstance(subject, dict) and {"id_number", "vendor_request_id", "salt"} <= subject.keys()
            return subject
        except (SealError, ValueError, AssertionError):
            raise BadRequest("the subject is not a box sealed to this holder holding id_number, vendor_request_id and salt") from None


__all__ = ["Gateway", "GatewaySettings", "Problem"]
