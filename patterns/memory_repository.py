"""agent_memory_ltm items of what consolidation learns, and of its own bookkeeping.

  pattern state    pk agent:{scope}#memory#PATTERN    sk {pattern_id}              scope: agent id, or * (all)
  pattern version  pk agent:{scope}#memory#PATTERN    sk {pattern_id}#v{00000001}
  strategy         pk agent:{agent_id}#memory#STRATEGY sk {decision_type}#{bucket}
  control          pk agent:{agent_id}#memory#RUN      sk control   (lease, batch numbers, watermark)
  batch            pk agent:{agent_id}#memory#BATCH    sk {number:010d}  (a planned batch; the ledger; 91 days)
  run record       pk runs#{day}                       sk {started_at}#{run_id}

States carry `applied` ({agent_id: batch id}): the last batch of each agent folded in. Batches
of one agent are applied in order, so a state whose mark is at or past a batch already has it.
"""

import contextlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from memsite import storage
from memsite.storage.codec import format_timestamp
from memsite.storage.tables import AGENT_MEMORY_LTM
from patterns.memory_schemas import SHARED, Batch, ConsolidationRun, Control, Counted, PatternState, PatternVersion

VERSION_PREFIX = "#v"


def _table() -> storage.Table:
    return storage.table(AGENT_MEMORY_LTM, "worker")


def _reader() -> storage.Table:
    return storage.table(AGENT_MEMORY_LTM)


def scope_of(agent_id: str | None) -> str:
    return agent_id or SHARED


def _pattern_pk(scope: str) -> str:
    return f"agent:{scope}#memory#PATTERN"


def state_key(pattern_id: str, scope: str) -> dict[str, str]:
    return {"pk": _pattern_pk(scope), "sk": pattern_id}


@dataclass
class StoredState:
    state: PatternState
    applied: dict[str, int] = field(default_factory=dict)  # agent id -> the last batch of it folded in


def _mark(value: Any) -> int:
    return int(value) if isinstance(value, (int, float)) else 0


def _state_from_item(item: dict[str, Any]) -> StoredState:
    state = PatternState.model_validate(
        {k: item[k] for k in PatternState.model_fields if k in item} | {"agent_id": item.get("agent_id")}
    )
    return StoredState(state=state, applied={a: _mark(m) for a, m in item.get("applied", {}).items()})


def _index_keys(state: PatternState) -> dict[str, Any]:
    if state.agent_id is None:
        return {"shared_pk": "shared#PATTERN"}
    return {"conf_pk": f"PATTERN#{state.agent_id}"}


def state_find(pattern_id: str, scope: str) -> StoredState | None:
    item = _table().find(state_key(pattern_id, scope), consistent=True)
    return _state_from_item(item) if item else None


def state_save(stored: StoredState, *, expected_version: int) -> PatternState:
    """Write the state if nobody changed it since `expected_version` (0: new); storage.Conflict if
    someone did. The state's version goes up by one."""
    state = stored.state
    record = state.model_dump(mode="python", exclude={"version"}, exclude_none=True)
    record |= {
        "as_of": format_timestamp(state.as_of) if state.as_of else None,
        "updated_at": format_timestamp(state.updated_at),
        "applied": stored.applied,
        "history": [t.model_dump(mode="json") for t in state.history],
        "calibration": [b.model_dump() for b in state.calibration],
        "override": state.override,
    } | _index_keys(state)
    item = _table().update_versioned(
        state_key(state.pattern_id, scope_of(state.agent_id)), record, expected_version=expected_version
    )
    return _state_from_item(item).state


def states_ranked(
    *, agent_id: str | None, min_confidence: float | None, status: str | None, limit: int = 500
) -> list[PatternState]:
    """An agent's pattern states (agent_id None: the shared ones), highest confidence first, from
    a sparse index (one Query per page; a desk has tens of patterns per agent)."""
    index, partition = ("shared", "shared#PATTERN") if agent_id is None else ("by_confidence", f"PATTERN#{agent_id}")
    sort = storage.SortCondition("gte", (min_confidence,)) if min_confidence is not None else None
    items = _reader().query_all(
        partition, index=index, sort=sort, limit=100, where={"status": status} if status else None
    )
    return [_state_from_item(item).state for item in itertools.islice(items, limit)]


def states_of_pattern(pattern_id: str, scopes: list[str]) -> list[PatternState]:
    items = _reader().batch_get([state_key(pattern_id, scope) for scope in scopes])
    return [_state_from_item(item).state for item in items]


def version_put(state: PatternState) -> None:
    """The snapshot of `state` at its version: written again identically by a retry."""
    snapshot = PatternVersion(
        **state.model_dump(include=set(PatternVersion.model_fields) - {"at"}), at=state.updated_at
    )
    key = {"pk": _pattern_pk(scope_of(state.agent_id)), "sk": f"{state.pattern_id}{VERSION_PREFIX}{state.version:08d}"}
    record = snapshot.model_dump(mode="python", exclude_none=True) | {"at": format_timestamp(snapshot.at)}
    _table().put(key | record)


def versions_list(pattern_id: str, scope: str, *, limit: int = 1000) -> list[PatternVersion]:
    """The newest `limit` versions, oldest first (for charts)."""
    items = (
        _reader()
        .query_page(
            _pattern_pk(scope), sort=storage.SortCondition.begins_with(f"{pattern_id}{VERSION_PREFIX}"), limit=limit
        )
        .items
    )
    versions = [
        PatternVersion.model_validate(
            {k: i[k] for k in PatternVersion.model_fields if k in i} | {"agent_id": i.get("agent_id")}
        )
        for i in items
    ]
    return sorted(versions, key=lambda v: v.version)


# Strategies


def _strategy_pk(agent_id: str) -> str:
    return f"agent:{agent_id}#memory#STRATEGY"


def strategy_key(agent_id: str, decision_type: str, bucket: str) -> dict[str, str]:
    return {"pk": _strategy_pk(agent_id), "sk": f"{decision_type}#{bucket}"}


@dataclass
class StoredStrategy:
    agent_id: str
    decision_type: str
    bucket: str
    actions: dict[str, dict[str, int]]  # action -> {"s": successes, "f": failures}
    applied_batch: int
    updated_at: str
    version: int


def _strategy_from_item(item: dict[str, Any]) -> StoredStrategy:
    return StoredStrategy(
        agent_id=item["agent_id"],
        decision_type=item["decision_type"],
        bucket=item["bucket"],
        actions={a: {"s": int(c.get("s", 0)), "f": int(c.get("f", 0))} for a, c in item.get("actions", {}).items()},
        applied_batch=_mark(item.get("applied_batch")),
        updated_at=item.get("updated_at", ""),
        version=int(item.get("version", 0)),
    )


def strategy_find(agent_id: str, decision_type: str, bucket: str) -> StoredStrategy | None:
    item = _table().find(strategy_key(agent_id, decision_type, bucket), consistent=True)
    return _strategy_from_item(item) if item else None


def strategy_save(strategy: StoredStrategy) -> None:
    """storage.Conflict if it changed since it was read (its version)."""
    fields = {
        "agent_id": strategy.agent_id,
        "decision_type": strategy.decision_type,
        "bucket": strategy.bucket,
        "actions": strategy.actions,
        "applied_batch": strategy.applied_batch,
        "updated_at": strategy.updated_at,
    }
    _table().update_versioned(
        strategy_key(strategy.agent_id, strategy.decision_type, strategy.bucket),
        fields,
        expected_version=strategy.version,
    )


def strategies_of(agent_id: str) -> list[StoredStrategy]:
    return [_strategy_from_item(i) for i in _reader().query_all(_strategy_pk(agent_id), newest_first=False, limit=500)]


# Consolidation control: one item per agent, holding the lease and the open batch.


def _control_key(agent_id: str) -> dict[str, str]:
    return {"pk": f"agent:{agent_id}#memory#RUN", "sk": "control"}


@dataclass(frozen=True)
class Lease:
    holder: str | None  # another run holding the lease; None when it is ours now
    interrupted_run: dict[str, str] | None = None  # the record of a run that held it and died
    control: Control = field(default_factory=Control)  # the control item as the lease found it


def lease_take(agent_id: str, *, run: ConsolidationRun, until: datetime, now: datetime) -> Lease:
    """Take the agent's consolidation lease for `run`, unless another live run holds it. The
    same owner may take it again: a task redelivered after its worker died keeps its id."""
    table = _table()
    for _ in range(3):
        item = table.find(_control_key(agent_id), consistent=True) or {}
        holder, held_until = item.get("lease_owner"), item.get("lease_until", "")
        if holder and holder != run.run_id and held_until > format_timestamp(now):
            return Lease(holder=holder)
        try:
            table.update_fields(
                _control_key(agent_id),
                {"lease_owner": run.run_id, "lease_until": format_timestamp(until), "lease_run": _run_key(run)},
                must_exist=False,
                expected_version=int(item.get("version", 0)),
                increments={"version": 1},
            )
        except storage.Conflict:
            continue
        previous = item.get("lease_run")
        return Lease(
            holder=None,
            interrupted_run=previous if holder and previous != _run_key(run) else None,
            control=_control_from(item),
        )
    return Lease(holder="another run")


def run_mark_interrupted(key: dict[str, str]) -> None:
    """A run whose worker died holding the lease: its record says so instead of 'running'."""
    with contextlib.suppress(storage.Conflict, storage.NotFound):
        _table().update_fields(key, {"status": "interrupted", "error": "the worker stopped mid-run; taken over"})


def lease_release(agent_id: str, *, owner: str) -> None:
    """Give the lease back if `owner` still holds it: one conditional write, nothing read first.
    The version moves on, so a run that read the control item before this cannot take it on
    that reading."""
    with contextlib.suppress(storage.Conflict):  # taken over meanwhile
        _table().update_fields(
            _control_key(agent_id),
            {"lease_owner": None, "lease_until": None, "lease_run": None},
            equals={"lease_owner": owner},
            increments={"version": 1},
        )


def _control_from(item: dict[str, Any]) -> Control:
    return Control.model_validate({k: v for k, v in item.items() if k in Control.model_fields})


def control_find(agent_id: str) -> Control:
    return _control_from(_table().find(_control_key(agent_id), consistent=True) or {})


def _batch_key(agent_id: str, number: int) -> dict[str, str]:
    return {"pk": f"agent:{agent_id}#memory#BATCH", "sk": f"{number:010d}"}


BATCH_RETENTION_SECONDS = 91 * 86400  # a day longer than decisions are kept: corrections come within


def batch_open(agent_id: str, batch: Batch, *, owner: str) -> int:
    """Number the batch (the agent's next sequence number: batches are ordered by it, never by a
    clock) and store it, only while `owner` holds the lease (storage.Conflict when it does not
    any more). A batch numbered but never stored (a crash between) is simply skipped."""
    # The version moves too: a run reading the control item to take the lease over meanwhile
    # must read again, and then sees this batch open.
    numbered = _table().update_fields(
        _control_key(agent_id), {}, increments={"batch_seq": 1, "version": 1}, equals={"lease_owner": owner}
    )
    number = int(numbered["batch_seq"])
    record = batch.model_copy(update={"number": number}).model_dump(mode="python", exclude_none=True)
    expires = {"expires_at": int(datetime.now(UTC).timestamp()) + BATCH_RETENTION_SECONDS}
    _table().put(_batch_key(agent_id, number) | record | {"last_position": batch.last_position} | expires)
    return number


def batch_find(agent_id: str, number: int) -> Batch | None:
    item = _table().find(_batch_key(agent_id, number), consistent=True)
    return Batch.model_validate({k: v for k, v in item.items() if k in Batch.model_fields}) if item else None


def open_batch_find(agent_id: str, control: Control | None = None) -> Batch | None:
    """The batch a run numbered and stored but did not close (it crashed), if any."""
    control = control or control_find(agent_id)
    return batch_find(agent_id, control.batch_seq) if control.batch_seq > control.closed_seq else None


def batch_close(agent_id: str, number: int, *, owner: str, watermark: str) -> None:
    """Record the batch as applied and move the watermark past it, only while `owner` holds
    the lease and no later batch was closed."""
    _table().update_fields(
        _control_key(agent_id),
        {"closed_seq": number, "watermark": watermark},
        equals={"lease_owner": owner},
        below={"closed_seq": number},
    )


def _batches_back_to(agent_id: str, since: str) -> Iterator[dict[str, Any]]:
    """The agent's stored batches, newest first, until one whose arrivals all lie before
    `since` (a learn-index position): batches are numbered in the order their arrivals were read."""
    cursor = None
    while True:
        page = _table().query_page(f"agent:{agent_id}#memory#BATCH", limit=20, cursor=cursor, newest_first=True)
        for item in page.items:
            yield item
            if item.get("last_position", "") < since:
                return
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def ledger_find(agent_id: str, decision_id: str, *, since: str) -> Counted | None:
    """What the latest batch that counted `decision_id` counted for it, looking back through
    the batches whose arrivals reach `since` or later: a correction reads the few batches since
    the outcome it corrects."""
    for item in _batches_back_to(agent_id, since):
        for entry in item.get("entries", []):
            if entry["decision_id"] == decision_id:
                return Counted.model_validate(entry)
    return None


# Run records


def _run_key(run: ConsolidationRun) -> dict[str, str]:
    return {
        "pk": f"runs#{run.started_at.astimezone(UTC):%Y-%m-%d}",
        "sk": f"{format_timestamp(run.started_at)}#{run.run_id}",
    }


def run_save(run: ConsolidationRun) -> None:
    record = run.model_dump(mode="json", exclude_none=True, exclude={"duration_seconds"})
    _table().put(_run_key(run) | record)


def runs_recent(days: list[str], *, limit: int) -> list[ConsolidationRun]:
    runs: list[ConsolidationRun] = []
    for day in days:
        if len(runs) >= limit:
            break
        page = _reader().query_page(f"runs#{day}", limit=limit - len(runs), newest_first=True)
        runs += [
            ConsolidationRun.model_validate({k: i[k] for k in ConsolidationRun.model_fields if k in i})
            for i in page.items
        ]
    return runs
