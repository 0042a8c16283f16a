"""Reads of long-term memory: learned patterns, their versions, strategies, calibration and the
consolidation runs."""

from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agents.schemas import AGENT_ID_PATTERN, AgentId
from agents.selectors import agent_ids_known
from memsite.errors import DoesNotExist, ValidationFailed
from patterns import memory_repository as repo
from patterns import repository as definition_repository
from patterns.memory_schemas import (
    SHARED,
    CalibrationBin,
    ConsolidationRun,
    PatternState,
    PatternVersion,
    Status,
    Strategy,
)
from patterns.schemas import PATTERN_ID, PatternDefinition
from patterns.strategies import strategy_view


class PatternSummary(PatternState):
    """A learned pattern with what its definition says it is."""

    name: str
    decision_type: str
    activate_at: float
    min_support: int
    definition_scope: Literal["shared", "agent"]


class PatternQuery(BaseModel):
    """`agent`: that agent's patterns; `shared`: the ones learned across all agents. Neither: an
    agent reads its own and the shared ones, a person every agent's and the shared ones."""

    model_config = ConfigDict(extra="forbid")

    agent: AgentId | None = None
    shared: bool | None = None
    min_confidence: float | None = Field(default=None, ge=0, le=1, allow_inf_nan=False)
    status: Status | None = None

    @classmethod
    def from_params(cls, params: dict[str, str]) -> "PatternQuery":
        try:
            return cls.model_validate({k: v for k, v in params.items() if v not in ("", None) and k != "format"})
        except ValidationError as error:
            fields = {
                ".".join(map(str, e["loc"])) or "query": e["msg"].removeprefix("Value error, ") for e in error.errors()
            }
            name, message = next(iter(fields.items()))
            raise ValidationFailed(f"{name}: {message}", fields=fields) from None


def _scopes(query: PatternQuery, caller_agent: str | None) -> list[str | None]:
    """The agent ids to read (None: the shared scope)."""
    if query.agent is not None:
        return [query.agent, None] if query.shared else [query.agent]
    if query.shared:
        return [None]
    agents = [caller_agent] if caller_agent else agent_ids_known()
    return agents if query.shared is False else [None, *agents]


def _summary(state: PatternState, definition: PatternDefinition) -> PatternSummary:
    return PatternSummary(
        **state.model_dump(),
        name=definition.name,
        decision_type=definition.decision_type,
        activate_at=definition.activate_at,
        min_support=definition.min_support,
        definition_scope=definition.scope,
    )


def pattern_list(*, query: PatternQuery, caller_agent: str | None = None) -> list[PatternSummary]:
    """Learned patterns, highest confidence first: one index Query per scope read."""
    definitions = {d.id: d for d in definition_repository.definitions_list()}
    found = []
    for agent_id in _scopes(query, caller_agent):
        for state in repo.states_ranked(agent_id=agent_id, min_confidence=query.min_confidence, status=query.status):
            if (definition := definitions.get(state.pattern_id)) is not None:  # deleted definitions are gone
                found.append(_summary(state, definition))
    return sorted(found, key=lambda p: (-p.confidence, p.pattern_id, p.agent_id or ""))


class PatternDetail(BaseModel):
    definition: PatternDefinition
    states: list[PatternSummary] = Field(description="the shared state first, then each agent's")


def pattern_detail(*, pattern_id: str) -> PatternDetail:
    definition = definition_repository.definition_find(pattern_id) if PATTERN_ID.match(pattern_id) else None
    if definition is None:
        raise DoesNotExist(f"no pattern {pattern_id[:70]!r}")
    scopes = [definition.agent_id] if definition.scope == "agent" else [SHARED, *agent_ids_known()]
    states = [_summary(s, definition) for s in repo.states_of_pattern(pattern_id, scopes)]
    states.sort(key=lambda s: (s.agent_id is not None, s.agent_id or ""))
    return PatternDetail(definition=definition, states=states)


def pattern_versions(*, pattern_id: str, agent_id: str | None) -> list[PatternVersion]:
    if not PATTERN_ID.match(pattern_id) or definition_repository.definition_find(pattern_id) is None:
        raise DoesNotExist(f"no pattern {pattern_id[:70]!r}")
    if agent_id is not None and not AGENT_ID_PATTERN.match(agent_id):
        raise ValidationFailed("agent: not an agent id", fields={"agent": "not an agent id"})
    return repo.versions_list(pattern_id, repo.scope_of(agent_id))


def calibration(patterns: list[PatternSummary]) -> list[CalibrationBin]:
    """Predicted confidence (in tenths) against the hit rate later outcomes realised, over the
    given patterns. Each decision counts once: an agent's copy of a shared pattern is left out
    when the shared one is in the list."""
    shared_ids = {p.pattern_id for p in patterns if p.agent_id is None}
    totals: dict[float, list[int]] = {}
    for pattern in patterns:
        if pattern.agent_id is not None and pattern.pattern_id in shared_ids:
            continue
        for b in pattern.calibration:
            total = totals.setdefault(round(b.low, 1), [0, 0])
            total[0], total[1] = total[0] + b.decisions, total[1] + b.hits
    return [CalibrationBin(low=low, decisions=n, hits=h) for low, (n, h) in sorted(totals.items())]


def strategy_list(*, agent_id: str | None = None) -> list[Strategy]:
    if agent_id is not None and not AGENT_ID_PATTERN.match(agent_id):
        raise ValidationFailed("agent: not an agent id", fields={"agent": "not an agent id"})
    agents = [agent_id] if agent_id else agent_ids_known()
    return [strategy_view(s) for agent in agents for s in repo.strategies_of(agent)]


def run_list(*, limit: int = 50) -> list[ConsolidationRun]:
    """The latest runs, newest first (today's and yesterday's records)."""
    today = datetime.now(UTC)
    return repo.runs_recent([f"{today:%Y-%m-%d}", f"{today - timedelta(days=1):%Y-%m-%d}"], limit=limit)
