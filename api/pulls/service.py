"""The agency's side of a pull: fan out to the data holders' gateways, keep the answers
sealed at rest, and advance the application.

Who signs and who opens depends on ``agency_keys``: ``agency-held`` (required outside dev)
has the agency sign each pull request in its own client and keeps each answer sealed to the
agency's own HPKE key (the agency opens it); ``dev-derived`` has the platform sign with the
agency's dev key and open with the HPKE key derived from it."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import cast

import httpx
from eth_utils import keccak
from sqlalchemy import select
from sqlalchemy.orm import Session
from web3 import Web3

from api.applications import states
from api.applications.service import unsealed
from api.catalog import CATEGORIES, merged_scope
from api.consents.service import scope_salt
from api.context import Platform
from api.models import Application, PulledRecord, PullOutcome
from httpkit.problems import BadRequest, Conflict, Forbidden, ServiceUnavailable
from chain.registry import Member, Role
from identity.keys import hpke_key_for
from identity.canonical import canonical_json
from identity.pull_request import BadMessage, PullRequest, attributes_hash, pull_request_id, verify_answer
from identity.sealing import hpke_open, hpke_seal
from chain.hexcodec import hx, unhex


def holder_for(platform: Platform, category: str) -> Member:
    bit = 1 << CATEGORIES.index(category)
    for member in platform.members.active():
        if Role.DATA_HOLDER in member.roles and member.info.data_categories & bit:
            return member
    raise ServiceUnavailable(f"no active data holder serves {category}")


def _attempts(platform: Platform, session: Session, application: Application) -> list[PulledRecord]:
    """The open attempt of each category still to pull, in the order of their pull numbers.

    A new attempt takes the consent's next free pull number (its count on chain plus one,
    past the numbers other open attempts hold): with the consent it is the request id, the
    replay guard on chain. The number is kept before any call, so a retry reuses it."""
    scope = merged_scope([platform.catalog.matters[c] for c in application.matters])
    consent_id = unhex(cast(str, application.consent_id))  # pulls come after the consent
    open_rows = {a.category: a for a in session.scalars(select(PulledRecord).where(PulledRecord.application_id == application.id, PulledRecord.sealed.is_(None)))}
    taken = {a.pull_number for a in open_rows.values()}
    number = platform.contracts.consents().get(consent_id).pulls + 1
    for category in scope:
        if category in open_rows:
            continue
        while number in taken:
            number += 1
        holder = holder_for(platform, category)
        open_rows[category] = PulledRecord(
            request_id=hx(pull_request_id(consent_id, number)), application_id=application.id, category=category,
            holder=holder.address, pull_number=number,
        )  # fmt: skip
        session.add(open_rows[category])
        taken.add(number)
    session.commit()
    return sorted(open_rows.values(), key=lambda a: cast(int, a.pull_number))  # every attempt holds its number


def _holder(platform: Platform, address: str) -> Member:
    """The data holder an attempt was made with: :func:`holder_for` picked it among active members."""
    return cast(Member, platform.members.member(address))


def _unsigned(platform: Platform, application: Application, attempt: PulledRecord, now: datetime) -> tuple[dict, PullRequest]:
    """The body of one pull request, all but the agency's signature, and the request it signs."""
    scope = merged_scope([platform.catalog.matters[c] for c in application.matters])
    identity = json.loads(unsealed(platform, application.id, "claimed_identity", cast(bytes, application.claimed_identity)))  # kept from the face check
    salt = unsealed(platform, application.id, "face_check_salt", cast(bytes, application.face_check_salt))
    subject = {"id_number": identity["id_number"], "vendor_request_id": application.face_request_id, "salt": salt.hex()}
    holder = _holder(platform, attempt.holder)
    return request_body(
        application.agency, holder.address, holder.info.hpke_public_key, cast(int, attempt.pull_number), cast(str, application.consent_id), attempt.category,
        scope, scope_salt(application), scope[attempt.category], subject, int(now.timestamp()),
    )  # fmt: skip


def pull_requests(platform: Platform, session: Session, application: Application, now: datetime) -> list[dict]:
    """The pull requests for the agency to sign in its own client: per category, the body to
    send back with its ``signature`` and the EIP-712 typed data to sign (``eth_signTypedData_v4``)."""
    states.require(application, states.CONSENTED, states.DATA_PULLED)
    deployment = platform.contracts.deployment()
    out = []
    for attempt in _attempts(platform, session, application):
        body, request = _unsigned(platform, application, attempt, now)
        out.append({"body": body, "typed_data": request.typed_data(deployment.chain_id, deployment.address("ConsentRegistry"))})
    return out


def pull_all(platform: Platform, session: Session, application: Application, now: datetime, signed: list[dict] | None = None) -> list[dict]:
    """Pull every category of the consent's scope; returns one result per category.

    ``signed``: the request bodies the agency signed in its own client (from :func:`pull_requests`).
    Without them the platform signs with the agency's dev key, and only with ``agency_keys=dev-derived``."""
    states.require(application, states.CONSENTED, states.DATA_PULLED)
    attempts = _attempts(platform, session, application)
    if signed is None:
        if platform.settings.agency_keys != "dev-derived":
            raise Conflict(f"the agency signs its pull requests in its own client: GET /v1/applications/{application.id}/pull-requests, "
                           "sign each typed_data, then POST the bodies with their signatures here as {\"requests\": [...]}")  # fmt: skip
        dev_key = platform.keyring.member_key(application.agency)  # dev only: the agency's derived dev key
        deployment = platform.contracts.deployment()
        bodies = []
        for attempt in attempts:
            body, request = _unsigned(platform, application, attempt, now)
            signature = request.sign(dev_key.key, deployment.chain_id, deployment.address("ConsentRegistry"))
            bodies.append((attempt, dict(body, signature=hx(signature))))
    else:
        bodies = _match_signed(platform, application, attempts, signed)
    results = [_pull_one(platform, session, application, attempt, body) for attempt, body in bodies]
    if any(r["outcome"] == PullOutcome.RELEASED for r in results) and application.state == states.CONSENTED:
        states.advance(application, states.DATA_PULLED)
        session.commit()
    return results


def _match_signed(platform: Platform, application: Application, attempts: list[PulledRecord], signed: list[dict]) -> list[tuple[PulledRecord, dict]]:
    """Each signed body with its open attempt, checked: this consent, this agency, the attempt's
    number and holder, the scope's attributes, and the agency's own signature (EOA)."""
    by_number = {a.pull_number: a for a in attempts}
    deployment = platform.contracts.deployment()
    scope = merged_scope([platform.catalog.matters[c] for c in application.matters])
    matched = []
    for body in signed:
        attempt = by_number.get(body["sequence"])
        if attempt is None or attempt.category != body["category"]:
            raise BadRequest(f"pull {body['sequence']} of {body['category']} is not one of the open requests; GET .../pull-requests again")
        if body["consent_id"].lower() != application.consent_id or body["requester"].lower() != application.agency.lower():
            raise BadRequest("the request is for another consent or another agency")
        if not set(body["attributes"]) <= set(scope[attempt.category]) or body["scope"] != scope:
            raise BadRequest(f"the attributes asked are not the consent's scope for {attempt.category}")
        request = PullRequest(
            unhex(body["consent_id"]), body["sequence"], CATEGORIES.index(body["category"]), attributes_hash(body["scope"], body["attributes"]),
            keccak(body["subject"].encode()), application.agency, attempt.holder, body["issued_at"],
        )  # fmt: skip
        signer = request.signer(unhex(body["signature"]), deployment.chain_id, deployment.address("ConsentRegistry"))
        if signer != application.agency:
            raise BadRequest(f"pull {body['sequence']} is signed by {signer}, not by the agency {application.agency}")
        matched.append((attempt, body))
    return sorted(matched, key=lambda item: cast(int, item[0].pull_number))


def request_body(
    requester: str,
    holder: str,
    holder_hpke_key: bytes,
    sequence: int,
    consent_id: str,
    category: str,
    scope: dict[str, list[str]],
    scope_salt: bytes,
    attributes: list[str],
    subject: dict,
    issued_at: int,
) -> tuple[dict, PullRequest]:
    """The JSON body of a gateway's ``POST /v1/pulls`` without its signature (the subject sealed
    to the holder), and the EIP-712 ``PullRequest`` the requester signs for it."""
    request_id = pull_request_id(unhex(consent_id), sequence)
    sealed_subject = base64.b64encode(hpke_seal(holder_hpke_key, canonical_json(subject), b"govchain subject " + request_id)).decode()
    request = PullRequest(
        consent_id=unhex(consent_id), sequence=sequence, category=CATEGORIES.index(category),
        attributes_hash=attributes_hash(scope, attributes), subject_hash=keccak(sealed_subject.encode()),
        requester=Web3.to_checksum_address(requester), holder=holder, issued_at=issued_at,
    )  # fmt: skip
    body = {
        "consent_id": consent_id, "sequence": sequence, "category": category, "attributes": attributes, "scope": scope,
        "scope_salt": hx(scope_salt), "subject": sealed_subject, "requester": request.requester, "issued_at": issued_at,
    }  # fmt: skip
    return body, request


def signed_body(agency_key, asked: tuple[dict, PullRequest], chain_id: int, consent_registry: str) -> dict:
    """A gateway body signed with the agency's key (a client holding it: tests, benchmarks, an agency's
    own service), from :func:`request_body`'s ``(body, request)``; EIP-712 in ConsentRegistry's domain,
    so the contract checks the same signature when the pull is logged."""
    body, request = asked
    return dict(body, signature=hx(request.sign(agency_key.key, chain_id, consent_registry)))


def _pull_one(platform: Platform, session: Session, application: Application, attempt: PulledRecord, body: dict) -> dict:
    holder = _holder(platform, attempt.holder)
    url = platform.settings.gateways.get(holder.info.domain)
    if url is None:
        raise ServiceUnavailable(f"no gateway URL configured for {holder.info.domain} (GOVCHAIN_GATEWAYS)")
    request_id = unhex(attempt.request_id)
    try:
        response = httpx.post(f"{url}/v1/pulls", json=body, timeout=120)
    except httpx.TransportError as exc:
        raise ServiceUnavailable(f"the gateway of {holder.info.name} cannot be reached: {exc}") from None
    if response.status_code == 403:
        problem = response.json()
        session.delete(attempt)
        session.commit()
        return {"category": attempt.category, "holder": holder.address, "outcome": PullOutcome.REFUSED, "reason": problem.get("reason"), "detail": problem.get("detail")}
    if response.status_code != 200:
        raise ServiceUnavailable(f"the gateway of {holder.info.name} answered {response.status_code}: {response.text[:300]}")
    out = response.json()
    ciphertext = base64.b64decode(out["ciphertext"])
    if platform.settings.agency_keys == "dev-derived":  # dev: opened with the HPKE key derived from the agency's dev key
        try:
            answer = json.loads(hpke_open(hpke_key_for(platform.keyring.member_key(application.agency)), ciphertext, b"govchain pull " + request_id))
            payload = verify_answer(answer, holder.address)
        except (BadMessage, ValueError) as exc:
            raise Conflict(f"the answer of {holder.info.name} does not verify: {exc}") from None
        if payload["request_id"] != attempt.request_id or payload["consent_id"] != application.consent_id:
            raise Conflict(f"the answer of {holder.info.name} is for another request")
        kept, found = payload, payload["found"]
    else:  # the answer stays sealed to the agency's own key: the agency opens it on its side
        kept, found = {"request_id": attempt.request_id, "sealed_to_agency": out["ciphertext"]}, None
    attempt.sealed = platform.keys.seal(canonical_json(kept), f"pulled/{attempt.request_id}".encode())
    attempt.digest, attempt.tx_hash, attempt.pull_number = out["digest"], out["tx_hash"], out["pull_number"]
    session.commit()
    return {"category": attempt.category, "holder": holder.address, "outcome": PullOutcome.RELEASED, "found": found,
            "tx_hash": out["tx_hash"], "block_number": out["block_number"], "pull_number": out["pull_number"]}  # fmt: skip


def pulled_data(platform: Platform, session: Session, application: Application) -> list[dict]:
    rows = session.scalars(select(PulledRecord).where(PulledRecord.application_id == application.id, PulledRecord.sealed.is_not(None)))
    return [
        {"category": r.category, "holder": r.holder, "tx_hash": r.tx_hash, **json.loads(platform.keys.open(cast(bytes, r.sealed), f"pulled/{r.request_id}".encode()))}  # fmt: skip
        for r in rows
    ]


def require_agency(identity, application: Application) -> None:
    if identity.address != application.agency or Role.AGENCY not in identity.roles:
        raise Forbidden(f"only the handling agency {application.agency} may pull data for {application.id}")
