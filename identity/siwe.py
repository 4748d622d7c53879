"""Sign-In with Ethereum (EIP-4361): build, parse and verify the message.

The PyPI ``siwe`` package pins web3 < 8, so the message is built and parsed here, strictly
by the EIP's ABNF (the fields used by govchain, in their fixed order), and the signature
(EIP-191 ``personal_sign``) is checked with eth-account.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils import is_checksum_address

from chain.errors import GovchainError
from chain.hexcodec import hx

STATEMENT = "Sign in to govchain. This signature proves you hold this key; it moves no funds and grants nothing else."

_PATTERN = re.compile(
    r"^(?P<domain>[^\s/]+) wants you to sign in with your Ethereum account:\n"
    r"(?P<address>0x[0-9a-fA-F]{40})\n\n"
    r"(?P<statement>[^\n]+)\n\n"
    r"URI: (?P<uri>[^\s]+)\n"
    r"Version: (?P<version>1)\n"
    r"Chain ID: (?P<chain_id>[0-9]+)\n"
    r"Nonce: (?P<nonce>[A-Za-z0-9]{8,})\n"
    r"Issued At: (?P<issued_at>[0-9T:.\-+Z]+)\n"
    r"Expiration Time: (?P<expiration_time>[0-9T:.\-+Z]+)\Z"
)


class SiweError(GovchainError, PermissionError):
    """The sign-in message or its signature is not acceptable. One opaque class on purpose."""


@dataclass(frozen=True)
class SiweMessage:
    domain: str
    address: str
    uri: str
    chain_id: int
    nonce: str
    issued_at: datetime
    expiration_time: datetime
    statement: str = STATEMENT

    def text(self) -> str:
        return (
            f"{self.domain} wants you to sign in with your Ethereum account:\n"
            f"{self.address}\n\n"
            f"{self.statement}\n\n"
            f"URI: {self.uri}\n"
            f"Version: 1\n"
            f"Chain ID: {self.chain_id}\n"
            f"Nonce: {self.nonce}\n"
            f"Issued At: {_iso(self.issued_at)}\n"
            f"Expiration Time: {_iso(self.expiration_time)}"
        )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _parse_time(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise SiweError(f"timestamp {value!r} is not RFC 3339") from None
    if moment.tzinfo is None:
        raise SiweError(f"timestamp {value!r} has no time zone")
    return moment


def parse(text: str) -> SiweMessage:
    match = _PATTERN.match(text)
    if match is None:
        raise SiweError("the sign-in message is not an EIP-4361 message in govchain's form")
    fields = match.groupdict()
    if not is_checksum_address(fields["address"]):
        raise SiweError(f"address {fields['address']} is not EIP-55 checksummed")
    return SiweMessage(
        domain=fields["domain"],
        address=fields["address"],
        uri=fields["uri"],
        chain_id=int(fields["chain_id"]),
        nonce=fields["nonce"],
        issued_at=_parse_time(fields["issued_at"]),
        expiration_time=_parse_time(fields["expiration_time"]),
        statement=fields["statement"],
    )


def sign(message: SiweMessage | str, private_key) -> str:
    """Sign as a wallet would (EIP-191 personal_sign); for clients, tests and the demo."""
    text = message.text() if isinstance(message, SiweMessage) else message
    return hx(Account.sign_message(encode_defunct(text=text), private_key).signature)


def verify(text: str, signature: str, *, domain: str, uri: str, chain_id: int, now: datetime) -> SiweMessage:
    """Parse ``text``, check its binding (domain, URI, chain, time) and the signature.

    Returns the message; raises :class:`SiweError` on any failure. The nonce is the
    caller's to check (it must be one the server issued and not yet used).
    """
    message = parse(text)
    if message.domain != domain or message.uri != uri:
        raise SiweError(f"the message is for {message.domain} ({message.uri}), not {domain} ({uri})")
    if message.chain_id != chain_id:
        raise SiweError(f"the message is for chain {message.chain_id}, not {chain_id}")
    if now >= message.expiration_time:
        raise SiweError("the sign-in message has expired")
    if now < message.issued_at.replace(microsecond=0) and (message.issued_at - now).total_seconds() > 60:
        raise SiweError("the sign-in message is issued in the future")
    try:
        signer = Account.recover_message(encode_defunct(text=text), signature=signature)
    except Exception:  # malformed signatures raise many types in eth-keys
        raise SiweError("the signature is malformed") from None
    if signer != message.address:
        raise SiweError("the signature was not made by the address in the message")
    return message
