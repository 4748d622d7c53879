"""One classifier of what a chain node's error means: the only place that reads node error texts.

A JSON-RPC node answers a refusal with a message whose wording differs by node (geth, Besu,
anvil, ganache); the code asks here which of four things happened:

- ``REVERT``: the contract refused the call or the transaction (web3's ``ContractLogicError``,
  a ``ContractRevert``, or a message that says ``revert``): a refusal to name, never an outage;
- ``NONCE_TAKEN``: the transaction's nonce is used already, by another transaction of the same
  key (geth, Besu and anvil "nonce too low"; ganache "the tx doesn't have the correct nonce.
  account has nonce of: N tx has nonce of: M"), or by another transaction still in the pool
  (ganache "transaction can't be replaced, mining has already started", geth and anvil
  "replacement transaction underpriced"; two API replicas sending with one key meet these):
  sign again with a fresh nonce;
- ``ALREADY_KNOWN``: the node holds this very transaction already (a re-broadcast: geth
  "already known", Besu "Known transaction", anvil "transaction already imported"): wait for
  its receipt;
- ``OUTAGE``: the node could not be asked (unreachable, timing out) or could not serve (any
  other error it answers, e.g. ganache's "Database is not open" while it stops or starts):
  nothing was written by this request, retry later.

:func:`classify` gives ``None`` for an exception that is not about the node at all (a value
that does not decode, a bug), so such errors are never taken for an outage. The checks run in
the order above, so a revert whose reason happens to contain "known" is still a revert.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import Enum

import httpx
import requests
from web3.exceptions import ContractLogicError, Web3RPCError

from chain.errors import ChainUnavailable, ContractRevert


class NodeError(Enum):
    REVERT = "revert"
    NONCE_TAKEN = "nonce_taken"
    ALREADY_KNOWN = "already_known"
    OUTAGE = "outage"


_NONCE_TAKEN = re.compile(r"nonce too low|correct nonce|can't be replaced|replacement transaction underpriced", re.IGNORECASE)
_REVERT = re.compile(r"revert", re.IGNORECASE)
_ALREADY_KNOWN = re.compile(r"known|already", re.IGNORECASE)

# Exceptions that mean the node could not be reached or did not answer in time.
_UNREACHABLE = (ChainUnavailable, ConnectionError, TimeoutError, requests.ConnectionError, requests.Timeout, httpx.TransportError)


def classify_message(message: str) -> NodeError:
    """What a node's error message says (any message: an unrecognised one is an ``OUTAGE``)."""
    if _NONCE_TAKEN.search(message):
        return NodeError.NONCE_TAKEN
    if _REVERT.search(message):
        return NodeError.REVERT
    if _ALREADY_KNOWN.search(message):
        return NodeError.ALREADY_KNOWN
    return NodeError.OUTAGE


def classify(error: BaseException | Mapping | str) -> NodeError | None:
    """What ``error`` says about the node: an exception raised while asking it, a JSON-RPC error
    object from a batch answer, or a message. ``None``: an exception that is not the node's."""
    if isinstance(error, (ContractLogicError, ContractRevert)):
        return NodeError.REVERT
    if isinstance(error, Web3RPCError):
        return classify_message(str(error.message))
    if isinstance(error, _UNREACHABLE):
        return NodeError.OUTAGE
    if isinstance(error, BaseException):
        return None
    return classify_message(str(error))  # a message, or a JSON-RPC error object (its whole text, data included)


def is_revert(error: BaseException | Mapping | str) -> bool:
    return classify(error) is NodeError.REVERT


def is_outage(error: BaseException | Mapping | str) -> bool:
    """The node could not be asked or could not serve: anything it says that is not a revert
    (for a read; a send also tells a taken nonce and a known transaction apart)."""
    kind = classify(error)
    return kind is not None and kind is not NodeError.REVERT
