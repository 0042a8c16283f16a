"""Archetypes rebuilt from decisions posted through the API, and the similar-situations endpoint,
against dynalite. Each test gets empty tables of its own: the rebuild reads every agent's
decisions of the last days, so other tests' decisions would join the clusters."""

from datetime import UTC, datetime, timedelta

import pytest
from scipy.stats import beta
from ulid import ULID

from patterns import archetype_repository
from patterns.archetype_schemas import Archetype, Member, OutcomeStats
from patterns.archetype_services import MAX_MEMBERS, archetypes_rebuild
from tests.patterns.test_archetypes import calm, capitulation, squeeze

SIMILAR = "/api/v1/situations/similar/"
pytestmark = pytest.mark.urls("tests.patterns.situations_urls")
# Near squeeze(0), below it on both numbers: squeeze(i) is farther the larger i.
SQUEEZE_QUERY = {"funding_rate": 0.079, "volatility": 0.89, "whale_activity": True, "regime": "trend"}


@pytest.fixture
def empty_store(own_tables) -> None:
    """Archetypes are learned from every decision stored: this test's only."""


@pytest.fixture
def hunter(as_agent):
    return as_agent("market-hunter")


@pytest.fixture
def risk(as_agent):
    return as_agent("risk-manager")


def _decision(agent: str, kind: str, context: dict, status: str | None, minutes_ago: int) -> dict:
    moment = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    sent = {
        "decision_id": str(ULID.from_datetime(moment)),
        "agent_id": agent,
        "type": kind,
        "timestamp": moment.isoformat(),
        "context": context,
        "reasoning": {"summary": f"{kind.lower()} at funding {context['funding_rate']:.4f}"},
    }
    return sent | ({"outcome": {"status": status}} if status else {})


@pytest.fixture
def logged(empty_store, hunter, risk) -> dict[str, list[dict]]:
    """Three planted situations of 12 decisions each. Squeeze decisions alternate between the market
    hunter's signals (even i) and the risk manager's assessments (odd i); of the 12, 2 succeeded,
    8 failed and 2 are pending (i = 10, 11)."""
    squeeze_status = ["SUCCESS"] * 2 + ["FAILURE"] * 8 + [None] * 2
    sets = {
        "calm": [_decision("market-hunter", "SIGNAL_GENERATION", calm(i), "SUCCESS", 10 + i) for i in range(12)],
        "capitulation": [
            _decision("market-hunter", "SIGNAL_GENERATION", capitulation(i), "FAILURE", 30 + i) for i in range(12)
        ],
        "squeeze": [
            _decision("risk-manager", "RISK_ASSESSMENT", squeeze(i), squeeze_status[i], 50 + i)
            if i % 2
            else _decision("market-hunter", "SIGNAL_GENERATION", squeeze(i), squeeze_status[i], 50 + i)
            for i in range(12)
        ],
    }
    for client, agent in ((hunter, "market-hunter"), (risk, "risk-manager")):
        batch = [d for decisions in sets.values() for d in decisions if d["agent_id"] == agent]
        assert client.post("/api/v1/decisions/", batch, format="json").status_code == 200
    return sets


def ids(decisions: list[dict]) -> list[str]:
    return [d["decision_id"] for d in decisions]


def test_the_rebuild_finds_the_three_planted_situations(logged, hunter):
    summary = archetypes_rebuild(days=1)

    listed = hunter.get("/api/v1/archetypes/").json()
    assert summary.stored
    assert (summary.rows, summary.k) == (36, 3)
    assert [a["stats"]["decisions"] for a in listed["results"]] == [12, 12, 12]
    assert listed["model_id"] == summary.model_id
    labels = {a["label"] for a in listed["results"]}
    assert any("high funding_rate" in label for label in labels), labels


def test_the_nearest_decisions_come_nearest_first_with_the_archetypes_outcome_stats(logged, hunter):
    archetypes_rebuild(days=1)

    response = hunter.post(SIMILAR, {"context": SQUEEZE_QUERY, "limit": 5}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert ids(body["results"]) == ids(logged["squeeze"][:5])
    distances = [r["distance"] for r in body["results"]]
    assert distances == sorted(distances)
    assert body["results"][0]["context"] == logged["squeeze"][0]["context"]
    stats = body["archetype"]["stats"]
    assert (stats["decisions"], stats["successes"], stats["failures"], stats["pending"]) == (12, 2, 8, 2)
    assert stats["success_rate"] == 0.25  # Beta(1 + 2, 1 + 8)
    assert stats["low"] == pytest.approx(beta.ppf(0.05, 3, 9), abs=1e-4)
    assert stats["high"] == pytest.approx(beta.ppf(0.95, 3, 9), abs=1e-4)
    assert body["features_used"] == ["funding_rate", "volatility", "whale_activity", "regime=trend", "regime=range"]


def test_type_and_agent_filters_keep_the_order(logged, hunter):
    archetypes_rebuild(days=1)

    by_type = hunter.post(SIMILAR, {"context": SQUEEZE_QUERY, "type": "RISK_ASSESSMENT", "limit": 3}, format="json")
    by_agent = hunter.post(SIMILAR, {"context": SQUEEZE_QUERY, "agent_id": "market-hunter", "limit": 3}, format="json")

    squeeze = logged["squeeze"]
    assert ids(by_type.json()["results"]) == ids([squeeze[1], squeeze[3], squeeze[5]])
    assert ids(by_agent.json()["results"]) == ids([squeeze[0], squeeze[2], squeeze[4]])


def test_the_second_nearest_archetype_fills_the_limit(logged, hunter):
    archetypes_rebuild(days=1)

    results = hunter.post(SIMILAR, {"context": SQUEEZE_QUERY, "limit": 15}, format="json").json()["results"]

    assert ids(results[:12]) == ids(logged["squeeze"])
    assert len(results) == 15
    assert len({r["archetype"] for r in results[12:]}) == 1
    assert results[12]["archetype"] != results[0]["archetype"]
    assert [r["distance"] for r in results] == sorted(r["distance"] for r in results)


def test_outcomes_reported_after_the_rebuild_are_read_back(logged, risk):
    archetypes_rebuild(days=1)
    pending = logged["squeeze"][11]  # the risk manager's

    reported = risk.post(f"/api/v1/decisions/{pending['decision_id']}/outcome/", {"status": "SUCCESS"}, format="json")
    body = risk.post(SIMILAR, {"context": SQUEEZE_QUERY, "limit": 12}, format="json").json()

    assert reported.status_code == 200
    last = body["results"][11]
    assert last["decision_id"] == pending["decision_id"]
    assert (last["outcome_status"], last["outcome"]["status"]) == ("SUCCESS", "SUCCESS")
    assert body["archetype"]["stats"]["pending"] == 2  # the archetype's stats are as of the rebuild


def test_before_any_rebuild_the_answer_is_empty_and_says_why(empty_store, hunter):
    response = hunter.post(SIMILAR, {"context": SQUEEZE_QUERY}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert (body["archetype"], body["results"]) == (None, [])
    assert "hourly consolidation job" in body["detail"]
    assert hunter.get("/api/v1/archetypes/").json()["results"] == []


def test_with_too_few_decisions_the_rebuild_stores_nothing(empty_store, hunter):
    batch = [_decision("market-hunter", "SIGNAL_GENERATION", calm(i), None, i) for i in range(5)]
    hunter.post("/api/v1/decisions/", batch, format="json")

    summary = archetypes_rebuild(days=1)

    assert not summary.stored
    assert "5 decisions with numbers in their context" in summary.detail
    assert archetype_repository.pointer_find() is None


def test_a_rebuild_keeps_the_model_it_replaced_and_deletes_the_one_before(logged):
    first, second, third = (archetypes_rebuild(days=1).model_id for _ in range(3))

    assert archetype_repository.pointer_find().model.model_id == third
    assert archetype_repository.archetypes_of(first) == []
    assert len(archetype_repository.archetypes_of(second)) == 3
    assert len(archetype_repository.archetypes_of(third)) == 3


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "context"),
        ({"context": [1, 2]}, "context"),
        ({"context": {}, "limit": 0}, "limit"),
        ({"context": {}, "limit": 51}, "limit"),
        ({"context": {}, "type": "trade"}, "type"),
        ({"context": {}, "colour": "red"}, "colour"),
    ],
)
def test_a_bad_body_is_a_400_naming_the_field(hunter, body, field):
    response = hunter.post(SIMILAR, body, format="json")

    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert response.json()["detail"].startswith(f"{field}:")


def test_people_with_a_role_may_ask_and_people_without_may_not(as_person, bob, charlie):
    assert as_person(bob).post(SIMILAR, {"context": {}}, format="json").status_code == 200
    assert as_person(charlie).post(SIMILAR, {"context": {}}, format="json").status_code == 403


def test_the_page_shows_each_archetype_with_its_chart_and_examples(logged, client, bob):
    archetypes_rebuild(days=1)
    client.force_login(bob)

    html = client.get("/patterns/archetypes/").content.decode()

    assert 'id="figure-archetypes"' in html
    assert "high funding_rate" in html
    assert f'href="/decisions/{logged["squeeze"][0]["decision_id"]}/"' in html


def test_the_page_without_a_model_explains_how_archetypes_come(empty_store, client, bob):
    client.force_login(bob)

    html = client.get("/patterns/archetypes/").content.decode()

    assert "No archetypes yet" in html
    assert 'id="figure-archetypes"' not in html


def test_a_full_archetype_item_stays_far_below_dynamodbs_400_kb(empty_store):
    now = datetime.now(UTC)
    member = Member(
        decision_id=str(ULID()),
        agent_id="a-rather-long-agent-name-for-good-measure",
        type="TRADE_EXECUTION",
        timestamp=now,
        key={"pk": "agent:a-rather-long-agent-name-for-good-measure#decision#TRADE_EXECUTION", "sk": "x" * 54},
        vector=[-1.234567891 * (i + 1) for i in range(40)],
        outcome_status="PENDING",
    )
    stats = OutcomeStats(decisions=5000, successes=1, failures=1, pending=4998, success_rate=0.5, low=0.1, high=0.9)
    archetype = Archetype(
        model_id=str(ULID()),
        number=0,
        label="x" * 120,
        centroid=[0.123456789] * 40,
        typical={f"market.feature_{i}": 12345.6789 for i in range(40)},
        stats=stats,
        members=[member] * MAX_MEMBERS,
    )

    archetype_repository.archetypes_put([archetype])
    stored = archetype_repository.archetypes_of(archetype.model_id)[0]

    assert stored.members[0].vector[0] == -1.235  # four significant digits
    assert len(stored.model_dump_json()) < 150_000
