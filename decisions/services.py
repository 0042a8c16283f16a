"""Writes to the decision log: ingest (single and batch, idempotent by decision_id) and outcomes.

No transactions (see docs/storage.md): each write is a chain of idempotent steps (claim the ids,
store the items, count them in the rollups, all under the agent's ingest lease), and a
retry of the same request completes whatever a crash left undone without counting anything twice.
"""

import contextlib
import itertools
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from ulid import ULID

from decisions import repository
from decisions.repository import RollupChange
from decisions.schemas import (
    MAX_DECISION_BYTES,
    MAX_OUTCOME_BYTES,
    MAX_STORED_DECISION_BYTES,
    PENDING,
    BatchResult,
    Decision,
    DecisionIn,
    Links,
    Outcome,
    OutcomeChange,
    OutcomeIn,
    timestamp_check,
    to_millis,
)
from decisions.selectors import decision_get
from memsite import storage
from memsite.errors import AlreadyExists, PayloadTooLarge, PermissionDenied, ValidationFailed
from memsite.storage.concurrency import parallel
from memsite.validation import json_size, size_checked, storable, unstorable, validation_failed

logger = logging.getLogger(__name__)
MAX_BATCH = 100
# One ingest request per agent at a time holds this lease (see _ingest). Its writes must all be
# over before it can pass on: none starts after the window, and one lives at most about 12 s
# (three attempts of 1 s connect + 2 s read, botocore's backoff between), so the last lands by 42 s.
# The rest of the lease covers clock differences between web hosts and the whole-second expiry.
INGEST_LEASE_SECONDS = 90
INGEST_WRITE_WINDOW_SECONDS = 30
INGEST_LEASE_WAIT_SECONDS = 1.0
# Up to this many decisions (an agent's cycle) are written one conditional write each, with no
# lease and no read first; larger batches take the lease and go out in batch requests.
SMALL_BATCH = 10
OUTCOME_UPDATE_ATTEMPTS = 3


@dataclass(frozen=True)
class Actor:
    """Who is writing: an agent (agent_id set) or a person (operators may correct outcomes)."""

    label: str
    agent_id: str | None = None
    is_operator: bool = False


def decision_parse(raw: Any, *, actor: Actor) -> Decision:
    """Validate one submitted decision, resolve its id and timestamp, and check that DynamoDB
    can store every value in it: all before anything is written."""
    if not isinstance(raw, dict):
        raise ValidationFailed("body: a decision must be a JSON object", fields={"body": "expected an object"})
    size_checked(raw, MAX_DECISION_BYTES, "decision")
    try:
        data = DecisionIn.model_validate(raw)
    except ValidationError as error:
        raise validation_failed(error) from None
    if data.agent_id != actor.agent_id:
        raise PermissionDenied(
            f"agent_id {data.agent_id!r} is not the token's agent {actor.agent_id!r}: an agent writes only as itself",
            fields={"agent_id": "must match the token's agent"},
        )
    if data.outcome:
        size_checked(data.outcome.model_dump(mode="json"), MAX_OUTCOME_BYTES, "outcome")
    decision = _decision_from(data, actor=actor)
    try:
        repository.item_check(decision)
    except storage.InvalidValue as error:
        raise unstorable(error) from None
    return decision


def _decision_from(data: DecisionIn, *, actor: Actor) -> Decision:
    now = to_millis(datetime.now(UTC))
    if data.decision_id:
        # A retry without a timestamp must land on the same key: take the time in the ULID,
        # held to the same bounds as a timestamp that was sent.
        try:
            timestamp = data.timestamp or timestamp_check(ULID.from_str(data.decision_id).datetime)
        except ValueError as error:
            detail = f"its time is not usable as the decision's timestamp ({error}); send a timestamp"
            raise ValidationFailed(f"decision_id: {detail}", fields={"decision_id": detail}) from None
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
        links=data.links or Links(),
        recorded_at=now,
    )


def _counted(decision: Decision) -> RollupChange:
    counters = {"total": 1, f"t_{decision.type}": 1, f"o_{decision.outcome_status}": 1}
    return RollupChange(
        decision.agent_id, decision.timestamp, counters, token=repository.rollup_token("c", decision.decision_id)
    )


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
    """Store each new decision once, repair what a crash left half-written, count once.

    A few decisions (an agent's cycle) are create-once conditional writes, one per decision:
    nothing is read first and nothing can be overwritten. A larger batch (a backfill) goes out
    in batch requests, a few per hundred decisions, under the agent's ingest lease: an agent
    writes only as itself, so while its request holds the lease, what was read before the
    write ("this key is free") stays true until the write. Rollups count with tokens. A retry of
    the same request, or the same batch sent twice at once, therefore completes a crashed
    attempt and never stores or counts anything twice. See docs/storage.md, "Ingest".
    """
    if not decisions:
        return []
    agent_id = decisions[0].agent_id
    if any(decision.agent_id != agent_id for decision in decisions):  # decision_parse enforces it
        raise ValueError("one ingest holds one agent's lease: every decision must be that agent's")
    first_of: dict[str, Decision] = {}
    for decision in decisions:
        first_of.setdefault(decision.decision_id, decision)
    unique = list(first_of.values())
    digests = {d.decision_id: repository.content_hash(d) for d in unique}
    found: dict[str, tuple[str, Decision]] = {}
    for decision_id in repository.keys_elsewhere(unique):  # sent before with another type or time
        found[decision_id] = ("conflict", first_of[decision_id])
    unique = [d for d in unique if d.decision_id not in found]
    if len(unique) <= SMALL_BATCH:
        outcomes = parallel(lambda d: _ingest_one(d, digests[d.decision_id]), unique)
        found |= {d.decision_id: outcome for d, outcome in zip(unique, outcomes, strict=True)}
    else:
        with _ingest_lease(agent_id) as deadline:
            found |= _ingest_holding_lease(unique, digests, deadline)
    repository.rollups_apply(
        [
            _counted(first_of[i])
            for i, (status, stored) in found.items()
            if status == "created" or (status == "exists" and not repository.counted_in_older_rows(stored.recorded_at))
        ]
    )
    results = []
    for decision in decisions:
        first = first_of[decision.decision_id]
        status, stored = found[decision.decision_id]
        if decision is not first:  # the same id again in this batch
            same = digests[decision.decision_id] == repository.content_hash(decision)
            status = "exists" if same and status != "conflict" else "conflict"
        results.append((status, stored if status == "exists" else decision))
    return results


def _ingest_one(decision: Decision, digest: str) -> tuple[str, Decision]:
    """One decision in conditional writes: its claim first where its id does not carry its key."""
    claim = None
    if not repository.key_carried_by_id(decision):
        claim = repository.claim_put_new(decision, digest=digest)
        if claim is not None and not repository.same_content(claim.content_hash, decision, digest):
            return "conflict", decision
    stored = repository.decision_put_new(decision, digest=digest)
    if stored is None:  # stored now; "exists" when an earlier attempt had claimed it and died
        return ("created" if claim is None else "exists"), decision
    same = repository.same_content(stored.content_hash, decision, digest)
    return ("exists", stored.decision) if same else ("conflict", decision)


@contextlib.contextmanager
def _ingest_lease(agent_id: str) -> Iterator[float]:
    """Hold the agent's ingest lease; yields the time.monotonic() after which no write may start.
    Another request of the agent is waited for briefly, then answered 503 with Retry-After.

    The lease is given back only when every write request has answered. After a failure a
    request that timed out may still be applied by DynamoDB, so the lease is left to run out:
    the agent's next request waits until then (memclient keeps its spool meanwhile)."""
    owner = str(ULID())
    waited_since = time.monotonic()
    delay = 0.01
    while True:
        # Measured before asking: the lease ends INGEST_LEASE_SECONDS after a moment no earlier
        # than this, less a second for the whole seconds it is stored in.
        asked = time.monotonic()
        if repository.ingest_lease_take(agent_id, owner=owner, seconds=INGEST_LEASE_SECONDS):
            break
        if time.monotonic() - waited_since > INGEST_LEASE_WAIT_SECONDS:
            raise storage.Unavailable(
                f"another request of agent {agent_id} is storing decisions; retry shortly", retry_after=2
            )
        time.sleep(delay)
        delay = min(delay * 2, 0.2)
    yield asked + INGEST_WRITE_WINDOW_SECONDS
    try:
        repository.ingest_lease_release(agent_id, owner=owner)
    except storage.StorageError:
        logger.warning("could not give back the ingest lease of %s; it runs out by itself", agent_id, exc_info=True)


def _ingest_holding_lease(
    unique: list[Decision], digests: dict[str, str], deadline: float
) -> dict[str, tuple[str, Decision]]:
    """Read what is stored under the batch's keys (and the claims of ids that need one) in
    consistent batch reads, then write what is missing in batch requests."""
    claimed = [d for d in unique if not repository.key_carried_by_id(d)]
    claims = repository.claims_find([d.decision_id for d in claimed]) if claimed else {}
    stored = repository.stored_find([repository.main_key(d) for d in unique])
    found: dict[str, tuple[str, Decision]] = {}
    for decision in unique:
        digest, claim = digests[decision.decision_id], claims.get(decision.decision_id)
        here = stored.get(decision.decision_id)
        if (claim is not None and not repository.same_content(claim.content_hash, decision, digest)) or (
            here is not None and not repository.same_content(here.content_hash, decision, digest)
        ):
            found[decision.decision_id] = ("conflict", decision)
        elif here is not None:
            found[decision.decision_id] = ("exists", here.decision)
        else:  # new, or claimed by an attempt that died before writing the item
            found[decision.decision_id] = ("created" if claim is None else "exists", decision)
    new_claims = [d for d in claimed if d.decision_id not in claims and found[d.decision_id][0] == "created"]
    missing = [d for d in unique if found[d.decision_id][0] != "conflict" and d.decision_id not in stored]
    repository.decisions_write(new_claims, missing, digests=digests, deadline=deadline)
    return found


def decision_outcome_set(*, decision_id: str, raw: Any, actor: Actor) -> tuple[str, Decision]:
    """Report (or correct) a decision's outcome: ("updated", decision) or ("unchanged", decision).
    A correction keeps the previous outcome, with who replaced it and when, in the history."""
    decision = _decision_for_outcome(decision_id, actor)  # 404 and 403 before judging the body
    size_checked(raw, MAX_OUTCOME_BYTES, "outcome")
    try:
        report = OutcomeIn.model_validate(raw)
    except ValidationError as error:
        raise validation_failed(error) from None
    # Before anything reads or dumps it: metrics nested past what pydantic serializes would
    # otherwise fail the size check below with a 500, not a 400 naming the path.
    storable(report.metrics, "outcome.metrics")
    for attempt in range(OUTCOME_UPDATE_ATTEMPTS):
        if attempt:
            decision = _decision_for_outcome(decision_id, actor)
        if decision.outcome is not None and decision.outcome.same_report(report):
            _count_outcome_change(decision)  # completes the count if a crash interrupted the first try
            return "unchanged", decision
        now = to_millis(datetime.now(UTC))
        change = OutcomeChange(previous=decision.outcome, replaced_at=now, replaced_by=actor.label)
        updated = decision.model_copy(
            update={
                "outcome": Outcome(**report.model_dump(), reported_at=now, reported_by=actor.label),
                "outcome_history": [*decision.outcome_history, change],
            }
        )
        if (size := json_size(updated.model_dump(mode="json"))) > MAX_STORED_DECISION_BYTES:
            raise PayloadTooLarge(
                f"decision {decision_id} would be {size} bytes with this correction; the limit is "
                f"{MAX_STORED_DECISION_BYTES} bytes with its outcome history, which has "
                f"{len(decision.outcome_history)} corrections already"
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
    """Move the decision between outcome counters for every change in its history, each once
    (token o:{id}:{version}): a change whose count a crash interrupted is caught up by the next
    report on the decision, whatever that report says."""
    changes = []
    statuses = [change.previous.status if change.previous else PENDING for change in decision.outcome_history]
    statuses.append(decision.outcome_status)
    times = [change.replaced_at for change in decision.outcome_history]
    for position, (before, after) in enumerate(itertools.pairwise(statuses)):
        if before != after and not repository.counted_in_older_rows(times[position]):
            version = position + 2  # created at version 1; each outcome change adds one
            counters = {f"o_{before}": -1, f"o_{after}": 1}
            changes.append(
                RollupChange(
                    decision.agent_id,
                    decision.timestamp,
                    counters,
                    repository.rollup_token("o", decision.decision_id, version),
                )
            )
    repository.rollups_apply(changes)
