"""What memclient sends to the API and what it reads back, as pydantic models.

Request models are strict (`extra="forbid"`) so a typo fails in the agent, at the call, and not
later in the background sender. Response models ignore unknown fields so an older client keeps
working when the server adds some. tests/memclient/test_openapi_drift.py checks both kinds
against the server's OpenAPI schema, so the two cannot drift apart unnoticed.
"""

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

OutcomeStatus = Literal["SUCCESS", "FAILURE"]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def to_json(self) -> dict[str, Any]:
        """The body as sent: optional fields left out rather than sent as null, so the server
        applies its own defaults."""
        return self.model_dump(mode="json", exclude_none=True)


class _Response(BaseModel):
    model_config = ConfigDict(extra="ignore")


# Requests.


class OutcomeIn(_Request):
    status: OutcomeStatus
    metrics: dict[str, Any] = Field(default_factory=dict)
    quality_score: float | None = Field(default=None, ge=0, le=1, allow_inf_nan=False)
    note: str | None = Field(default=None, max_length=2000)


class LinksIn(_Request):
    consumed_signals: list[str] = Field(default_factory=list, max_length=100)
    produced_signals: list[str] = Field(default_factory=list, max_length=100)
    parent_decision_id: str | None = None


class DecisionIn(_Request):
    decision_id: str
    agent_id: str = Field(min_length=1, max_length=64)
    type: str = Field(pattern=r"^[A-Z][A-Z0-9_]{1,63}$")
    # Left out when None: the server then takes the time inside decision_id, so a replay lands on
    # the same record.
    timestamp: AwareDatetime | None = None
    cycle: int | None = Field(default=None, ge=0)
    context: dict[str, Any] = Field(default_factory=dict)
    reasoning: dict[str, Any] = Field(default_factory=dict)
    outcome: OutcomeIn | None = None
    links: LinksIn | None = None


class SignalIn(_Request):
    type: str = Field(pattern=r"^[A-Z][A-Z0-9_]{1,63}$")
    confidence: float = Field(ge=0, le=1, allow_inf_nan=False)
    payload: dict[str, Any] = Field(default_factory=dict)
    target_agents: list[str] = Field(min_length=1, max_length=50)
    ttl_seconds: int | None = Field(default=None, ge=1, le=86400)
    signal_id: str
    decision_id: str | None = None


class AckIn(_Request):
    signal_ids: list[str] = Field(min_length=1, max_length=100)


class MemoryIn(_Request):
    value: Any
    ttl_seconds: int = Field(default=86400, ge=1, le=86400)


class ConsumeIn(_Request):
    cost: int = Field(default=1, ge=1)
    limit: int = Field(ge=1)
    window_seconds: int = Field(ge=1, le=86400)


class HeartbeatIn(_Request):
    interval_seconds: int | None = Field(default=None, ge=1, le=86400)
    status: str | None = Field(default=None, max_length=200)
    spool_pending: int | None = Field(default=None, ge=0)


class SimilarIn(_Request):
    context: dict[str, Any]
    type: str | None = None
    limit: int = Field(default=10, ge=1, le=50)


# Responses.


class BatchResult(_Response):
    decision_id: str | None
    status: Literal["created", "exists", "conflict", "invalid"]
    detail: str = ""


class BatchOut(_Response):
    results: list[BatchResult]


class Signal(_Response):
    """A signal, as published (with target_agents) or as read from an inbox (with delivered_at)."""

    signal_id: str
    type: str
    source_agent: str
    confidence: float
    payload: dict[str, Any] = Field(default_factory=dict)
    target_agents: list[str] = Field(default_factory=list)
    decision_id: str | None = None
    created_at: datetime
    expires_at: datetime
    delivered_at: datetime | None = None


class InboxPage(_Response):
    results: list[Signal]
    next_cursor: str | None = None


class AckResult(_Response):
    signal_id: str
    status: str


class AckOut(_Response):
    results: list[AckResult]


class MemoryEntry(_Response):
    key: str
    value: Any
    expires_at: datetime
    updated_at: datetime


class RateLimit(_Response):
    """The answer of consume: allowed or not, with what is left of the window and when it resets."""

    allowed: bool
    remaining: int
    reset_at: datetime
    limit: int
    used: int


class Config(_Response):
    agent_id: str
    version: int
    document: dict[str, Any]
    author: str
    created_at: datetime
    note: str = ""


class Pattern(_Response):
    """A learned pattern: confidence is a Beta posterior mean, low/high its 90% credible interval."""

    pattern_id: str
    agent_id: str | None
    name: str
    decision_type: str
    status: str
    confidence: float
    low: float
    high: float
    support: int
    hits: float = 0.0
    misses: float = 0.0
    as_of: datetime | None = None
    activate_at: float | None = None
    min_support: int | None = None
    sample_hits: list[str] = Field(default_factory=list)
    sample_misses: list[str] = Field(default_factory=list)


class PatternList(_Response):
    results: list[Pattern]


class OutcomeStats(_Response):
    decisions: int
    successes: int
    failures: int
    pending: int
    success_rate: float
    low: float
    high: float


class Archetype(_Response):
    number: int
    label: str
    typical: dict[str, float] = Field(default_factory=dict)
    stats: OutcomeStats
    examples: list[str] = Field(default_factory=list)
    distance: float | None = None


class Outcome(_Response):
    status: OutcomeStatus
    metrics: dict[str, Any] = Field(default_factory=dict)
    quality_score: float | None = None
    note: str | None = None
    reported_at: datetime | None = None
    reported_by: str | None = None


class SimilarDecision(_Response):
    decision_id: str
    agent_id: str
    type: str
    timestamp: datetime
    distance: float
    archetype: int | None = None
    outcome_status: Literal["SUCCESS", "FAILURE", "PENDING"]
    outcome: Outcome | None = None
    context: dict[str, Any] = Field(default_factory=dict)
    reasoning: dict[str, Any] = Field(default_factory=dict)


class SimilarSituations(_Response):
    """The nearest archetype (None before the first model is built: `detail` says why) and the
    nearest past decisions, nearest first."""

    archetype: Archetype | None
    results: list[SimilarDecision]
    detail: str = ""
    model_id: str | None = None
    built_at: datetime | None = None
    features_used: list[str] = Field(default_factory=list)


class Heartbeat(_Response):
    at: datetime
    interval_seconds: int | None = None
    status: str | None = None


class StateSlot(_Response):
    agent_id: str
    slot: str
    state: dict[str, Any]
    updated_at: datetime
    updated_by: str
    version: int = 1
