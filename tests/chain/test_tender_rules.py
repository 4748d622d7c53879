"""The Python mirror of TenderLedger's evaluation rule (pure logic)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chain.tender_rules import LOWEST_PRICE, WEIGHTED_SCORE, ResultUndefined, compute_result

A, B, C = (bytes([n]) * 32 for n in (1, 2, 3))


def test_lowest_price_wins_and_ties_go_to_the_lowest_pseudonym():
    assert compute_result(LOWEST_PRICE, [], {A: 300, B: 200, C: 250}) == (B, 200)
    assert compute_result(LOWEST_PRICE, [], {C: 200, B: 200}) == (B, 200)


def test_weighted_total_then_price_then_pseudonym():
    experts = ["e1", "e2"]
    scores = {("e1", A): [80, 90], ("e2", A): [70, 90], ("e1", B): [90, 80], ("e2", B): [80, 80]}
    # A: (80*6000+90*4000)+(70*6000+90*4000) = 840000+780000; B: 860000+800000
    assert compute_result(WEIGHTED_SCORE, [6000, 4000], {A: 100, B: 120}, scores, experts) == (B, 1_660_000)
    tied = {("e1", A): [50, 50], ("e2", A): [50, 50], ("e1", B): [50, 50], ("e2", B): [50, 50]}
    assert compute_result(WEIGHTED_SCORE, [5000, 5000], {A: 100, B: 90}, tied, experts)[0] == B  # lower price


def test_missing_scores_and_empty_readings_are_undefined():
    with pytest.raises(ResultUndefined, match="has not scored"):
        compute_result(WEIGHTED_SCORE, [10000], {A: 1}, {}, ["e1"])
    with pytest.raises(ResultUndefined, match="no bid"):
        compute_result(LOWEST_PRICE, [], {})


@given(st.dictionaries(st.binary(min_size=32, max_size=32), st.integers(0, 10**12), min_size=1, max_size=20))
def test_lowest_price_winner_is_never_beaten(prices):
    winner, value = compute_result(LOWEST_PRICE, [], prices)
    assert value == min(prices.values()) and prices[winner] == value
