"""Every chain write the platform signs itself goes through :func:`write`.

A handler makes its business change in its database session, then calls :func:`write`: the call
is checked (gas estimated: a call that would revert is refused with its named error, and nothing
is stored, the handler's change included), the intent is queued (:func:`chain.writer.enqueue`)
and committed **in the same transaction** as the change, and the request waits up to
``settings.write.wait_seconds`` for the key's writer (:class:`api.writes.worker.WriterWorker`, in this
process or another) to record the receipt:

- mined: the receipt, and the handler answers as it always did (tx hash, block, events);
- mined with status 0: :class:`~chain.errors.TransactionFailed`, as the outbox raised it;
- not yet: :class:`WriteAccepted`, 202 with ``Location: /v1/writes/{intent_key}`` (queued,
  signed, sent, mined or failed; its hash and block once known). The business change is already
  committed; what only the receipt tells (the tx hash columns of the business rows) stays empty,
  and the status URL tells it. Repeating the request finds the intent stored and waits again.

An intent already stored (the request repeated) is not queued again: one intent, one transaction.
One refused by the node before it was mined (nothing on chain) is queued afresh.
"""

from __future__ import annotations

from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.context import Platform
from chain.errors import TransactionFailed
from chain.outbox import FAILED, OutboxEntry
from chain.tx import Receipt
from chain.writer import enqueue, intent_for, wait_for
from httpkit.problems import NotFound, Problem

PATH = "/v1/writes"


def status_url(platform: Platform, intent_key: str) -> str:
    return f"{platform.settings.public_url}{PATH}/{quote(intent_key, safe=':')}"


class WriteAccepted(Problem):
    """The write is queued (and committed with its business change) but not mined within the wait."""

    status, title, slug = 202, "Accepted: the chain write is on its way", "write-accepted"

    def __init__(self, platform: Platform, intent_key: str):
        url = status_url(platform, intent_key)
        super().__init__(
            f"the change is recorded and its chain write {intent_key!r} is queued; it was not mined within {platform.settings.write.wait_seconds:g} s: follow {url} (mined or failed)",
            write={"intent_key": intent_key, "url": url},
        )
        self.headers = {"Location": url}


def queue(platform: Platform, session: Session, intent_key: str, sender: str, call) -> None:
    """Queue ``call`` (a typed client's contract call) from ``sender`` under ``intent_key`` in
    ``session``'s transaction (not committed here), unless the intent is stored already. A call
    that would revert raises its named error, and nothing is queued."""
    with session.no_autoflush:  # the caller's change is not written before the estimate (no lock held meanwhile)
        stored = session.scalar(select(OutboxEntry).where(OutboxEntry.intent_key == intent_key))
    if stored is not None and stored.status == FAILED and stored.block_number is None:
        session.delete(stored)  # refused by the node before mining: nothing on chain, queue it afresh
        stored = None
    if stored is None:
        intent = intent_for(platform.contracts.chain(), intent_key, sender, call)
        session.flush()  # the delete above before the insert of the same key
        enqueue(session, intent)


def write(platform: Platform, session: Session, intent_key: str, sender: str, call) -> Receipt:
    """:func:`queue` the call, commit it with the caller's change, and wait for its receipt
    (:class:`WriteAccepted` if it is not mined within ``settings.write.wait_seconds``)."""
    queue(platform, session, intent_key, sender, call)
    session.commit()
    done = wait_for(platform.sessions, intent_key, platform.settings.write.wait_seconds)
    if done is None:
        raise WriteAccepted(platform, intent_key)
    if not done.ok or done.tx_hash is None:
        raise TransactionFailed(f"intent {intent_key!r}: {done.error}", done.tx_hash)
    receipt = platform.contracts.chain().receipt_or_none(done.tx_hash)
    if receipt is None:  # recorded mined: the node has it (a node that forgot its chain is not a dev case this handles)
        raise TransactionFailed(f"intent {intent_key!r}: {done.tx_hash} is recorded mined but the node has no receipt", done.tx_hash)
    return receipt


def status(platform: Platform, intent_key: str) -> dict:
    """A write's state as ``GET /v1/writes/{intent_key}`` shows it."""
    with platform.sessions() as session:
        entry = session.scalar(select(OutboxEntry).where(OutboxEntry.intent_key == intent_key))
    if entry is None:
        raise NotFound(f"no chain write {intent_key!r}")
    return {"intent_key": entry.intent_key, "status": entry.status, "sender": entry.sender, "tx_hash": entry.tx_hash,
            "block_number": entry.block_number, "error": entry.error}  # fmt: skip
