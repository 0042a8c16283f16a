"""Archetype records: the stored model (its feature space), each archetype with its outcome
statistics and a sample of member decisions, and what a similar-situations query returns."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from agents.schemas import AgentId
from decisions.schemas import DecisionType, Outcome
from memsite.timestamps import Timestamp
from patterns.archetypes import FeatureSpace, Kind

MAX_SIMILAR = 50
OutcomeStatus = Literal["SUCCESS", "FAILURE", "PENDING"]


class ArchetypeModel(BaseModel):
    """One fit over the decision log: the feature space every vector of the model lives in."""

    model_id: str
    built_at: Timestamp
    window_days: int
    rows: int = Field(description="decisions clustered")
    k: int = Field(description="number of archetypes")
    silhouette: float | None = Field(description="cluster separation, -1..1; null with one archetype")
    features: list[str]
    kinds: list[Kind]
    means: list[float]
    scales: list[float]

    def space(self) -> FeatureSpace:
        return FeatureSpace(names=self.features, kinds=self.kinds, means=self.means, scales=self.scales)


class OutcomeStats(BaseModel):
    """Outcomes of an archetype's decisions when the model was built. success_rate is the mean of
    Beta(1 + successes, 1 + failures), with its 90% credible interval."""

    decisions: int
    successes: int
    failures: int
    pending: int
    success_rate: float
    low: float
    high: float


class Member(BaseModel):
    """A decision in an archetype's sample, with its scaled context vector."""

    decision_id: str
    agent_id: str
    type: str
    timestamp: Timestamp
    key: dict[str, str] = Field(description="the decision's item key {pk, sk}")
    vector: list[float]
    outcome_status: OutcomeStatus


class Archetype(BaseModel):
    model_id: str
    number: int = Field(description="0 is the largest archetype")
    label: str
    centroid: list[float] = Field(description="in the model's scaled space")
    typical: dict[str, float] = Field(description="the centroid in the features' own units")
    stats: OutcomeStats
    members: list[Member]


class SimilarIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    context: dict[str, Any]
    type: DecisionType | None = None
    agent_id: AgentId | None = None
    limit: int = Field(default=10, ge=1, le=MAX_SIMILAR)


class ArchetypeOut(BaseModel):
    number: int
    label: str
    typical: dict[str, float]
    stats: OutcomeStats
    examples: list[str] = Field(default_factory=list, description="ids of a few recent member decisions")
    distance: float | None = Field(default=None, description="from the given context, in the scaled space")


class SimilarDecision(BaseModel):
    """A past decision near the given context, with its outcome as it stands now."""

    decision_id: str
    agent_id: str
    type: str
    timestamp: Timestamp
    distance: float
    archetype: int
    outcome_status: OutcomeStatus
    outcome: Outcome | None
    context: dict[str, Any]
    reasoning: dict[str, Any]


class SimilarSituations(BaseModel):
    archetype: ArchetypeOut | None
    results: list[SimilarDecision]
    detail: str
    model_id: str | None = None
    built_at: Timestamp | None = None
    features_used: list[str] = Field(
        default_factory=list, description="the model's features the given context has; the others count as average"
    )


class ArchetypeList(BaseModel):
    results: list[ArchetypeOut]
    detail: str
    model_id: str | None = None
    built_at: Timestamp | None = None
