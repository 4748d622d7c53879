"""Consents: terms offered to the applicant, relayed grants and revocations, and the
applicant's own view of every consent and every access to their data (read from chain)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import cast

from eth_utils import keccak
from hexbytes import HexBytes
from sqlalchemy import select
from sqlalchemy.orm import Session
from web3 import Web3

from api.applications import states
from api.catalog import CATEGORIES, categories_mask, merged_scope
from api.consents import schemas
from api.context import Platform
from api.writes.service import write
from chain.consents import REFUSAL_TEXT
from api.models import Application, PullOutcome
from httpkit.problems import BadRequest, Forbidden, NotFound
from chain import intents
from chain.consents import ConsentState, PullRefusal
from identity import eip712, pseudonym as pseudonyms, typed_data
from chain.hexcodec import hx, unhex

SIGNATURE_WINDOW = timedelta(minutes=15)


def domain(platform: Platform) -> eip712.Domain:
    return eip712.Domain.of(platform.contracts.consents().domain())


def clocks(platform: Platform, now: datetime) -> tuple[int, int]:
    """``(earliest, latest)`` of our clock and the chain's latest block time.

    Contracts compare with ``block.timestamp``, which can lag our clock (an idle chain, a
    dev node rewound by a snapshot) or lead it (a dev node moved ahead). A window opens at
    the earlier of the two and a signature deadline counts from the later one, so neither
    skew makes a fresh consent "not yet valid" or its signature "expired".
    """
    latest = platform.contracts.chain().w3.eth.get_block("latest")["timestamp"]
    wall = int(now.timestamp())
    return min(wall, latest), max(wall, latest)


def terms_of(stored: dict) -> eip712.ConsentTerms:
    fields = dict(stored)
    for name in ("scope_hash", "purpose_hash", "face_check_ref"):
        fields[name] = unhex(fields[name])
    return eip712.ConsentTerms(**fields)


def scope_salt(application: Application) -> bytes:
    """The salt of the consent's scope hash, derived from the application's purpose salt (a
    one-way step: handing it to the agency and the data holders reveals nothing of the purpose)."""
    return keccak(b"govchain scope salt v1" + unhex(application.purpose_salt))


def derivation(platform: Platform, application: Application) -> schemas.PseudonymInfo:
    """How the applicant derives the pseudonym of the application's consent."""
    registry = platform.contracts.consents().address
    return schemas.PseudonymInfo(message=pseudonyms.root_message(platform.contracts.chain().chain_id, registry), salt=hx(pseudonyms.salt_for(application.id)))


def offer(platform: Platform, session: Session, application: Application, now: datetime, pseudonym: str | None) -> schemas.ConsentOffer:
    """Terms for the consent's pseudonym to sign: scope from the catalog (salted hash), and the
    handling agency's one window and pull budget (nothing on chain names the matter). The
    applicant on chain is ``pseudonym`` (nothing on chain links two consents of one wallet);
    without one, only how to derive it."""
    states.require(application, states.FACE_VERIFIED)
    matters = [platform.catalog.matters[code] for code in application.matters]
    scope = merged_scope(matters)
    purposes = [m.name_zh for m in matters]
    if pseudonym is None:
        return schemas.ConsentOffer(pseudonym=derivation(platform, application), consent_id=None, typed_data=None, link_typed_data=None,
                                    scope=scope, purposes=purposes, expires_at=None)  # fmt: skip
    pseudonym = Web3.to_checksum_address(pseudonym)
    if pseudonym == application.applicant:
        raise BadRequest("the consent's applicant on chain must be a pseudonym, not your wallet (see pseudonym.message)")
    days, pulls = platform.catalog.consent_profile(matters[0].agency)
    start, later = clocks(platform, now)
    terms = eip712.ConsentTerms(
        applicant=pseudonym,
        agency=application.agency,
        categories=categories_mask(scope),
        scope_hash=eip712.scope_hash(scope, scope_salt(application)),
        purpose_hash=eip712.purpose_hash(application.code, application.id, unhex(cast(str, application.purpose_salt))),  # set when applying
        face_check_ref=unhex(cast(str, application.face_check_ref)),  # set by the face check, which consent requires
        not_before=start,
        expires_at=start + days * 86_400,
        max_pulls=pulls,
        nonce=secrets.randbits(128),
        deadline=later + int(SIGNATURE_WINDOW.total_seconds()),
    )
    application.consent_terms = {k: (hx(v) if isinstance(v, bytes) else v) for k, v in terms.__dict__.items()}
    session.commit()
    dom = domain(platform)
    consent_id = eip712.consent_id(terms, dom)
    return schemas.ConsentOffer(
        pseudonym=derivation(platform, application),
        consent_id=hx(consent_id),
        typed_data=eip712.consent_typed_data(terms, dom),
        link_typed_data=pseudonyms.link_typed_data(application.applicant, pseudonym, consent_id, dom.chain_id),
        scope=scope,
        purposes=purposes,
        expires_at=terms.expires_at,
    )


def grant(platform: Platform, session: Session, application: Application, signature: str, link_signature: str) -> schemas.ConsentGranted:
    """Check, off chain, that the applicant's wallet linked the pseudonym to this consent and
    that the pseudonym signed the offered terms; keep the link; then the relayer submits the
    terms (the contract checks the pseudonym's signature again)."""
    states.require(application, states.FACE_VERIFIED)
    if not application.consent_terms:
        raise BadRequest("ask for the consent terms first (GET .../consent-terms?pseudonym=...)")
    terms, dom = terms_of(application.consent_terms), domain(platform)
    consent_id = eip712.consent_id(terms, dom)
    link = pseudonyms.link_typed_data(application.applicant, terms.applicant, consent_id, dom.chain_id)
    if pseudonyms.link_signer(link, unhex(link_signature)) != application.applicant:
        raise BadRequest("the link signature is not your wallet's signature linking the pseudonym to this consent")
    signature_bytes = unhex(signature)
    if typed_data.recover_or_none(eip712.consent_typed_data(terms, dom), signature_bytes) != terms.applicant:
        raise BadRequest("the signature is not the pseudonym's signature over the offered terms")
    call = platform.contracts.consents().grant_call(terms, signature_bytes)
    # the consent id is the terms' EIP-712 hash: known now, committed with the queued grant
    application.consent_pseudonym, application.consent_link_signature = terms.applicant, link_signature
    application.consent_id = hx(consent_id)
    states.advance(application, states.CONSENTED)
    receipt = write(platform, session, intents.consent_grant(application.id, terms.nonce), platform.keyring.signer("relayer").address, call)
    application.consent_tx = receipt.tx_hash
    session.commit()
    return schemas.ConsentGranted(consent_id=application.consent_id, tx_hash=receipt.tx_hash, block_number=receipt.block_number, state=application.state)


def linked_application(session: Session, address: str, consent_id: str) -> Application:
    """The application whose consent ``consent_id`` is, if ``address``'s wallet linked it."""
    application = session.scalar(select(Application).where(Application.consent_id == consent_id))
    if application is None or application.consent_pseudonym is None:
        raise NotFound(f"no consent {consent_id}")
    if application.applicant != address:
        raise Forbidden(f"consent {consent_id} is not {address}'s")
    return application


def own_consent(platform: Platform, session: Session, address: str, consent_id: str) -> Application:
    application = linked_application(session, address, consent_id)
    consent = platform.contracts.consents().get(unhex(consent_id))
    if consent.state is ConsentState.NONE or consent.applicant != application.consent_pseudonym:
        raise NotFound(f"no consent {consent_id} on chain")
    return application


def revocation_offer(platform: Platform, session: Session, address: str, consent_id: str, now: datetime) -> schemas.RevocationOffer:
    """The revocation for the consent's pseudonym to sign, and how to derive its key."""
    application = own_consent(platform, session, address, consent_id)
    deadline = clocks(platform, now)[1] + int(SIGNATURE_WINDOW.total_seconds())
    typed = eip712.revocation_typed_data(unhex(consent_id), deadline, domain(platform))
    return schemas.RevocationOffer(consent_id=consent_id, deadline=deadline, typed_data=typed, pseudonym=application.consent_pseudonym,
                                   derivation=derivation(platform, application))  # fmt: skip


def revoke(platform: Platform, session: Session, address: str, consent_id: str, deadline: int, signature: str) -> dict:
    """Relay the revocation once it is the consent's pseudonym's (the contract checks it again)."""
    application = own_consent(platform, session, address, consent_id)
    typed = eip712.revocation_typed_data(unhex(consent_id), deadline, domain(platform))
    if typed_data.recover_or_none(typed, unhex(signature)) != application.consent_pseudonym:
        raise BadRequest("the revocation is not signed by the consent's pseudonym (derive its key: GET .../revocation, derivation)")
    call = platform.contracts.consents().revoke_by_sig_call(consent_id, deadline, signature)
    receipt = write(platform, session, intents.consent_revoke(consent_id), platform.keyring.signer("relayer").address, call)
    return {"consent_id": consent_id, "state": ConsentState.REVOKED.name.lower(), "tx_hash": receipt.tx_hash, "block_number": receipt.block_number}


# -- the applicant's view -----------------------------------------------------------------


class _Names:
    """Member names and block times, each looked up once per request."""

    def __init__(self, platform: Platform):
        self.platform = platform
        self._names: dict[str, str | None] = {}
        self._times: dict[int, int] = {}

    def name(self, address: str) -> str | None:
        if address not in self._names:
            member = self.platform.members.member(address)
            self._names[address] = member.info.name if member else None
        return self._names[address]

    def time(self, block: int) -> int:
        if block not in self._times:
            self._times[block] = self.platform.contracts.chain().w3.eth.get_block(block)["timestamp"]
        return self._times[block]


def _from_block(platform: Platform) -> int:
    return platform.contracts.deployment().contracts["ConsentRegistry"]["block"]


def _purposes(platform: Platform, application: Application | None) -> list[str]:
    if application is None:
        return []
    return [platform.catalog.matters[code].name_zh for code in application.matters]


def my_consents(platform: Platform, session: Session, address: str) -> list[schemas.ConsentView]:
    """The consents of every pseudonym the wallet linked (the links are ours; the chain knows none)."""
    linked = {a.consent_id: a for a in session.scalars(select(Application).where(Application.applicant == address, Application.consent_id.is_not(None)))}
    if not linked:
        return []
    contract = platform.contracts.consents().contract
    ids = [unhex(c) for c in linked if c is not None]  # selected with a consent id
    events = contract.events.ConsentGranted.get_logs(from_block=_from_block(platform), argument_filters={"consentId": ids})
    names = _Names(platform)
    views = []
    for event in sorted(events, key=lambda e: (e["blockNumber"], e["logIndex"])):
        consent_id = hx(event["args"]["consentId"])
        application = linked[consent_id]
        if event["args"]["applicant"] != application.consent_pseudonym:
            continue  # not the linked pseudonym's consent
        consent = platform.contracts.consents().get(bytes(event["args"]["consentId"]))
        views.append(
            schemas.ConsentView(
                consent_id=consent_id,
                pseudonym=consent.applicant,
                state=consent.state.name.lower(),
                agency=consent.agency,
                agency_name=names.name(consent.agency),
                categories=[c for i, c in enumerate(CATEGORIES) if consent.categories >> i & 1],
                application_id=application.id,
                purposes=_purposes(platform, application),
                not_before=consent.not_before,
                expires_at=consent.expires_at,
                pulls=consent.pulls,
                max_pulls=consent.max_pulls,
                granted_tx=hx(event["transactionHash"]),
                granted_block=event["blockNumber"],
            )  # fmt: skip
        )
    return views


def my_data_access(platform: Platform, session: Session, address: str) -> list[schemas.AccessView]:
    consents = my_consents(platform, session, address)
    if not consents:
        return []
    by_id = {c.consent_id: c for c in consents}
    ids = [unhex(c) for c in by_id]
    contract, start, names = platform.contracts.consents().contract, _from_block(platform), _Names(platform)
    logs = [
        *contract.events.DataPulled.get_logs(from_block=start, argument_filters={"consentId": ids}),
        *contract.events.PullRefused.get_logs(from_block=start, argument_filters={"consentId": ids}),
    ]
    logs.sort(key=lambda e: (e["blockNumber"], e["logIndex"]))
    views, senders = [], {}
    for event in logs:
        args, consent = event["args"], by_id[hx(event["args"]["consentId"])]
        refused = event["event"] == "PullRefused"
        if not refused:  # DataPulled names neither party: the holder sent recordPulls, the requester is the consent's agency
            tx = bytes(event["transactionHash"])
            if tx not in senders:
                senders[tx] = platform.contracts.consents().client.w3.eth.get_transaction(HexBytes(tx))["from"]
            args = {**args, "holder": senders[tx], "requester": consent.agency}
        views.append(
            schemas.AccessView(
                consent_id=consent.consent_id,
                outcome=PullOutcome.REFUSED if refused else PullOutcome.RELEASED,
                reason=REFUSAL_TEXT[PullRefusal(args["reason"])] if refused else None,
                category=CATEGORIES[args["category"]],
                requester=args["requester"],
                requester_name=names.name(args["requester"]),
                holder=args["holder"],
                holder_name=names.name(args["holder"]),
                purposes=consent.purposes,
                legal_basis=f"your consent {consent.consent_id[:10]}… signed for {', '.join(consent.purposes) or 'the application'}",
                at=names.time(event["blockNumber"]),
                tx_hash=hx(event["transactionHash"]),
                block_number=event["blockNumber"],
            )  # fmt: skip
        )
    return views
