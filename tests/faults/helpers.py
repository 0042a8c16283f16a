"""Counting what the store holds of what the team logged, and what the server answered."""

from collections import Counter
from datetime import UTC, datetime, timedelta

from decisions import repository
from decisions.schemas import Decision
from decisions.selectors import DecisionFilter, decision_list
from memsite import metrics
from tests.faults.conftest import RecordingClient

WINDOW = timedelta(days=2)  # the tests log live decisions and at most a few hours of history


def stored_decisions(agent_id: str) -> list[Decision]:
    """Every decision item of the agent (its by_agent index, every page), duplicates included."""
    decisions: list[Decision] = []
    cursor = None
    since = datetime.now(UTC) - WINDOW
    while True:
        page, cursor = decision_list(filters=DecisionFilter(agent=agent_id, since=since, limit=500, cursor=cursor))
        decisions += page
        if cursor is None:
            return decisions


def rollup_counts(agent_id: str) -> Counter:
    """The agent's rollup counters (total, t_TYPE, o_STATUS) over the window, summed."""
    now = datetime.now(UTC)
    days = {(now - timedelta(days=back)).date().isoformat() for back in range(WINDOW.days + 1)}
    totals: Counter = Counter()
    for day in days:
        for row in repository.rollup_rows(day, "00", "23"):
            if row["agent_id"] == agent_id:
                totals.update({k: v for k, v in row.items() if k == "total" or k.startswith(("t_", "o_"))})
    return +totals  # drops zero counts


def assert_stored_exactly_once(agent: RecordingClient) -> list[Decision]:
    """Every decision the agent logged is stored once, with the outcome it was given last; the
    rollups count exactly the stored decisions; the spool is empty and nothing was given up."""
    stored = stored_decisions(agent.agent_id)
    copies = Counter(d.decision_id for d in stored)
    assert sorted(copies) == sorted(agent.expected), f"{agent.agent_id}: stored ids differ from those logged"
    assert max(copies.values(), default=1) == 1, f"{agent.agent_id}: stored twice: {copies.most_common(3)}"
    assert {d.decision_id: d.outcome_status for d in stored} == agent.expected
    for decision in stored:
        if decision.decision_id in agent.reported:
            assert len(decision.outcome_history) == 1, f"{decision.decision_id}: reported once, changed again"
    expected_counts = Counter({"total": len(stored)})
    expected_counts.update(f"t_{d.type}" for d in stored)
    expected_counts.update(f"o_{d.outcome_status}" for d in stored)
    assert rollup_counts(agent.agent_id) == expected_counts
    assert agent.pending() == 0
    assert agent.dead_letters() == []
    return stored


def responses_by_status() -> Counter:
    """How many responses of each status this process's server has given (its metrics)."""
    answered: Counter = Counter()
    for family in metrics.REQUESTS.collect():
        for sample in family.samples:
            if sample.name.endswith("_total"):
                answered[int(sample.labels["status"])] += int(sample.value)
    return answered


def slow_responses(over_seconds: float) -> int:
    """How many responses took longer than `over_seconds` (a bucket bound of the latency
    histogram): everything counted minus what fell in the buckets up to that bound."""
    count = within = 0.0
    for family in metrics.REQUEST_SECONDS.collect():
        for sample in family.samples:
            if sample.name.endswith("_count"):
                count += sample.value
            elif sample.name.endswith("_bucket") and float(sample.labels["le"]) == over_seconds:
                within += sample.value
    return int(count - within)
