"""Consolidation: short-term experience folded into long-term memory, one agent at a time.

The queue is the sparse `learn` index: every decision with an outcome, in the order its outcome
arrived (a correction moves it to the end). Each run reads past the agent's watermark, so each
arrival is read once. Each page becomes a *batch*, planned in full and stored before anything is
counted. Applying a batch sets each touched pattern state's mark for this agent to the batch
number, in the same conditional write as the new counts, so a retry after a crash anywhere (a
killed worker, a lost connection) finishes the open batch without counting anything twice, and
only then plans the next; closing it moves the watermark. Stored batches are the ledger a later
correction reads to take back exactly what was counted. Nothing is written to the decisions.

Positions are stamped by the web hosts' clocks when a request is read, and the index is read
eventually consistently, so a run reads only arrivals older than CONSOLIDATION_SETTLE_SECONDS (60 s:
an ingest writes within 42 s of reading its request, see decisions.services): one that shows up
later than that behind the watermark would be missed, which takes a web host's clock that far
behind (NTP keeps them within milliseconds) or an index that far behind its table. A stale view of
an arrival already counted sits at or behind the watermark and is skipped.

Cost follows the arrivals, not history: a run reads the new arrivals and the states they touch.
"""

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from ulid import ULID

from decisions import repository as decision_repository
from decisions.schemas import Decision
from memsite import metrics, storage
from memsite.storage.codec import format_timestamp, parse_timestamp
from patterns import learner, strategies
from patterns import memory_repository as repo
from patterns import repository as definition_repository
from patterns.matching import covers, is_hit
from patterns.memory_schemas import (
    SHARED,
    Batch,
    CalibrationBin,
    ConsolidationRun,
    Contribution,
    Control,
    Counted,
    PatternState,
    StrategyContribution,
    Transition,
)
from patterns.schemas import PatternDefinition

logger = logging.getLogger(__name__)

SAMPLE_SIZE = 20
SAVE_ATTEMPTS = 8
STRATEGY_KEY = "strategy"
BATCH_BYTES = 150_000  # a batch is stored whole on one item (DynamoDB's limit: 400 KB)
Progress = Callable[[ConsolidationRun], None]


def consolidate_agent(agent_id: str, *, trigger: str = "manual", progress: Progress | None = None) -> ConsolidationRun:
    """Fold the agent's new experience into long-term memory; the run's record is returned and
    stored. Each run has its own id, which owns the agent's lease while it runs."""
    now = datetime.now(UTC)
    run = ConsolidationRun(run_id=str(ULID()), agent_id=agent_id, trigger=trigger, started_at=now, status="running")
    lease = _lease(run)
    if lease.holder is not None:
        run = run.model_copy(
            update={
                "status": "skipped",
                "finished_at": now,
                "error": f"{agent_id} is being consolidated by {lease.holder}",
            }
        )
        repo.run_save(run)
        return run
    if lease.interrupted_run:
        repo.run_mark_interrupted(lease.interrupted_run)
    renewed = time.monotonic()
    try:
        definitions = {d.id: d for d in definition_repository.definitions_list()}
        control = lease.control
        if (batch := repo.open_batch_find(agent_id, control)) is not None:
            control = _apply(agent_id, batch, definitions, run, control)  # a crashed run's batch, finished first
        after, cursor = control.watermark, None
        before = format_timestamp(now - timedelta(seconds=settings.CONSOLIDATION_SETTLE_SECONDS))
        while True:
            arrivals, cursor = decision_repository.learn_page(
                agent_id, after=after, before=before, limit=settings.CONSOLIDATION_BATCH_SIZE, cursor=cursor
            )
            run.decisions_read += len(arrivals)
            # A stale view of the index may show an arrival counted already: it is behind the watermark.
            fresh = [a for a in arrivals if control.watermark is None or a.position > control.watermark]
            while fresh:
                batch, fresh = _plan(agent_id, fresh, definitions)
                if batch is None:
                    continue
                if time.monotonic() - renewed > settings.CONSOLIDATION_LEASE_SECONDS / 2:
                    renewal = _lease(run)
                    # Renewed, unless another run took it over, or took it and closed batches of its
                    # own while this one stalled past its lease: then this plan is stale.
                    if renewal.holder is not None or renewal.control.closed_seq != control.closed_seq:
                        raise storage.Conflict(f"the lease on {agent_id} was taken over; stopping")
                    renewed = time.monotonic()
                # Opening a batch is conditional on holding the lease, so a run that lost it stops here.
                batch.number = repo.batch_open(agent_id, batch, owner=run.run_id)
                control = _apply(agent_id, batch, definitions, run, control)
            if cursor is not None:
                repo.run_save(run)  # a long run shows its progress on the ops page
            if progress:
                progress(run)
            if cursor is None:
                break
        run.patterns_changed += _retire_stale(agent_id, definitions, now)
        run.status = "succeeded"
    except Exception as error:
        run.status, run.error = "failed", f"{type(error).__name__}: {error}"[:500]
        logger.exception("consolidation of %s failed", agent_id)
        raise
    finally:
        run.finished_at = datetime.now(UTC)
        repo.run_save(run)
        repo.lease_release(agent_id, owner=run.run_id)
        metrics.consolidation_run(run.status, run.decisions_counted)
    return run


def _lease(run: ConsolidationRun) -> repo.Lease:
    now = datetime.now(UTC)
    until = now + timedelta(seconds=settings.CONSOLIDATION_LEASE_SECONDS)
    return repo.lease_take(run.agent_id, run=run, until=until, now=now)


# Planning: what one page of the queue changes, decided before anything is written.


def _scopes(definition: PatternDefinition, agent_id: str) -> list[str]:
    return [agent_id] if definition.scope == "agent" else [agent_id, SHARED]


def calibration_bin(confidence: float) -> int:
    return min(int(confidence * 10), 9)


def _plan(
    agent_id: str, arrivals: list[decision_repository.Arrival], definitions: dict[str, PatternDefinition]
) -> tuple[Batch | None, list[decision_repository.Arrival]]:
    """The batch for the first of `arrivals`, and the arrivals left for the next batch: a batch
    stops growing near BATCH_BYTES, so it always fits in one item."""
    entries: list[Counted] = []
    size = 0
    predicted: dict[str, int] = {}  # state key -> calibration bin of the confidence before this batch

    def bin_for(key: str) -> int:
        if key not in predicted:
            scope, pattern_id = key.split("/", 1)
            stored = repo.state_find(pattern_id, scope)
            predicted[key] = calibration_bin(stored.state.confidence if stored else 0.5)
        return predicted[key]

    for position, arrival in enumerate(arrivals):
        if size > BATCH_BYTES:
            return Batch(entries=entries), arrivals[position:]
        previous = _counted_before(agent_id, arrival)
        if previous is not None and previous.version >= arrival.decision.version:
            continue  # a stale view of the index: this version (or a later one) is counted already
        entry = _count(agent_id, arrival, definitions, bin_for).model_copy(update={"previous": previous})
        entries.append(entry)
        size += len(entry.model_dump_json())
    return (Batch(entries=entries) if entries else None), []


def _counted_before(agent_id: str, arrival: decision_repository.Arrival) -> Counted | None:
    """What was counted for an earlier outcome of this decision, if one was: only a decision
    whose history shows an earlier outcome can have one, so only those look in the ledger."""
    decision = arrival.decision
    earlier = [change.previous for change in decision.outcome_history if change.previous is not None]
    if not earlier:
        return None
    since = format_timestamp(min(outcome.reported_at for outcome in earlier))
    found = repo.ledger_find(agent_id, decision.decision_id, since=since)
    if found is None and arrival.legacy_learned is not None:
        return _from_legacy(decision, arrival.legacy_learned)
    return found


def _from_legacy(decision: Decision, learned: decision_repository.Learned) -> Counted:
    """A count recorded on the decision by consolidation before the ledger existed."""
    contributions, strategy = {}, None
    for key, value in learned.contributions.items():
        if key == STRATEGY_KEY:
            strategy = StrategyContribution(key=value[0], action=value[1], success=int(value[2]))
        else:
            contributions[key] = Contribution(hit=int(value[0]), bin=int(value[1]))
    stamp = format_timestamp(decision.timestamp)
    return Counted(
        decision_id=decision.decision_id,
        stamp=stamp,
        version=learned.version,
        position="",
        contributions=contributions,
        strategy=strategy,
    )


def _count(
    agent_id: str,
    arrival: decision_repository.Arrival,
    definitions: dict[str, PatternDefinition],
    bin_for: Callable[[str], int],
) -> Counted:
    decision = arrival.decision
    document = decision.model_dump(mode="json")
    contributions: dict[str, Contribution] = {}
    for definition in definitions.values():
        if not covers(definition, document):
            continue
        hit = int(bool(is_hit(definition, document)))
        for scope in _scopes(definition, agent_id):
            key = f"{scope}/{definition.id}"
            contributions[key] = Contribution(hit=hit, bin=bin_for(key))
    strategy = None
    if (action := strategies.action_of(document)) is not None:
        key = f"{decision.type}#{strategies.bucket_of(document)}"
        strategy = StrategyContribution(key=key, action=action, success=int(decision.outcome.status == "SUCCESS"))
    return Counted(
        decision_id=decision.decision_id,
        stamp=format_timestamp(decision.timestamp),
        version=decision.version,
        position=arrival.position,
        contributions=contributions,
        strategy=strategy,
    )


# Applying: each state once per batch (its mark), then the batch closes and the watermark moves.


def _apply(
    agent_id: str, batch: Batch, definitions: dict[str, PatternDefinition], run: ConsolidationRun, control: Control
) -> Control:
    """Apply the batch and close it; returns the control item as it now stands."""
    for key, deltas in batch.deltas().items():
        scope, pattern_id = key.split("/", 1)
        if (definition := definitions.get(pattern_id)) is not None:
            run.patterns_changed += _fold_state(definition, scope, deltas, agent_id=agent_id, batch_id=batch.number)
    for strategy_key, deltas in batch.strategy_deltas().items():
        _fold_strategy(agent_id, strategy_key, deltas, batch_id=batch.number)
    run.decisions_counted += len(batch.entries)
    watermark = max(filter(None, [control.watermark, batch.last_position]))
    repo.batch_close(agent_id, batch.number, owner=run.run_id, watermark=watermark)
    return control.model_copy(update={"closed_seq": batch.number, "watermark": watermark})


def _new_state(definition: PatternDefinition, scope: str, now: datetime) -> repo.StoredState:
    return repo.StoredState(
        state=PatternState(
            pattern_id=definition.id,
            agent_id=None if scope == SHARED else scope,
            status="candidate",
            learned_status="candidate",
            confidence=0.5,
            low=0.05,
            high=0.95,
            support=0,
            hits=0,
            misses=0,
            as_of=None,
            updated_at=now,
            version=0,
            history=[Transition(at=now, status="candidate", by="consolidation", reason="first evidence")],
        )
    )


def _fold_state(
    definition: PatternDefinition, scope: str, deltas: list[tuple], *, agent_id: str, batch_id: int
) -> bool:
    """Fold one batch's deltas into one pattern state; False when it already holds them."""
    for _ in range(SAVE_ATTEMPTS):
        now = datetime.now(UTC)
        stored = repo.state_find(definition.id, scope) or _new_state(definition, scope, now)
        if stored.applied.get(agent_id, 0) >= batch_id:
            if stored.applied.get(agent_id) == batch_id and stored.state.version:
                repo.version_put(stored.state)  # in case the crash came between state and snapshot
            return False
        state = stored.state
        evidence = learner.Evidence(hits=state.hits, misses=state.misses, support=state.support, as_of=state.as_of)
        samples = {1: list(state.sample_hits), 0: list(state.sample_misses)}
        bins = {calibration_bin(b.low + 0.05): [b.decisions, b.hits] for b in state.calibration}
        for decision_id, stamp, hit, sign, bin_number in deltas:
            at = parse_timestamp(stamp)
            change = learner.evidence_add if sign > 0 else learner.evidence_remove
            evidence = change(evidence, at=at, hit=bool(hit), half_life_days=definition.half_life_days)
            counts = bins.setdefault(int(bin_number), [0, 0])
            counts[0], counts[1] = max(counts[0] + sign, 0), max(counts[1] + sign * hit, 0)
            if sign > 0:
                samples[hit] = [decision_id, *[d for d in samples[hit] if d != decision_id]][:SAMPLE_SIZE]
            else:
                samples[hit] = [d for d in samples[hit] if d != decision_id]
        conf = learner.confidence(evidence)
        learned_status = learner.next_status(
            state.learned_status,
            conf,
            min_support=definition.min_support,
            activate_at=definition.activate_at,
            days_since_evidence=(now - evidence.as_of).total_seconds() / 86400 if evidence.as_of else 0,
            half_life_days=definition.half_life_days,
        )
        history = list(state.history)
        if learned_status != state.learned_status:
            history.append(_transition(state, learned_status, now, conf, definition))
        updated = state.model_copy(
            update={
                "learned_status": learned_status,
                "status": state.override or learned_status,
                "confidence": conf.mean,
                "low": conf.low,
                "high": conf.high,
                "support": evidence.support,
                "hits": evidence.hits,
                "misses": evidence.misses,
                "as_of": evidence.as_of,
                "updated_at": now,
                "sample_hits": samples[1],
                "sample_misses": samples[0],
                "calibration": [
                    CalibrationBin(low=number / 10, decisions=n, hits=h) for number, (n, h) in sorted(bins.items()) if n
                ],
                "history": history[-50:],
            }
        )
        try:
            saved = repo.state_save(
                repo.StoredState(state=updated, applied=stored.applied | {agent_id: batch_id}),
                expected_version=state.version,
            )
        except storage.Conflict:
            continue  # another agent's run changed the shared state: read it again
        repo.version_put(saved)
        return True
    raise storage.Conflict(f"pattern {definition.id} ({scope}) kept changing; the batch stays open for the next run")


def _transition(
    state: PatternState, status: str, now: datetime, conf: learner.Confidence, definition: PatternDefinition
) -> Transition:
    reasons = {
        "active": f"support {conf.support} ≥ {definition.min_support}, "
        f"lower bound {conf.low:.2f} ≥ {definition.activate_at}",
        "retired": f"upper bound {conf.high:.2f} < {definition.activate_at}, or no new evidence",
    }
    return Transition(
        at=now, status=status, previous=state.learned_status, by="consolidation", reason=reasons.get(status, "")
    )


def _fold_strategy(agent_id: str, strategy_key: str, deltas: list[tuple], *, batch_id: int) -> None:
    decision_type, bucket = strategy_key.split("#", 1)
    for _ in range(SAVE_ATTEMPTS):
        stored = repo.strategy_find(agent_id, decision_type, bucket) or repo.StoredStrategy(
            agent_id=agent_id,
            decision_type=decision_type,
            bucket=bucket,
            actions={},
            applied_batch=0,
            updated_at="",
            version=0,
        )
        if stored.applied_batch >= batch_id:
            return
        for action, success, sign in deltas:
            counts = stored.actions.setdefault(action, {"s": 0, "f": 0})
            name = "s" if success else "f"
            counts[name] = max(counts[name] + sign, 0)
        stored.applied_batch, stored.updated_at = batch_id, format_timestamp(datetime.now(UTC))
        try:
            repo.strategy_save(stored)
            return
        except storage.Conflict:
            continue
    raise storage.Conflict(f"strategy {strategy_key} of {agent_id} kept changing; the batch stays open")


# Lifecycle without new evidence: what nobody has confirmed for long enough retires.


def _retire_stale(agent_id: str, definitions: dict[str, PatternDefinition], now: datetime) -> int:
    changed = 0
    for scope_agent in (agent_id, None):
        for state in repo.states_ranked(agent_id=scope_agent, min_confidence=None, status=None):
            definition = definitions.get(state.pattern_id)
            if definition is None or state.as_of is None or state.learned_status != "active":
                continue  # learning goes on under an operator's pin or suspension too
            days = (now - state.as_of).total_seconds() / 86400
            conf = learner.Confidence(mean=state.confidence, low=state.low, high=state.high, support=state.support)
            status = learner.next_status(
                state.learned_status,
                conf,
                min_support=definition.min_support,
                activate_at=definition.activate_at,
                days_since_evidence=days,
                half_life_days=definition.half_life_days,
            )
            if status != state.learned_status:
                changed += set_status(
                    state,
                    learned_status=status,
                    by="consolidation",
                    reason=f"no new evidence for {days:.0f} days",
                    unless_newer_than=state.as_of,
                )
    return changed


def set_status(
    state: PatternState,
    *,
    learned_status: str | None = None,
    override: Any = ...,
    by: str,
    reason: str,
    unless_newer_than: datetime | None = None,
) -> bool:
    """Change a state's learned status or its operator override, keeping the history. With
    `unless_newer_than`, nothing changes if evidence newer than that arrived meanwhile."""
    now = datetime.now(UTC)
    for _ in range(SAVE_ATTEMPTS):
        stored = repo.state_find(state.pattern_id, repo.scope_of(state.agent_id))
        if stored is None:
            return False
        current = stored.state
        if unless_newer_than is not None and current.as_of is not None and current.as_of > unless_newer_than:
            return False
        new_learned = learned_status or current.learned_status
        new_override = current.override if override is ... else override
        status = new_override or new_learned
        if (new_learned, new_override) == (current.learned_status, current.override):
            return False
        history = [*current.history, Transition(at=now, status=status, previous=current.status, by=by, reason=reason)]
        updated = current.model_copy(
            update={
                "learned_status": new_learned,
                "override": new_override,
                "status": status,
                "updated_at": now,
                "history": history[-50:],
            }
        )
        try:
            saved = repo.state_save(
                repo.StoredState(state=updated, applied=stored.applied), expected_version=current.version
            )
        except storage.Conflict:
            continue
        repo.version_put(saved)
        return True
    raise storage.Conflict(f"pattern {state.pattern_id} kept changing; try again")
