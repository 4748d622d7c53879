"""Outbox intent keys: the one place each chain step's key is built.

An intent key names one chain write; the outbox sends it once and a retry under the same key
returns the first receipt, so a key must be the same string on every try (and across releases:
a key stored by a process that died is resumed by the next). Keys fit the outbox's 200 characters.
Hex arguments are taken as the callers store them (``0x`` + lower-case hex).
"""

from __future__ import annotations

from eth_utils import keccak

from chain.hexcodec import hx, unhex

# -- consents ---------------------------------------------------------------------------------


def consent_grant(application_id: str, nonce: int) -> str:
    return f"consent:{application_id}:{nonce}"


def consent_revoke(consent_id: str) -> str:
    return f"revoke:{consent_id}"


# -- evidence and certificates ----------------------------------------------------------------


def evidence(kind: str, application_id: str, root: bytes) -> str:
    return f"evidence:{kind}:{application_id}:{hx(root)}"


def certificates_issue(merkle_root: str) -> str:
    return f"certificates:issue:{merkle_root}"


def certificates_revoke(document: str) -> str:
    """Revoking one certificate (its target hash) or a whole batch (its Merkle root)."""
    return f"certificates:revoke:{document}"


# -- tenders ----------------------------------------------------------------------------------


def tender_sealed(action: str, tender_id: str, pseudonym: str, version: int) -> str:
    """A bid step (``bid``, ``withdraw``), opaque: the outbox listing (governor, auditor) names no
    tender or pseudonym before the opening."""
    return f"tender:{action}:{hx(keccak(text=f'{tender_id}:{pseudonym}:{version}'))}"


def tender_create(tender_id: str) -> str:
    return f"tender:create:{tender_id}"


def tender_open(tender_id: str) -> str:
    return f"tender:open:{tender_id}"


def tender_sign_in(tender_id: str, pseudonym: str) -> str:
    return f"tender:signin:{tender_id}:{pseudonym}"


def tender_reveal(tender_id: str, pseudonym: str) -> str:
    return f"tender:reveal:{tender_id}:{pseudonym}"


def tender_decrypt(tender_id: str, pseudonym: str) -> str:
    return f"tender:decrypt:{tender_id}:{pseudonym}"


def tender_reading(tender_id: str) -> str:
    return f"tender:reading:{tender_id}"


def tender_objection(tender_id: str, pseudonym: str, objection_hash: bytes) -> str:
    """One per objection: the contract takes each (pseudonym, objection hash) once, so the key is
    unique (the pair hashed to fit the outbox's 200 characters)."""
    return f"tender:objection:{tender_id}:{hx(keccak(unhex(pseudonym) + bytes(objection_hash)))}"


def tender_answer(tender_id: str, index: int) -> str:
    return f"tender:answer:{tender_id}:{index}"


def tender_scores(tender_id: str, expert: str, pseudonym: str) -> str:
    return f"tender:scores:{tender_id}:{expert}:{pseudonym.lower()}"


def tender_replace(tender_id: str, expert: str) -> str:
    return f"tender:replace:{tender_id}:{expert}"


def tender_result(tender_id: str, winner: bytes) -> str:
    return f"tender:result:{tender_id}:{hx(winner)}"
