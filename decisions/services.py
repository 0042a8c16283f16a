"""Writes to the decision log: ingest (single and batch, idempotent by decision_id) and outcomes.

No transactions (see docs/storage.md): each write is a chain of idempotent single-item steps
(claim the id, store the item, count it in the rollups), and a retry of the same request
completes whatever a crash left undone without counting anything twice.
"""

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from ulid import ULID

from decisions import repository
from decisions.repository import RollupChange
from decisions.schemas import (
    MAX_DECISION_BYTES,
    PENDING,
    BatchResult,
    Decision,
    DecisionIn,
    Outcome,
    OutcomeChange,
    OutcomeIn,
)
from decisions.selectors import decision_get
from memsite import storage
from memsite.errors import AlreadyExists, PayloadTooLarge, PermissionDenied, ValidationFailed

MAX_BATCH = 100
OUTCOME_UPDATE_ATTEMPTS = 3


@dataclass(frozen=True)
class Actor:
    """Who is writing: an agent (agent_id set) or a person (operators may correct outcomes)."""

    label: str
    agent_id: str | None = None
    is_operator: bool = False


def validation_failed(error: ValidationError, prefix: str = "") -> ValidationFailed:
    fields = {prefix + ".".join(str(part) for part in e["loc"]): e["msg"] for e in error.errors()}
    first, message = next(iter(fields.items()))
    return ValidationFailed(f"{first}: {message}", fields=fields)


def decision_parse(raw: Any, *, actor: Actor) -> Decision:
    """Validate one submitted decision and resolve its id and timestamp."""
    if not isinstance(raw, dict):
        raise ValidationFailed("body: a decision must be a JSON object", fields={"body": "expected an object"})
    size = len(json.dumps(raw, separators=(",", ":"), default=str).encode())
    if size > MAX_DECISION_BYTES:
        raise PayloadTooLarge(f"decision is {size} bytes; the limit is {MAX_DECISION_BYTES} bytes (64 KiB)")
    try:
        data = DecisionIn.model_validate(raw)
    except ValidationError as error:
        raise validation_failed(error) from None
    if data.agent_id != actor.agent_id:
        raise PermissionDenied(
            f"agent_id {data.agent_id!r} is not the token's agent {actor.agent_id!r}: an agent writes only as itself",
            fields={"agent_id": "must match the token's agent"},
        )
    return _decision_from(data, actor=actor)


def _decision_from(data: DecisionIn, *, actor: Actor) -> Decision:
    now = datetime.now(UTC)
    if data.decision_id:
        # A retry without a timestamp must land on the same key: take the time in the ULID.
        timestamp = data.timestamp or ULID.from_str(data.decision_id).datetime
        decision_id = data.decision_id
    else:
        timestamp = data.timestamp or now
        decision_id = str(ULID.from_datetime(timestamp))
    outcome = Outcome(**data.outcome.model_dump(), reported_at=now, reported_by=actor.label) if data.outcome else None
    return Decision(
        decision_id=decision_id,
        agent_id=data.agent_id,
        type=data.type,
        timestamp=timestamp,
        cycle=data.cycle,
        context=data.context,
        reasoning=data.reasoning,
        outcome=outcome,
        links=data.links,
        recorded_at=now,
    )


def _counted(decision: Decision) -> RollupChange:
    counters = {"total": 1, f"t_{decision.type}": 1, f"o_{decision.outcome_status}": 1}
    return RollupChange(decision.agent_id, decision.timestamp, counters, token=f"c:{decision.decision_id}")


def decision_record(*, raw: Any, actor: Actor) -> tuple[str, Decision]:
    """Store one decision: ("created", it), or ("exists", the stored one) for an identical retry.
    AlreadyExists (409) when the id is taken by different content."""
    decision = decision_parse(raw, actor=actor)
    status, stored = _ingest([decision])[0]
    if status == "conflict":
        raise AlreadyExists(
            f"decision_id {decision.decision_id} exists with different content",
            fields={"decision_id": "taken by a different decision"},
        )
    return status, stored


def decision_record_batch(*, raws: list[Any], actor: Actor) -> list[BatchResult]:
    """Store up to MAX_BATCH decisions; each gets its own result, valid ones are stored even when
    others are invalid. Writing as another agent refuses the whole batch (PermissionDenied)."""
    if not raws:
        raise ValidationFailed("body: the batch is empty", fields={"body": "expected 1 to 100 decisions"})
    if len(raws) > MAX_BATCH:
        raise ValidationFailed(
            f"body: a batch holds at most {MAX_BATCH} decisions, not {len(raws)}", fields={"body": "too many"}
        )
    results: list[BatchResult | Decision] = []
    for position, raw in enumerate(raws):
        try:
            results.append(decision_parse(raw, actor=actor))
        except (ValidationFailed, PayloadTooLarge) as error:
            given = raw.get("decision_id") if isinstance(raw, dict) else None
            results.append(BatchResult(decision_id=given, status="invalid", detail=f"[{position}] {error.detail}"))
    valid = [item for item in results if isinstance(item, Decision)]
    outcomes = iter(_ingest(valid))
    return [item if isinstance(item, BatchResult) else _batch_result(next(outcomes)) for item in results]


def _batch_result(outcome: tuple[str, Decision]) -> BatchResult:
    status, decision = outcome
    detail = "taken by a different decision" if status == "conflict" else ""
    return BatchResult(decision_id=decision.decision_id, status=status, detail=detail)


def _ingest(decisions: list[Decision]) -> list[tuple[str, Decision]]:
    """Claim each id, store what is new, repair what a crash left half-written, count once."""
    results: list[tuple[str, Decision]] = []
    created: list[Decision] = []
    retried: list[Decision] = []
    for decision in decisions:
        existing = repository.claim(decision)
        if existing is None:
            created.append(decision)
            results.append(("created", decision))
        elif existing.content_hash == repository.content_hash(decision):
            retried.append(decision)
            results.append(("exists", decision))
        else:
            results.append(("conflict", decision))
    repository.decisions_put(created + (repository.decisions_missing(retried) if retried else []))
    repository.rollups_apply([_counted(decision) for decision in created + retried])
    if retried:
        stored = {d.decision_id: d for d in map(repository.decision_find, map(repository.main_key, retried)) if d}
        results = [(status, stored.get(d.decision_id, d) if status == "exists" else d) for status, d in results]
    return results


def decision_outcome_set(*, decision_id: str, raw: Any, actor: Actor) -> tuple[str, Decision]:
    """Report (or correct) a decision's outcome: ("updated", decision) or ("unchanged", decision).
    A correction keeps the previous outcome, with who replaced it and when, in the history."""
    try:
        report = OutcomeIn.model_validate(raw)
    except ValidationError as error:
        raise validation_failed(error) from None
    for _ in range(OUTCOME_UPDATE_ATTEMPTS):
        decision = _decision_for_outcome(decision_id, actor)
        if decision.outcome is not None and decision.outcome.same_report(report):
            _count_outcome_change(decision)  # completes the count if a crash interrupted the first try
            return "unchanged", decision
        now = datetime.now(UTC)
        change = OutcomeChange(previous=decision.outcome, replaced_at=now, replaced_by=actor.label)
        updated = decision.model_copy(
            update={
                "outcome": Outcome(**report.model_dump(), reported_at=now, reported_by=actor.label),
                "outcome_history": [*decision.outcome_history, change],
            }
        )
        try:
            stored = repository.decision_update_outcome(updated, expected_version=decision.version)
        except storage.Conflict:
            continue  # someone else reported meanwhile: read again and decide again
        _count_outcome_change(stored)
        return "updated", stored
    raise AlreadyExists(f"decision {decision_id} keeps changing; try again", code="stale_version")


def _decision_for_outcome(decision_id: str, actor: Actor) -> Decision:
    decision = decision_get(decision_id=decision_id)
    if actor.agent_id != decision.agent_id and not actor.is_operator:
        raise PermissionDenied(
            f"decision {decision_id} belongs to {decision.agent_id}: only that agent or an operator reports its outcome"
        )
    return decision


def _count_outcome_change(decision: Decision) -> None:
    """Move the decision from its previous outcome's counter to the current one, once per version."""
    if not decision.outcome_history:
        return
    last = decision.outcome_history[-1]
    before = last.previous.status if last.previous else PENDING
    if before == decision.outcome_status:
        return
    counters = {f"o_{before}": -1, f"o_{decision.outcome_status}": 1}
    token = f"o:{decision.decision_id}:{decision.version}"
    repository.rollups_apply([RollupChange(decision.agent_id, decision.timestamp, counters, token)])
