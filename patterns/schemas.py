"""Pattern definitions: which decisions a pattern covers and what counts as a hit.

A definition is data, so the user can hand over their own patterns as one YAML file. Conditions
read dotted paths of a decision: `context.*`, `reasoning.*`, `links.*`; a hit is an outcome of
SUCCESS or a condition on `outcome.metrics.*`.
"""

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from agents.schemas import AGENT_ID_PATTERN
from decisions.schemas import TYPE_PATTERN
from memsite.timestamps import Timestamp

Op = Literal["eq", "ne", "gt", "gte", "lt", "lte", "in", "exists"]
PATTERN_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
RESERVED_IDS = frozenset({"definitions", "strategies", "archetypes", "new"})  # page paths under /patterns/
PATH = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")
COVER_ROOTS = ("context.", "reasoning.", "links.")
METRIC_ROOT = "outcome.metrics."


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Condition(_Strict):
    path: str = Field(description="dotted path into the decision, e.g. context.whale_activity")
    op: Op
    value: Any = None

    @field_validator("path")
    @classmethod
    def _dotted(cls, path: str) -> str:
        if not PATH.match(path):
            raise ValueError("a dotted path of names, e.g. context.market.regime")
        return path

    @model_validator(mode="after")
    def _value_fits_op(self) -> "Condition":
        if self.op == "in" and not isinstance(self.value, list):
            raise ValueError(f"{self.path}: 'in' needs a list value")
        if self.op in ("gt", "gte", "lt", "lte") and (
            isinstance(self.value, bool) or not isinstance(self.value, (int, float))
        ):
            raise ValueError(f"{self.path}: '{self.op}' needs a number value")
        if self.op == "exists" and self.value is None:
            self.value = True
        if self.op == "exists" and not isinstance(self.value, bool):
            raise ValueError(f"{self.path}: 'exists' takes true or false")
        return self


class HitRule(_Strict):
    """What counts as a hit: the outcome SUCCESS, or a condition on outcome.metrics."""

    outcome: Literal["SUCCESS"] | None = None
    metric: Condition | None = None

    @model_validator(mode="after")
    def _one_rule(self) -> "HitRule":
        if (self.outcome is None) == (self.metric is None):
            raise ValueError("give exactly one of outcome: SUCCESS or metric: {path, op, value}")
        if self.metric is not None and not self.metric.path.startswith(METRIC_ROOT):
            raise ValueError(f"metric.path must start with {METRIC_ROOT}")
        return self


class PatternDefinitionIn(_Strict):
    id: str
    name: str = Field(min_length=1, max_length=120)
    description: str = Field(default="", max_length=2000)
    decision_type: str
    conditions: list[Condition] = Field(default_factory=list, max_length=20)
    hit: HitRule = Field(default_factory=lambda: HitRule(outcome="SUCCESS"))
    half_life_days: float = Field(default=30, gt=0, le=3650, allow_inf_nan=False)
    min_support: int = Field(default=20, ge=1, le=1_000_000)
    activate_at: float = Field(default=0.6, ge=0, le=1, allow_inf_nan=False)
    scope: Literal["shared", "agent"] = "shared"
    agent_id: str | None = None

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not PATTERN_ID.match(value):
            raise ValueError("1-64 characters: lower-case letters, digits, '-' or '_'")
        if value in RESERVED_IDS:
            raise ValueError(f"{value!r} is reserved (a page of its own); choose another id")
        return value

    @field_validator("decision_type")
    @classmethod
    def _type_shape(cls, value: str) -> str:
        if not TYPE_PATTERN.match(value):
            raise ValueError("an upper-case decision type such as SIGNAL_GENERATION")
        return value

    @field_validator("conditions")
    @classmethod
    def _cover_roots(cls, conditions: list[Condition]) -> list[Condition]:
        for condition in conditions:
            if not condition.path.startswith(COVER_ROOTS):
                raise ValueError(f"{condition.path}: conditions read context., reasoning. or links.")
        return conditions

    @model_validator(mode="after")
    def _scope_needs_agent(self) -> "PatternDefinitionIn":
        if self.scope == "agent" and (self.agent_id is None or not AGENT_ID_PATTERN.match(self.agent_id)):
            raise ValueError("scope agent needs agent_id, the agent the pattern is learned for")
        if self.scope == "shared" and self.agent_id is not None:
            raise ValueError("agent_id is only for scope agent")
        return self


class PatternDefinition(PatternDefinitionIn):
    """A stored definition, with its edit version and who changed it last."""

    version: int
    updated_at: Timestamp
    updated_by: str
