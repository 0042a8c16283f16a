"""Decision records: what an agent sends (DecisionIn, OutcomeIn) and what is stored (Decision).

Validation is strict at this edge: unknown fields are refused, and every error names its field.
"""

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, computed_field, field_validator
from ulid import ULID

from memsite.storage.codec import encode_value
from memsite.timestamps import Timestamp

DECISION_TYPES = ("SOURCE_SELECTION", "QUERY_EXECUTION", "SIGNAL_GENERATION", "RISK_ASSESSMENT", "TRADE_EXECUTION")
TYPE_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]{1,63}$")
OUTCOME_STATUSES = ("SUCCESS", "FAILURE")
PENDING = "PENDING"
RETENTION = timedelta(days=90)
# A decision's clock may run a little ahead of ours; far-future timestamps would sort above
# everything in every timeline, so they are refused.
MAX_CLOCK_SKEW = timedelta(minutes=5)
MAX_DECISION_BYTES = 64 * 1024
# An outcome report, and the decision with every correction kept in its history: well under
# DynamoDB's 400 KB item limit, so a refusal is ours, with a reason, never DynamoDB's.
MAX_OUTCOME_BYTES = 16 * 1024
MAX_STORED_DECISION_BYTES = 300 * 1024


def decision_type_check(value: str) -> str:
    if not TYPE_PATTERN.match(value):
        raise ValueError("type must be an upper-case decision type such as TRADE_EXECUTION")
    return value


DecisionType = Annotated[str, AfterValidator(decision_type_check)]


def ulid_validate(value: str, field: str = "decision_id") -> str:
    """The canonical (upper-case) form of a ULID; ValueError if `value` is not one."""
    try:
        ulid = ULID.from_str(value.upper())
        ulid.datetime  # noqa: B018 - the last ULIDs encode times past year 9999, which nothing can use
    except (ValueError, TypeError, AttributeError, OverflowError):
        raise ValueError(f"{field} must be a ULID (26 characters, Crockford base32, a time before 9999)") from None
    return str(ulid)


def to_millis(moment: datetime) -> datetime:
    """Decisions keep millisecond timestamps (as stored); a retry that sends back what it read
    must be the same decision."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def timestamp_check(value: datetime) -> datetime:
    """UTC, milliseconds, not in the future, not older than the 90 days decisions are kept."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # documented: a timestamp without a zone is UTC
    now = datetime.now(UTC)
    if value > now + MAX_CLOCK_SKEW:
        raise ValueError("timestamp is in the future")
    if value < now - RETENTION:
        raise ValueError("timestamp is older than the 90 days decisions are kept")
    return to_millis(value.astimezone(UTC))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Links(_Strict):
    consumed_signals: list[str] = Field(default_factory=list, max_length=100)
    produced_signals: list[str] = Field(default_factory=list, max_length=100)
    parent_decision_id: str | None = None

    @field_validator("parent_decision_id")
    @classmethod
    def _parent_is_ulid(cls, value: str | None) -> str | None:
        return None if value is None else ulid_validate(value, "parent_decision_id")


class OutcomeIn(_Strict):
    status: Literal["SUCCESS", "FAILURE"]
    metrics: dict[str, Any] = Field(default_factory=dict)
    quality_score: float | None = Field(default=None, ge=0, le=1, allow_inf_nan=False)
    note: str | None = Field(default=None, max_length=2000)


class Outcome(OutcomeIn):
    reported_at: Timestamp
    reported_by: str

    def same_report(self, other: OutcomeIn) -> bool:
        """Compared as stored: a number reads back as DynamoDB keeps it (1e40 as the integer
        10**40), and a retry of the same report must still be the same report."""
        mine = self.model_dump(include=set(OutcomeIn.model_fields))
        return encode_value(mine, "outcome") == encode_value(other.model_dump(), "outcome")


class OutcomeChange(BaseModel):
    """A previous outcome, kept when a later report corrected it."""

    previous: Outcome | None = None
    replaced_at: Timestamp
    replaced_by: str


class DecisionIn(_Strict):
    decision_id: str | None = None
    agent_id: str = Field(min_length=1, max_length=64)
    type: str
    timestamp: Timestamp | None = None
    cycle: int | None = Field(default=None, ge=0)
    context: dict[str, Any] = Field(default_factory=dict)
    reasoning: dict[str, Any] = Field(default_factory=dict)
    outcome: OutcomeIn | None = None
    # null means no links, as null means no outcome: clients that write None for "absent" work.
    links: Links | None = None

    @field_validator("decision_id")
    @classmethod
    def _id_is_ulid(cls, value: str | None) -> str | None:
        return None if value is None else ulid_validate(value)

    @field_validator("type")
    @classmethod
    def _type_is_upper_case(cls, value: str) -> str:
        if not TYPE_PATTERN.match(value):
            raise ValueError("type must be an upper-case name such as " + ", ".join(DECISION_TYPES) + " (A-Z, 0-9, _)")
        return value

    @field_validator("timestamp")
    @classmethod
    def _timestamp_is_recent(cls, value: datetime | None) -> datetime | None:
        return None if value is None else timestamp_check(value)


class Decision(BaseModel):
    """A stored decision."""

    decision_id: str
    agent_id: str
    type: str
    timestamp: Timestamp
    cycle: int | None = None
    context: dict[str, Any] = Field(default_factory=dict)
    reasoning: dict[str, Any] = Field(default_factory=dict)
    outcome: Outcome | None = None
    links: Links = Field(default_factory=Links)
    recorded_at: Timestamp
    version: int = 1
    outcome_history: list[OutcomeChange] = Field(default_factory=list)

    @computed_field
    @property
    def outcome_status(self) -> Literal["SUCCESS", "FAILURE", "PENDING"]:
        return self.outcome.status if self.outcome else PENDING


BatchStatus = Literal["created", "exists", "conflict", "invalid"]


class BatchResult(BaseModel):
    decision_id: str | None
    status: BatchStatus
    detail: str = ""
