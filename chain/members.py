"""One directory of GovRegistry's members, kept until a registry event says it changed.

The platform reads members on most requests (sign-in, every role check, the holder of a pull,
the agency of a domain, a certificate's issuer). A member record costs a call and the full list
eight calls a member, so both are kept, and GovRegistry's own events say when to forget them:
at most every ``refresh_seconds`` the directory reads the registry's new events, forgets every
account they name (RoleGranted/Revoked, MemberSuspended/Retired, MemberUpdated, HpkeKeyRotated,
...) and, on any event at all, the list of active members.

It replaces four caches with four lifetimes (the API's role cache, its 30 s list of active
members, the certificate verifier's 5 s member cache); the gateway, its own program, keeps its
own. The registry is asked for lazily (``registry_of``), so the directory can be built before
the node answers; a read while the node is down raises like any other chain read.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from web3 import Web3

from chain.addresses import checksum
from chain.events import EventReader
from chain.registry import GovRegistryClient, Member, MemberStatus


class Members:
    def __init__(self, registry_of: Callable[[], GovRegistryClient], refresh_seconds: float = 1.0):
        self.registry_of = registry_of
        self.refresh_seconds = refresh_seconds
        self._records: dict[str, Member] = {}
        self._active: list[Member] | None = None
        self._next_block: int | None = None
        self._checked_at = float("-inf")
        self._lock = threading.Lock()

    @classmethod
    def of(cls, registry: GovRegistryClient, refresh_seconds: float = 1.0) -> "Members":
        """A directory over an already connected registry client (the CLI's verifier, tests)."""
        return cls(lambda: registry, refresh_seconds)

    def record(self, address: str) -> Member:
        """The member record of ``address`` whatever its status (``MemberStatus.NONE`` if never registered)."""
        self.refresh()
        address = checksum(address)
        with self._lock:
            cached = self._records.get(address)
        if cached is None:
            cached = self.registry_of().member(address)
            with self._lock:
                self._records[address] = cached
        return cached

    def member(self, address: str) -> Member | None:
        """The member record of ``address``, or None if it was never registered."""
        record = self.record(address)
        return record if record.status is not MemberStatus.NONE else None

    def active(self) -> list[Member]:
        """Every active member with its roles."""
        self.refresh()
        with self._lock:
            active = self._active
        if active is None:
            active = [member for member in self.registry_of().members() if member.active]
            with self._lock:
                self._active = active
        return active

    def by_domain(self, domain: str, role: str) -> Member | None:
        """The active member with ``domain`` holding ``role``."""
        return next((m for m in self.active() if m.info.domain == domain and role in m.roles), None)

    def refresh(self, force: bool = False) -> None:
        """Read the registry's events since the last look (at most every ``refresh_seconds``
        unless ``force``) and forget what they name."""
        now = time.monotonic()
        if not force and now - self._checked_at < self.refresh_seconds:
            return
        registry = self.registry_of()
        head = registry.client.block_number()
        with self._lock:
            start = self._next_block
            self._checked_at = now
            if start is None:  # first look: nothing was read before it, just start following here
                self._next_block = head + 1
                return
        if start > head:
            return
        events = EventReader(registry.client, registry.contract).read(start, head)
        with self._lock:
            for event in events:
                account = event.args.get("account")
                if account:
                    self._records.pop(Web3.to_checksum_address(account), None)
            if events:
                self._active = None
            self._next_block = head + 1
