"""Helpers for the pattern tests: decisions logged and outcomes reported through the real services."""

from datetime import UTC, datetime, timedelta

from ulid import ULID

from decisions import services as decision_services
from patterns import services as pattern_services

OPERATOR = pattern_services.Editor(label="user:test", may_edit=True)


def log(
    agent: str,
    marker: str,
    *,
    outcome: str | None,
    age: timedelta = timedelta(0),
    at: datetime | None = None,
    action: str = "long",
    regime: str = "trend",
):
    """A decision `age` ago, or at `at` when given."""
    actor = decision_services.Actor(label=f"agent:{agent}", agent_id=agent)
    body = {
        "decision_id": str(ULID()),
        "agent_id": agent,
        "type": "SIGNAL_GENERATION",
        "timestamp": (at or datetime.now(UTC) - age).isoformat(),
        "context": {marker: True, "regime": regime},
        "reasoning": {"action": action},
    }
    if outcome:
        body["outcome"] = {"status": outcome}
    status, decision = decision_services.decision_record(raw=body, actor=actor)
    assert status == "created"
    return decision


def report(decision, status: str):
    actor = decision_services.Actor(label=f"agent:{decision.agent_id}", agent_id=decision.agent_id)
    decision_services.decision_outcome_set(decision_id=decision.decision_id, raw={"status": status}, actor=actor)


def define(pattern_id: str, marker: str, *, name: str = "test pattern", **settings):
    """A SIGNAL_GENERATION pattern that matches decisions whose context has `marker` set to True
    (what `log` writes), defined by an operator; `settings` are further definition fields."""
    raw = {
        "id": pattern_id,
        "name": name,
        "decision_type": "SIGNAL_GENERATION",
        "conditions": [{"path": f"context.{marker}", "op": "eq", "value": True}],
    }
    return pattern_services.definition_create(raw=raw | settings, editor=OPERATOR)
