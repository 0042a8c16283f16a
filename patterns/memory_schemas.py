"""Long-term memory as agents and pages read it: learned pattern states and their versions,
strategies, and the record of each consolidation run."""

from typing import Literal

from pydantic import BaseModel, Field, computed_field

from memsite.timestamps import Timestamp

SHARED = "*"  # the scope of what is learned from every agent's decisions together
Status = Literal["candidate", "active", "retired", "pinned", "suspended"]
Override = Literal["pinned", "suspended"]


class Transition(BaseModel):
    at: Timestamp
    status: Status
    previous: Status | None = None
    by: str
    reason: str = ""


class CalibrationBin(BaseModel):
    """Decisions counted while the pattern's confidence stood in [low, low + 0.1)."""

    low: float
    decisions: int
    hits: int


class PatternState(BaseModel):
    """One pattern learned for one agent, or for all agents together (`agent_id` null)."""

    pattern_id: str
    agent_id: str | None = Field(description="null for the pattern learned across all agents")
    status: Status = Field(description="the operator's pin or suspension if any, else the learned status")
    learned_status: Status
    override: Override | None = None
    confidence: float = Field(description="Beta posterior mean of the decayed hit and miss counts")
    low: float = Field(description="90% credible interval, lower bound")
    high: float = Field(description="90% credible interval, upper bound")
    support: int = Field(description="decisions counted (undecayed)")
    hits: float = Field(description="decayed hit count as of as_of")
    misses: float = Field(description="decayed miss count as of as_of")
    as_of: Timestamp | None = Field(description="the latest decision time counted")
    updated_at: Timestamp
    version: int
    sample_hits: list[str] = Field(default_factory=list, description="recent supporting hit decision ids")
    sample_misses: list[str] = Field(default_factory=list, description="recent miss decision ids")
    calibration: list[CalibrationBin] = Field(default_factory=list)
    history: list[Transition] = Field(default_factory=list)


class PatternVersion(BaseModel):
    """A snapshot written by each consolidation run that changed the pattern."""

    pattern_id: str
    agent_id: str | None
    version: int
    at: Timestamp
    status: Status
    confidence: float
    low: float
    high: float
    support: int
    hits: float
    misses: float
    sample_hits: list[str] = Field(default_factory=list)
    sample_misses: list[str] = Field(default_factory=list)


class ActionStats(BaseModel):
    action: str
    decisions: int
    successes: int
    failures: int
    rate: float = Field(description="Beta posterior mean of the success rate")
    low: float
    high: float


class Strategy(BaseModel):
    """For one agent, decision type and context bucket: how each action has fared."""

    agent_id: str
    decision_type: str
    bucket: str
    best_action: str | None = Field(description="the action with the highest lower bound, once one has any support")
    actions: list[ActionStats]
    updated_at: Timestamp


class ConsolidationRun(BaseModel):
    run_id: str
    agent_id: str
    trigger: str
    started_at: Timestamp
    finished_at: Timestamp | None = None
    status: Literal["running", "succeeded", "failed", "skipped", "interrupted"]
    decisions_read: int = 0
    decisions_counted: int = 0
    decisions_released: int = 0
    patterns_changed: int = 0
    error: str = ""

    @computed_field
    @property
    def duration_seconds(self) -> float | None:
        return (self.finished_at - self.started_at).total_seconds() if self.finished_at else None
