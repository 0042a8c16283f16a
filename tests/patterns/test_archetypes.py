"""Archetypes' arithmetic on constructed contexts: features, scaling, clusters, names, ranking."""

import math
import random

import pytest
from scipy.stats import beta

from decisions.schemas import Decision, Outcome
from patterns.archetype_charts import success_by_archetype
from patterns.archetype_schemas import Archetype, OutcomeStats
from patterns.archetype_services import outcome_stats
from patterns.archetypes import (
    Feature,
    FeatureSpace,
    cluster,
    context_features,
    describe,
    features_select,
    nearest_archetypes,
    rank_by_distance,
    space_fit,
)


def calm(i: int) -> dict:
    return {
        "funding_rate": 0.01 + i * 0.0005,
        "volatility": 0.2 + i * 0.005,
        "whale_activity": False,
        "regime": "range",
    }


def squeeze(i: int) -> dict:
    return {"funding_rate": 0.08 + i * 0.002, "volatility": 0.9 + i * 0.01, "whale_activity": True, "regime": "trend"}


def capitulation(i: int) -> dict:
    return {
        "funding_rate": -0.05 - i * 0.001,
        "volatility": 0.55 + i * 0.003,
        "whale_activity": False,
        "regime": "trend",
    }


# Planted: 15 calm, 10 squeeze, 5 capitulation contexts; ORDER shuffles them (the clustering must not
# depend on the order rows come in).
PLANTED = [calm(i) for i in range(15)] + [squeeze(i) for i in range(10)] + [capitulation(i) for i in range(5)]
ORDER = random.Random(7).sample(range(30), 30)


def test_a_context_becomes_numbers_flags_and_one_hot_categories_on_dotted_paths():
    context = {
        "price": 64123,
        "market": {"funding_rate": 0.031, "book": {"imbalance": -0.2}},
        "whale_activity": True,
        "regime": "trend",
        "note": "a long sentence of prose explaining the agent's mood today",
        "levels": [1, 2, 3],
        "gap": float("nan"),
        "none": None,
    }

    assert context_features(context) == {
        "price": Feature("number", 64123.0),
        "market.funding_rate": Feature("number", 0.031),
        "market.book.imbalance": Feature("number", -0.2),
        "whale_activity": Feature("flag", 1.0),
        "regime=trend": Feature("category", 1.0),
    }


def test_features_in_too_few_rows_and_rare_category_values_are_left_out():
    rows = [context_features({"a": i, "regime": "trend" if i < 29 else "rare"}) for i in range(30)]
    rows[0] |= context_features({"b": 1.0})  # in 1 row of 30: under the fifth needed

    assert features_select(rows) == [("a", "number"), ("regime=trend", "category")]


def test_constant_features_are_dropped_as_they_separate_nothing():
    rows = [context_features({"a": i, "b": 7}) for i in range(10)]

    assert space_fit(rows).names == ["a"]


def test_a_missing_number_sits_at_the_mean_and_another_category_value_counts_as_zero():
    space = FeatureSpace(
        names=["volatility", "regime=trend"], kinds=["number", "category"], means=[0.5, 0.5], scales=[0.25, 0.5]
    )

    assert space.vector(context_features({"volatility": 1.0, "regime": "trend"})) == [2.0, 1.0]
    assert space.vector(context_features({"regime": "range"})) == [0.0, -1.0]
    assert space.vector({}) == [0.0, 0.0]  # nothing known: the average context


def test_clustering_finds_the_planted_clusters_numbered_by_size():
    rows = [context_features(PLANTED[i]) for i in ORDER]

    result = cluster(rows)

    assert len(result.centroids) == 3
    label_of = dict(zip(ORDER, result.labels, strict=True))
    assert {label_of[i] for i in range(15)} == {0}
    assert {label_of[i] for i in range(15, 25)} == {1}
    assert {label_of[i] for i in range(25, 30)} == {2}
    assert result.silhouette > 0.7


def test_the_same_rows_give_the_same_archetypes():
    rows = [context_features(PLANTED[i]) for i in ORDER]

    assert cluster(rows) == cluster(rows)


def test_two_distinct_contexts_are_one_archetype_without_a_silhouette():
    # Silhouette needs at least one point more than clusters; two points cannot be scored.
    result = cluster([context_features({"a": 1.0}), context_features({"a": 2.0})])

    assert len(result.centroids) == 1
    assert result.silhouette is None


def test_clustering_needs_a_feature_that_varies():
    with pytest.raises(ValueError, match="no feature varies"):
        cluster([context_features({"a": 1}) for _ in range(10)])


def test_an_archetype_is_named_by_its_most_distinctive_features():
    space = FeatureSpace(
        names=["funding_rate", "whale_activity", "volatility", "regime=trend", "spread"],
        kinds=["number", "flag", "number", "category", "number"],
        means=[0.0] * 5,
        scales=[1.0] * 5,
    )

    assert describe(space, [1.8, 1.2, -0.9, 0.2, 0.1]) == "high funding_rate, whale_activity, low volatility"
    assert describe(space, [0.1, -1.0, 0.0, 0.7, 0.0]) == "no whale_activity, regime=trend"
    assert describe(space, [0.1, 0.2, 0.0, -0.9, 0.3]) == "typical context"


def test_candidates_are_ranked_by_euclidean_distance_nearest_first():
    candidates = {"far": [3.0, 4.0], "near": [0.0, 1.0], "middle": [2.0, 0.0], "tied": [0.0, -1.0]}

    ranked = rank_by_distance([0.0, 0.0], list(candidates), candidates.__getitem__)

    assert [(name, d) for d, name in ranked] == [("near", 1.0), ("tied", 1.0), ("middle", 2.0), ("far", 5.0)]


def test_a_new_context_is_placed_in_its_planted_cluster_and_ranked_among_its_members():
    rows = [context_features(c) for c in PLANTED]
    result = cluster(rows)
    query = result.space.vector(context_features(squeeze(0) | {"funding_rate": 0.079, "volatility": 0.89}))

    (_, nearest), *_ = nearest_archetypes(query, result.centroids)
    members = [i for i, label in enumerate(result.labels) if label == nearest]
    ranked = rank_by_distance(query, members, result.vectors.__getitem__)

    assert members == list(range(15, 25))
    assert [i for _, i in ranked] == list(range(15, 25))  # squeeze(0) nearest, squeeze(9) farthest


def _decision(status: str | None) -> Decision:
    from datetime import UTC, datetime

    now = datetime(2026, 11, 27, tzinfo=UTC)
    return Decision(
        decision_id="01JAAAAAAAAAAAAAAAAAAAAAAA",
        agent_id="market-hunter",
        type="SIGNAL_GENERATION",
        timestamp=now,
        outcome=Outcome(status=status, reported_at=now, reported_by="agent:market-hunter") if status else None,
        recorded_at=now,
    )


def test_outcome_stats_are_the_beta_posterior_of_successes_and_failures():
    decisions = [_decision("SUCCESS")] * 2 + [_decision("FAILURE")] * 8 + [_decision(None)] * 2

    stats = outcome_stats(decisions)

    assert (stats.decisions, stats.successes, stats.failures, stats.pending) == (12, 2, 8, 2)
    assert stats.success_rate == 0.25  # Beta(3, 9)
    assert stats.low == pytest.approx(beta.ppf(0.05, 3, 9), abs=1e-4)
    assert stats.high == pytest.approx(beta.ppf(0.95, 3, 9), abs=1e-4)


def test_the_chart_shows_each_archetypes_rate_with_its_interval_as_error_bars():
    stats = OutcomeStats(decisions=12, successes=2, failures=8, pending=2, success_rate=0.25, low=0.08, high=0.48)
    archetype = Archetype(
        model_id="m", number=1, label="high funding_rate", centroid=[1.0], typical={}, stats=stats, members=[]
    )

    trace = success_by_archetype([archetype]).to_plotly_json()["data"][0]

    assert list(trace["x"]) == ["#1 high funding_rate"]
    assert list(trace["y"]) == [0.25]
    assert math.isclose(trace["error_y"]["array"][0], 0.23)
    assert math.isclose(trace["error_y"]["arrayminus"][0], 0.17)
