"""A store made before the learn index: its decisions join it once, and nothing is counted twice."""

from datetime import UTC, datetime, timedelta

from ulid import ULID

from decisions import repository
from decisions.migrations import decisions_upgrade
from memsite import storage
from memsite.storage.codec import format_timestamp
from memsite.storage.tables import AGENT_DECISIONS
from patterns import consolidation
from patterns import memory_repository as repo
from tests.patterns.helpers import log


def old_layout_item(agent: str, marker: str, *, counted: bool) -> dict:
    """A decision as the earlier version stored it: in the stm index, its count on the item."""
    at = datetime.now(UTC) - timedelta(hours=2)
    decision_id = str(ULID.from_datetime(at))
    stamp = format_timestamp(at)
    item = {
        "pk": f"agent:{agent}#decision#SIGNAL_GENERATION",
        "sk": f"{stamp}#{decision_id}",
        "decision_id": decision_id,
        "agent_id": agent,
        "type": "SIGNAL_GENERATION",
        "timestamp": stamp,
        "recorded_at": stamp,
        "version": 2,
        "context": {marker: True, "regime": "trend"},
        "reasoning": {"action": "long"},
        "outcome": {"status": "SUCCESS", "reported_at": stamp, "reported_by": f"agent:{agent}"},
        "outcome_status": "SUCCESS",
        "outcome_history": [{"previous": None, "replaced_at": stamp, "replaced_by": f"agent:{agent}"}],
        "agent_pk": f"agent:{agent}",
        "agent_sk": f"{stamp}#{decision_id}",
        "day_pk": f"day#{at:%Y-%m-%d}",
        "stm_pk": f"stm#{agent}",
        "stm_sk": f"{stamp}#{decision_id}",
        "content_hash": "old",
        "expires_at": int((at + timedelta(days=90)).timestamp()),
    }
    if counted:
        item["learned"] = {"version": 2, "contributions": {}}
    return item


def test_waiting_decisions_join_the_learn_index_and_counted_ones_are_not_counted_again(agent, marker, definition):
    log(agent, marker, outcome="SUCCESS")  # one decision of today's layout, for comparison
    table = storage.table(AGENT_DECISIONS, "worker")
    waiting, counted = old_layout_item(agent, marker, counted=False), old_layout_item(agent, marker, counted=True)
    table.batch_write([waiting, counted])
    table.delete({"pk": "migration", "sk": "stm-to-learn"})  # as on a store that never ran it

    assert decisions_upgrade(report=lambda message: None) >= 1
    assert decisions_upgrade(report=lambda message: None) == 0  # once

    stored = repository.decision_find({"pk": waiting["pk"], "sk": waiting["sk"]})
    assert stored is not None
    assert stored.outcome.status == "SUCCESS"
    run = consolidation.consolidate_agent(agent)
    assert run.decisions_counted == 2  # today's decision and the one that was waiting
    assert repo.state_find(definition.id, agent).state.support == 2
