"""Whether a decision is covered by a definition, and whether its outcome is a hit. Pure
functions over the decision as JSON, shared by the learner and the definition previews."""

from typing import Any

from patterns.schemas import Condition, PatternDefinitionIn

_MISSING = object()


def value_at(document: dict[str, Any], path: str) -> Any:
    node: Any = document
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _numeric(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def holds(condition: Condition, document: dict[str, Any]) -> bool:
    found = value_at(document, condition.path)
    if condition.op == "exists":
        return (found is not _MISSING) == condition.value
    if found is _MISSING:
        return False
    if condition.op == "eq":
        return found == condition.value
    if condition.op == "ne":
        return found != condition.value
    if condition.op == "in":
        return found in condition.value
    if not _numeric(found):
        return False
    return {
        "gt": found > condition.value,
        "gte": found >= condition.value,
        "lt": found < condition.value,
        "lte": found <= condition.value,
    }[condition.op]


def covers(definition: PatternDefinitionIn, decision: dict[str, Any]) -> bool:
    """The decision (as JSON) is of the definition's type, agent (for agent scope), and meets every condition."""
    if decision.get("type") != definition.decision_type:
        return False
    if definition.scope == "agent" and decision.get("agent_id") != definition.agent_id:
        return False
    return all(holds(condition, decision) for condition in definition.conditions)


def is_hit(definition: PatternDefinitionIn, decision: dict[str, Any]) -> bool | None:
    """True or False once the outcome is known; None while it is pending."""
    outcome = decision.get("outcome")
    if not outcome:
        return None
    if definition.hit.outcome is not None:
        return outcome.get("status") == definition.hit.outcome
    return holds(definition.hit.metric, decision)
