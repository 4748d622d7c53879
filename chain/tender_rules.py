"""The evaluation rule of TenderLedger, in Python: anyone can recompute a tender's result
from the chain and compare it with the one published (``govchain tender verify``).

It mirrors ``TenderLedger.computeResult`` exactly:
- lowest evaluated price (method 0): the lowest read price wins; ties go to the lowest
  pseudonym (as an unsigned 256-bit number);
- weighted score (method 1): the highest total of score x weight summed over every panel
  expert and criterion wins; ties go to the lower price, then the lowest pseudonym.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

LOWEST_PRICE, WEIGHTED_SCORE = 0, 1


class ResultUndefined(ValueError):
    """No result can be computed (no read bid, or scores missing)."""


def compute_result(
    method: int,
    weights: Sequence[int],
    prices: Mapping[bytes, int],
    scores: Mapping[tuple[str, bytes], Sequence[int]] | None = None,
    experts: Sequence[str] = (),
) -> tuple[bytes, int]:
    """``(winner pseudonym, value)``: value is the price (method 0) or the total (method 1)."""
    if not prices:
        raise ResultUndefined("no bid was read")
    if method == LOWEST_PRICE:
        winner = min(prices, key=lambda p: (prices[p], int.from_bytes(p, "big")))
        return winner, prices[winner]
    if method != WEIGHTED_SCORE:
        raise ResultUndefined(f"unknown evaluation method {method}")
    scores = scores or {}
    totals = {}
    for pseudonym in prices:
        total = 0
        for expert in experts:
            given = scores.get((expert, pseudonym))
            if given is None:
                raise ResultUndefined(f"expert {expert} has not scored bid 0x{pseudonym.hex()}")
            total += sum(score * weight for score, weight in zip(given, weights, strict=True))
        totals[pseudonym] = total
    winner = min(prices, key=lambda p: (-totals[p], prices[p], int.from_bytes(p, "big")))
    return winner, totals[winner]
