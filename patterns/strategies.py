"""Strategies: for each decision type and market context bucket, which action has led to SUCCESS
most often. The bucket and the action are read from the first of a few well-known paths the
agents fill; decisions without an action teach no strategy."""

from typing import Any

from patterns.learner import Evidence, confidence
from patterns.matching import value_at
from patterns.memory_repository import StoredStrategy
from patterns.memory_schemas import ActionStats, Strategy

BUCKET_PATHS = ("context.regime", "context.market.regime", "context.market_regime")
ACTION_PATHS = (
    "reasoning.action",
    "reasoning.selected_source",
    "reasoning.source",
    "reasoning.side",
    "reasoning.decision",
)
ANY_BUCKET = "any"
MAX_LABEL = 64


def _first_scalar(decision: dict[str, Any], paths: tuple[str, ...]) -> str | None:
    for path in paths:
        found = value_at(decision, path)
        if isinstance(found, (str, int, float, bool)) and str(found).strip():
            return str(found)[:MAX_LABEL].replace("#", "_")
    return None


def bucket_of(decision: dict[str, Any]) -> str:
    return _first_scalar(decision, BUCKET_PATHS) or ANY_BUCKET


def action_of(decision: dict[str, Any]) -> str | None:
    return _first_scalar(decision, ACTION_PATHS)


def strategy_view(stored: StoredStrategy) -> Strategy:
    actions = []
    for action, counts in stored.actions.items():
        successes, failures = counts["s"], counts["f"]
        if successes + failures == 0:
            continue
        conf = confidence(Evidence(hits=successes, misses=failures, support=successes + failures))
        actions.append(
            ActionStats(
                action=action,
                decisions=successes + failures,
                successes=successes,
                failures=failures,
                rate=conf.mean,
                low=conf.low,
                high=conf.high,
            )
        )
    actions.sort(key=lambda a: (a.low, a.rate), reverse=True)
    return Strategy(
        agent_id=stored.agent_id,
        decision_type=stored.decision_type,
        bucket=stored.bucket,
        best_action=actions[0].action if actions else None,
        actions=actions,
        updated_at=stored.updated_at,
    )
