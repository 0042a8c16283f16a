"""Reads of the decision log: one decision, filtered pages, and the hourly rollups for charts.
Every read is a GetItem or a Query on a key or index; none reads every decision."""

import base64
import binascii
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from decisions import repository
from decisions.schemas import RETENTION, Decision, DecisionType, ulid_validate
from memsite import storage
from memsite.errors import DoesNotExist, ValidationFailed
from memsite.storage.codec import format_timestamp, parse_timestamp

MAX_PAGE = 500
DEFAULT_WINDOW = timedelta(days=7)


def decision_get(*, decision_id: str) -> Decision:
    try:
        decision_id = ulid_validate(decision_id)
    except ValueError:
        raise DoesNotExist(f"no decision {decision_id[:40]!r}: a decision id is a ULID") from None
    key = repository.key_find(decision_id)
    decision = repository.decision_find(key) if key else None
    if decision is None:
        raise DoesNotExist(f"no decision {decision_id}")
    return decision


class DecisionFilter(BaseModel):
    """The filters of the list API and the timeline page. Without `since`, the last 7 days."""

    model_config = ConfigDict(extra="forbid")

    agent: str | None = Field(default=None, max_length=64)
    type: DecisionType | None = None
    outcome: Literal["SUCCESS", "FAILURE", "PENDING"] | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = Field(default=50, ge=1, le=MAX_PAGE)
    cursor: str | None = None

    @field_validator("since", "until")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        try:
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        except OverflowError:
            raise ValueError("is out of range") from None

    @model_validator(mode="after")
    def _window(self) -> "DecisionFilter":
        if self.cursor:
            # A next page keeps the window of the first, even when it was the default "until now".
            window = _cursor_window(self.cursor)
            self.since, self.until = self.since or window["since"], self.until or window["until"]
        self.until = self.until or datetime.now(UTC)
        try:
            self.since = self.since or self.until - DEFAULT_WINDOW
            self.since = max(self.since, self.until - RETENTION - timedelta(days=1))
        except OverflowError:
            raise ValueError("until is too far in the past") from None
        if self.since > self.until:
            raise ValueError("since must be before until")
        return self

    @classmethod
    def from_params(cls, params: dict[str, str]) -> "DecisionFilter":
        try:
            return cls.model_validate({k: v for k, v in params.items() if v not in ("", None)})
        except ValidationError as error:
            fields = {_field_of(e): e["msg"].removeprefix("Value error, ") for e in error.errors()}
            name, message = next(iter(fields.items()))
            raise ValidationFailed(f"{name}: {message}", fields=fields) from None

    def days(self) -> list[str]:
        """The day buckets of the window, newest first."""
        day, first = self.until.astimezone(UTC).date(), self.since.astimezone(UTC).date()
        days = []
        while day >= first:
            days.append(day.isoformat())
            day -= timedelta(days=1)
        return days


def _field_of(error: Any) -> str:
    """The parameter an error is about; a check across parameters names the one it starts with."""
    if error["loc"]:
        return ".".join(map(str, error["loc"]))
    first_word = error["msg"].removeprefix("Value error, ").split(" ", 1)[0]
    return first_word if first_word in DecisionFilter.model_fields else "query"


def decision_list(*, filters: DecisionFilter) -> tuple[list[Decision], str | None]:
    """A page of decisions, newest first, and the cursor of the next page (None at the end)."""
    sort = storage.SortCondition.between(format_timestamp(filters.since), format_timestamp(filters.until) + "#~")
    where = {"outcome_status": filters.outcome} if filters.outcome else None
    if filters.agent and filters.type:
        partitions, index = [f"agent:{filters.agent}#decision#{filters.type}"], None
    elif filters.agent:
        partitions, index = [f"agent:{filters.agent}"], "agent_time"
    else:
        # Every agent: the day index, keys only; a type or outcome is then a filter on the items.
        partitions, index = [f"day#{day}" for day in filters.days()], "day_time"
        where = where or {}
        if filters.type:
            where["type"] = filters.type
        where = where or None
    storage_cursor = _cursor_window(filters.cursor)["position"] if filters.cursor else None
    decisions, next_position = repository.decisions_query(
        partitions, index=index, sort=sort, limit=filters.limit, cursor=storage_cursor, where=where
    )
    return decisions, _cursor_wrap(filters, next_position) if next_position else None


def _cursor_wrap(filters: DecisionFilter, position: str) -> str:
    """The API cursor: the storage cursor (signed, bound to the query) plus the window it was
    made for. Altering the window makes the storage cursor's fingerprint check fail."""
    state = {"since": format_timestamp(filters.since), "until": format_timestamp(filters.until), "position": position}
    return _cursor_text(state)


def _cursor_text(state: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")


def _cursor_window(cursor: str) -> dict:
    try:
        state = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if _cursor_text(state) != cursor:
            # This envelope is not signed (its position is): base64 and JSON would let other
            # spellings of it through, so only the exact text it was handed out as is accepted.
            raise ValueError("not as it was returned")
        window = {name: parse_timestamp(state[name]) for name in ("since", "until")}
        if any(moment.tzinfo is None for moment in window.values()):
            raise ValueError("naive time")
        return window | {"position": str(state["position"])}
    except (ValueError, TypeError, KeyError, UnicodeDecodeError, binascii.Error, RecursionError):
        raise ValueError("cursor is not valid: pass next_cursor exactly as it was returned") from None


def decision_iter(*, filters: DecisionFilter) -> Iterator[Decision]:
    """Every decision matching the filters, page after page (exports stream this)."""
    filters = filters.model_copy(update={"limit": MAX_PAGE, "cursor": None})
    while True:
        decisions, cursor = decision_list(filters=filters)
        yield from decisions
        if cursor is None:
            return
        filters = filters.model_copy(update={"cursor": cursor})


@dataclass
class HourlyCounts:
    """Decisions per hour from the rollups: totals by type and by outcome, per agent."""

    hours: list[str]
    by_type: dict[str, list[int]] = field(default_factory=dict)
    by_agent_outcome: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    agents: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(sum(counts) for counts in self.by_type.values())

    @property
    def reported(self) -> int:
        """Decisions whose outcome (SUCCESS or FAILURE) is in, by the hour they were made."""
        return sum(
            sum(outcomes.get(status, []))
            for outcomes in self.by_agent_outcome.values()
            for status in ("SUCCESS", "FAILURE")
        )


def decision_counts_hourly(*, since: datetime, until: datetime) -> HourlyCounts:
    """Per-hour counts over [since, until], read from one rollup partition per day."""
    since, until = since.astimezone(UTC), until.astimezone(UTC)
    hours = _hours(since, until)
    position = {hour: i for i, hour in enumerate(hours)}
    counts = HourlyCounts(hours=hours)
    for day in sorted({hour[:10] for hour in hours}):
        first = since.strftime("%H") if day == since.strftime("%Y-%m-%d") else "00"
        last = until.strftime("%H") if day == until.strftime("%Y-%m-%d") else "23"
        for row in repository.rollup_rows(day, first, last):
            _add_row(counts, row, position[row["hour"]])
    counts.agents = sorted(counts.by_agent_outcome)
    return counts


def _hours(since: datetime, until: datetime) -> list[str]:
    hour = since.replace(minute=0, second=0, microsecond=0)
    hours = []
    while hour <= until:
        hours.append(f"{hour:%Y-%m-%dT%H}")
        hour += timedelta(hours=1)
    return hours


def _add_row(counts: HourlyCounts, row: dict, i: int) -> None:
    size = len(counts.hours)
    for name, value in row.items():
        if name.startswith("t_"):
            counts.by_type.setdefault(name[2:], [0] * size)[i] += value
        elif name.startswith("o_"):
            per_agent = counts.by_agent_outcome.setdefault(row["agent_id"], {})
            per_agent.setdefault(name[2:], [0] * size)[i] += value
