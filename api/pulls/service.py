"""The agency's side of a pull: fan out to the data holders' gateways, open the answers
with the agency's key, keep them sealed at rest, and advance the application."""

from __future__ import annotations

import base64
import json
from datetime import datetime

import httpx
from eth_utils import keccak
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.applications import states
from api.applications.service import unsealed
from api.catalog import CATEGORIES, merged_scope
from api.consents.service import scope_salt
from api.context import Platform
from api.models import Application, PulledRecord
from api.problems import Conflict, Forbidden, ServiceUnavailable
from chain.registry import Member
from identity.keys import hpke_key_for
from identity.pull_request import BadMessage, PullRequest, attributes_hash, canonical_json, pull_request_id, verify_answer
from identity.sealing import hpke_open, hpke_seal, open_at_rest, seal_at_rest


def holder_for(platform: Platform, category: str) -> Member:
    bit = 1 << CATEGORIES.index(category)
    for member in platform.active_members():
        if "DATA_HOLDER" in member.roles and member.info.data_categories & bit:
            return member
    raise ServiceUnavailable(f"no active data holder serves {category}")


def pull_all(platform: Platform, session: Session, application: Application, now: datetime) -> list[dict]:
    """Pull every category of the consent's scope; returns one result per category."""
    states.require(application, states.CONSENTED, states.DATA_PULLED)
    agency_key = platform.member_key(application.agency)
    scope = merged_scope([platform.catalog.matters[c] for c in application.matters])
    identity = json.loads(unsealed(platform, application.id, "claimed_identity", application.claimed_identity))
    salt = unsealed(platform, application.id, "face_check_salt", application.face_check_salt)
    results = []
    consent_id = bytes.fromhex(application.consent_id[2:])
    for category in scope:
        attempt = session.scalar(select(PulledRecord).where(PulledRecord.application_id == application.id, PulledRecord.category == category, PulledRecord.sealed.is_(None)))
        if attempt is None:
            holder = holder_for(platform, category)
            # the next pull number of the consent: with the consent it is the request id, the replay guard on chain
            sequence = platform.consents().get(consent_id).pulls + 1
            request_id = "0x" + pull_request_id(consent_id, sequence).hex()
            attempt = PulledRecord(request_id=request_id, application_id=application.id, category=category, holder=holder.address, pull_number=sequence)
            session.add(attempt)
            session.commit()  # the request id is kept before the call: a retry reuses it
        results.append(_pull_one(platform, session, application, attempt, scope, identity["id_number"], salt, agency_key, now))
    if any(r["outcome"] == "released" for r in results) and application.state == states.CONSENTED:
        states.advance(application, states.DATA_PULLED)
        session.commit()
    return results


def pull_body(
    agency_key, holder: str, holder_hpke_key: bytes, sequence: int, consent_id: str, category: str, scope: dict[str, list[str]],
    scope_salt: bytes, attributes: list[str], subject: dict, issued_at: int, chain_id: int, consent_registry: str,
) -> dict:
    """The JSON body of ``POST /v1/pulls``: subject sealed to the holder, request signed by the agency
    (EIP-712 in ConsentRegistry's domain: the contract checks the same signature when the pull is logged)."""
    request_id = pull_request_id(bytes.fromhex(consent_id[2:]), sequence)
    sealed_subject = base64.b64encode(hpke_seal(holder_hpke_key, canonical_json(subject), b"govchain subject " + request_id)).decode()
    request = PullRequest(
        consent_id=bytes.fromhex(consent_id[2:]), sequence=sequence, category=CATEGORIES.index(category),
        attributes_hash=attributes_hash(scope, attributes), subject_hash=keccak(sealed_subject.encode()),
        requester=agency_key.address, holder=holder, issued_at=issued_at,
    )  # fmt: skip
    signature = request.sign(agency_key.key, chain_id, consent_registry)
    return {
        "consent_id": consent_id, "sequence": sequence, "category": category, "attributes": attributes, "scope": scope,
        "scope_salt": "0x" + bytes(scope_salt).hex(), "subject": sealed_subject, "requester": agency_key.address, "issued_at": issued_at, "signature": "0x" + signature.hex(),
    }  # fmt: skip


def _pull_one(platform, session, application, attempt: PulledRecord, scope, id_number, salt, agency_key, now) -> dict:
    holder = platform.roles().member(attempt.holder)
    url = platform.settings.gateways.get(holder.info.domain)
    if url is None:
        raise ServiceUnavailable(f"no gateway URL configured for {holder.info.domain} (GOVCHAIN_GATEWAYS)")
    subject = {"id_number": id_number, "vendor_request_id": application.face_request_id, "salt": salt.hex()}
    deployment = platform.deployment()
    body = pull_body(
        agency_key, holder.address, holder.info.hpke_public_key, attempt.pull_number, application.consent_id, attempt.category,
        scope, scope_salt(application), scope[attempt.category], subject, int(now.timestamp()), deployment.chain_id,
        deployment.address("ConsentRegistry"),
    )  # fmt: skip
    request_id = bytes.fromhex(attempt.request_id[2:])
    try:
        response = httpx.post(f"{url}/v1/pulls", json=body, timeout=120)
    except httpx.TransportError as exc:
        raise ServiceUnavailable(f"the gateway of {holder.info.name} cannot be reached: {exc}") from None
    if response.status_code == 403:
        problem = response.json()
        session.delete(attempt)
        session.commit()
        return {"category": attempt.category, "holder": holder.address, "outcome": "refused", "reason": problem.get("reason"), "detail": problem.get("detail")}
    if response.status_code != 200:
        raise ServiceUnavailable(f"the gateway of {holder.info.name} answered {response.status_code}: {response.text[:300]}")
    out = response.json()
    ciphertext = base64.b64decode(out["ciphertext"])
    try:
        answer = json.loads(hpke_open(hpke_key_for(agency_key), ciphertext, b"govchain pull " + request_id))
        payload = verify_answer(answer, holder.address)
    except (BadMessage, ValueError) as exc:
        raise Conflict(f"the answer of {holder.info.name} does not verify: {exc}") from None
    if payload["request_id"] != attempt.request_id or payload["consent_id"] != application.consent_id:
        raise Conflict(f"the answer of {holder.info.name} is for another request")
    attempt.sealed = seal_at_rest(platform.data_key, canonical_json(payload), f"pulled/{attempt.request_id}".encode())
    attempt.digest, attempt.tx_hash, attempt.pull_number = out["digest"], out["tx_hash"], out["pull_number"]
    session.commit()
    return {"category": attempt.category, "holder": holder.address, "outcome": "released", "found": payload["found"],
            "tx_hash": out["tx_hash"], "block_number": out["block_number"], "pull_number": out["pull_number"]}  # fmt: skip


def pulled_data(platform: Platform, session: Session, application: Application) -> list[dict]:
    rows = session.scalars(select(PulledRecord).where(PulledRecord.application_id == application.id, PulledRecord.sealed.is_not(None)))
    return [
        {"category": r.category, "holder": r.holder, "tx_hash": r.tx_hash,
         **json.loads(open_at_rest(platform.data_key, r.sealed, f"pulled/{r.request_id}".encode()))}  # fmt: skip
        for r in rows
    ]


def require_agency(identity, application: Application) -> None:
    if identity.address != application.agency or "AGENCY" not in identity.roles:
        raise Forbidden(f"only the handling agency {application.agency} may pull data for {application.id}")
