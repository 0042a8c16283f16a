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
    decisions_released: int = 0  # always 0: decisions no longer leave an index once counted
    patterns_changed: int = 0
    error: str = ""

    @computed_field
    @property
    def duration_seconds(self) -> float | None:
        return (self.finished_at - self.started_at).total_seconds() if self.finished_at else None


# What consolidation stores for itself: typed, never positional lists.


class Contribution(BaseModel):
    """What one decision added to one pattern state: a hit or a miss, in a calibration bin."""

    hit: int
    bin: int


class StrategyContribution(BaseModel):
    key: str  # {decision type}#{bucket}
    action: str
    success: int


class Counted(BaseModel):
    """One decision version as a batch counted it; `previous` is what an earlier batch counted
    for an earlier version of it, taken back by this one (a corrected outcome)."""

    decision_id: str
    stamp: str  # the decision's timestamp, as stored
    version: int
    position: str  # where its outcome arrived in the learn index: {reported_at}#{decision_id}
    contributions: dict[str, Contribution] = Field(default_factory=dict)  # "{scope}/{pattern id}" ->
    strategy: StrategyContribution | None = None
    previous: "Counted | None" = None


class Batch(BaseModel):
    """A page of outcome arrivals, planned in full and stored before anything is counted, so a
    crash anywhere is finished by the next run with exactly the same counts. Kept as the ledger
    a later correction reads to take back what was counted."""

    number: int = 0
    entries: list[Counted]

    @property
    def last_position(self) -> str:
        return max(entry.position for entry in self.entries)

    def deltas(self) -> dict[str, list[tuple[str, str, int, int, int]]]:
        """Per state key: (decision id, stamp, hit, +1 or -1, calibration bin), in order."""
        out: dict[str, list[tuple[str, str, int, int, int]]] = {}
        for entry in self.entries:
            if entry.previous is not None:
                for key, c in entry.previous.contributions.items():
                    out.setdefault(key, []).append((entry.decision_id, entry.previous.stamp, c.hit, -1, c.bin))
            for key, c in entry.contributions.items():
                out.setdefault(key, []).append((entry.decision_id, entry.stamp, c.hit, 1, c.bin))
        return out

    def strategy_deltas(self) -> dict[str, list[tuple[str, int, int]]]:
        """Per strategy key: (action, success, +1 or -1)."""
        out: dict[str, list[tuple[str, int, int]]] = {}
        for entry in self.entries:
            if entry.previous is not None and (old := entry.previous.strategy) is not None:
                out.setdefault(old.key, []).append((old.action, old.success, -1))
            if (new := entry.strategy) is not None:
                out.setdefault(new.key, []).append((new.action, new.success, 1))
        return out


class Control(BaseModel):
    """The agent's consolidation control item: its lease, batch numbers and watermark."""

    lease_owner: str | None = None
    lease_until: str | None = None
    lease_run: dict[str, str] | None = None
    batch_seq: int = 0  # the last batch numbered
    closed_seq: int = 0  # the last batch fully applied; batch_seq > closed_seq: one is open
    watermark: str | None = None  # the last learn-index position counted
    version: int = 0
