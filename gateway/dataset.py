"""Where a gateway reads its holder's records: a :class:`DataSource`. The demo one serves the clearly
fake citizens of :mod:`identity.dev_citizens`; a real data holder plugs in its own."""

from __future__ import annotations

from typing import Protocol

from identity.dev_citizens import demo_citizen


class DataSource(Protocol):
    def lookup(self, category: str, id_number: str) -> dict | None:
        """The record of ``category`` for the citizen, or None if the holder has none."""


class DemoDataset:
    def __init__(self, size: int = 2000, seed: int = 2023):
        self._by_id = {}
        for index in range(1, size + 1):
            citizen = demo_citizen(index, seed)
            self._by_id[citizen["id_number"]] = citizen

    def lookup(self, category: str, id_number: str) -> dict | None:
        citizen = self._by_id.get(id_number)
        return None if citizen is None else citizen.get(category)
