"""The learned-patterns API as agents and people use it."""

import pytest

from patterns import consolidation
from tests.patterns.helpers import log


@pytest.fixture
def learned(agent, marker, definition):
    for status in ["SUCCESS"] * 9 + ["FAILURE"]:
        log(agent, marker, outcome=status)
    consolidation.consolidate_agent(agent)
    return definition


def test_an_agent_reads_its_patterns_and_the_shared_ones_highest_confidence_first(as_agent, agent, learned):
    response = as_agent(agent).get("/api/v1/patterns/")

    assert response.status_code == 200
    mine = [p for p in response.json()["results"] if p["pattern_id"] == learned.id]
    assert {p["agent_id"] for p in mine} == {agent, None}
    first = mine[0]
    assert first["support"] == 10
    assert first["low"] < first["confidence"] < first["high"]
    assert first["name"] == "test pattern"
    confidences = [p["confidence"] for p in response.json()["results"]]
    assert confidences == sorted(confidences, reverse=True)


@pytest.mark.parametrize(
    ("params", "scopes"),
    [
        ("agent={agent}", {"agent"}),
        ("shared=true", {None}),
        ("agent={agent}&shared=true", {"agent", None}),
    ],
)
def test_filters_by_agent_and_shared(as_person, bob, agent, learned, params, scopes):
    response = as_person(bob).get("/api/v1/patterns/?" + params.format(agent=agent))

    found = {p["agent_id"] for p in response.json()["results"] if p["pattern_id"] == learned.id}
    assert found == {agent if s == "agent" else None for s in scopes}


def test_min_confidence_and_status_filter(as_person, bob, agent, learned):
    high = as_person(bob).get(f"/api/v1/patterns/?agent={agent}&min_confidence=0.99").json()["results"]
    active = as_person(bob).get(f"/api/v1/patterns/?agent={agent}&status=active").json()["results"]
    candidate = as_person(bob).get(f"/api/v1/patterns/?agent={agent}&status=candidate").json()["results"]

    assert high == []
    assert [p["pattern_id"] for p in active] == [learned.id]
    assert candidate == []


@pytest.mark.parametrize(
    ("query", "field"),
    [("min_confidence=2", "min_confidence"), ("status=great", "status"), ("agent=NOT AN ID", "agent"), ("x=1", "x")],
)
def test_bad_filters_are_400_naming_the_parameter(as_person, bob, query, field):
    response = as_person(bob).get(f"/api/v1/patterns/?{query}")

    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_versions_chart_the_evolution(as_person, bob, agent, marker, learned):
    log(agent, marker, outcome="FAILURE")
    consolidation.consolidate_agent(agent)

    versions = as_person(bob).get(f"/api/v1/patterns/{learned.id}/versions/?agent={agent}").json()["results"]

    assert [v["version"] for v in versions] == [1, 2]
    assert [v["support"] for v in versions] == [10, 11]
    assert versions[1]["confidence"] < versions[0]["confidence"]
    assert len(versions[0]["sample_hits"]) == 9


def test_operators_pin_and_release_a_pattern_viewers_cannot(as_person, alice, bob, agent, learned):
    url = f"/api/v1/patterns/{learned.id}/override/"

    refused = as_person(bob).put(url, {"agent_id": agent, "override": "suspended"}, format="json")
    suspended = as_person(alice).put(
        url, {"agent_id": agent, "override": "suspended", "reason": "bad feed"}, format="json"
    )
    released = as_person(alice).put(url, {"agent_id": agent, "override": None}, format="json")

    assert refused.status_code == 403
    assert suspended.json()["status"] == "suspended"
    assert suspended.json()["history"][-1]["reason"] == "bad feed"
    assert released.json()["status"] == released.json()["learned_status"] == "active"


def test_overriding_a_pattern_not_learned_yet_is_404(as_person, alice, learned):
    response = as_person(alice).put(
        f"/api/v1/patterns/{learned.id}/override/", {"agent_id": "nobody-here", "override": "pinned"}, format="json"
    )

    assert response.status_code == 404


def test_strategies_and_runs_are_listed(as_person, bob, agent, learned):
    strategies = as_person(bob).get(f"/api/v1/strategies/?agent={agent}").json()["results"]
    runs = as_person(bob).get("/api/v1/consolidation/runs/").json()["results"]

    [strategy] = strategies
    assert strategy["best_action"] == "long"
    assert strategy["actions"][0]["successes"] == 9
    assert any(r["agent_id"] == agent and r["status"] == "succeeded" for r in runs)


@pytest.mark.parametrize("agent_id", ["*", "x" * 3000, "Not An Id"])
def test_an_override_for_something_that_is_no_agent_id_is_400_naming_it(as_person, alice, learned, agent_id):
    response = as_person(alice).put(
        f"/api/v1/patterns/{learned.id}/override/", {"agent_id": agent_id, "override": "pinned"}, format="json"
    )

    assert response.status_code == 400
    assert "agent_id" in response.json()["fields"]


def test_versions_of_an_unknown_pattern_are_404(as_person, bob):
    assert as_person(bob).get("/api/v1/patterns/no-such-pattern/versions/").status_code == 404


@pytest.mark.parametrize("reserved", ["strategies", "archetypes", "definitions"])
def test_ids_that_name_pages_are_refused(as_person, alice, reserved):
    response = as_person(alice).post(
        "/api/v1/pattern-definitions/", {"id": reserved, "name": "x", "decision_type": "TRADE_EXECUTION"}, format="json"
    )

    assert response.status_code == 400
    assert "id" in response.json()["fields"]
