"""The learner's arithmetic against values worked out by hand."""

import math
from datetime import UTC, datetime, timedelta

import pytest

from patterns.learner import (
    Confidence,
    Evidence,
    confidence,
    decay,
    evidence_add,
    evidence_at,
    evidence_remove,
    next_status,
)

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def test_no_evidence_is_the_uniform_prior_with_the_middle_90_percent():
    result = confidence(Evidence())

    assert result.mean == 0.5
    assert result.low == pytest.approx(0.05)
    assert result.high == pytest.approx(0.95)


def test_one_hit_gives_beta_2_1_whose_quantiles_are_square_roots():
    evidence = evidence_add(Evidence(), at=T0, hit=True, half_life_days=30)

    result = confidence(evidence)

    # Beta(2, 1) has CDF x^2, so its q-quantile is sqrt(q).
    assert result.mean == pytest.approx(2 / 3)
    assert result.low == pytest.approx(math.sqrt(0.05))
    assert result.high == pytest.approx(math.sqrt(0.95))
    assert result.support == 1


def test_one_miss_gives_beta_1_2():
    result = confidence(evidence_add(Evidence(), at=T0, hit=False, half_life_days=30))

    # Beta(1, 2) has CDF 1 - (1 - x)^2, so its q-quantile is 1 - sqrt(1 - q).
    assert result.mean == pytest.approx(1 / 3)
    assert result.low == pytest.approx(1 - math.sqrt(0.95))
    assert result.high == pytest.approx(1 - math.sqrt(0.05))


def test_evidence_one_half_life_old_weighs_half():
    assert decay(30, 30) == 0.5
    assert decay(60, 30) == 0.25
    assert decay(-5, 30) == 1.0

    old = evidence_add(Evidence(), at=T0, hit=True, half_life_days=30)
    both = evidence_add(old, at=T0 + timedelta(days=30), hit=False, half_life_days=30)

    assert (both.hits, both.misses, both.support) == (pytest.approx(0.5), 1.0, 2)


def test_the_order_outcomes_arrive_in_does_not_matter():
    times = [T0 + timedelta(days=d) for d in (0, 45, 12, 30)]
    hits = [True, False, True, True]

    forward, backward = Evidence(), Evidence()
    for at, hit in zip(times, hits, strict=True):
        forward = evidence_add(forward, at=at, hit=hit, half_life_days=20)
    for at, hit in reversed(list(zip(times, hits, strict=True))):
        backward = evidence_add(backward, at=at, hit=hit, half_life_days=20)

    assert forward.hits == pytest.approx(backward.hits)
    assert forward.misses == pytest.approx(backward.misses)
    assert forward.as_of == backward.as_of == T0 + timedelta(days=45)


def test_evidence_decays_to_today():
    evidence = Evidence(hits=8, misses=2, support=10, as_of=T0)

    today = evidence_at(evidence, T0 + timedelta(days=10), half_life_days=10)

    assert (today.hits, today.misses, today.support) == (4, 1, 10)


def _conf(mean, low, high, support):
    return Confidence(mean=mean, low=low, high=high, support=support)


@pytest.mark.parametrize(
    ("status", "conf", "days", "expected"),
    [
        ("candidate", _conf(0.8, 0.65, 0.9, 25), 1, "active"),
        ("candidate", _conf(0.8, 0.65, 0.9, 5), 1, "candidate"),  # too little support
        ("candidate", _conf(0.7, 0.55, 0.8, 25), 1, "candidate"),  # low end below activate_at
        ("active", _conf(0.62, 0.5, 0.7, 40), 1, "active"),  # wavering, but not refuted
        ("active", _conf(0.4, 0.3, 0.55, 40), 1, "retired"),  # even the high end is below
        ("active", _conf(0.8, 0.7, 0.9, 40), 121, "retired"),  # no evidence for 4 half-lives
        ("pinned", _conf(0.1, 0.05, 0.2, 40), 500, "pinned"),
        ("suspended", _conf(0.9, 0.8, 0.95, 40), 1, "suspended"),
    ],
)
def test_lifecycle_transitions(status, conf, days, expected):
    result = next_status(status, conf, min_support=20, activate_at=0.6, days_since_evidence=days, half_life_days=30)

    assert result == expected


def test_taking_back_an_outcome_restores_the_counts_it_was_added_to():
    start = datetime(2026, 11, 1, tzinfo=UTC)
    before = Evidence()
    for day, hit in [(0, True), (10, False), (20, True)]:
        before = evidence_add(before, at=start + timedelta(days=day), hit=hit, half_life_days=10)

    corrected = evidence_add(before, at=start + timedelta(days=5), hit=True, half_life_days=10)
    corrected = evidence_remove(corrected, at=start + timedelta(days=5), hit=True, half_life_days=10)

    assert corrected.support == before.support == 3
    assert corrected.hits == pytest.approx(before.hits)
    assert corrected.misses == pytest.approx(before.misses)
    # by hand: as of day 20, hits 0.25 (day 0) + 1 (day 20), misses 0.5 (day 10)
    assert (before.hits, before.misses) == pytest.approx((1.25, 0.5))


def test_taking_back_never_goes_below_zero():
    one = evidence_add(Evidence(), at=datetime(2026, 11, 1, tzinfo=UTC), hit=False, half_life_days=30)

    emptied = evidence_remove(one, at=datetime(2026, 11, 1, tzinfo=UTC), hit=False, half_life_days=30)
    again = evidence_remove(emptied, at=datetime(2026, 11, 1, tzinfo=UTC), hit=False, half_life_days=30)

    assert (emptied.misses, emptied.support) == (0.0, 0)
    assert again == emptied
