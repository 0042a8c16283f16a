"""agent_decisions items: decisions, their id claims, and the rollup counters behind the charts.
The mappers here are the only place that knows attribute names and key layout.

  decision  pk agent:{agent_id}#decision#{type}   sk {timestamp}#{decision_id}
  claim     pk decision#{decision_id}             sk CLAIM     (id -> key; first writer wins)
  rollup    pk rollup#{day}                       sk {HH}:{ten-minute slot}#{agent_id}   (counters, tokens)
  lease     pk ingest#{agent_id}                  sk LEASE     (one ingest request at a time per agent)
"""

import contextlib
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from decisions.schemas import RETENTION, Decision
from memsite import storage
from memsite.storage.codec import encode_item, format_timestamp
from memsite.storage.concurrency import parallel
from memsite.storage.tables import AGENT_DECISIONS

CLAIM = "CLAIM"


def _table() -> storage.Table:
    return storage.table(AGENT_DECISIONS)


def _day(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d")


def _expires_at(decision: Decision) -> int:
    return int((decision.timestamp + RETENTION).timestamp())


def sort_key(decision: Decision) -> str:
    return f"{format_timestamp(decision.timestamp)}#{decision.decision_id}"


def main_key(decision: Decision) -> dict[str, str]:
    return {"pk": f"agent:{decision.agent_id}#decision#{decision.type}", "sk": sort_key(decision)}


def claim_key(decision_id: str) -> dict[str, str]:
    return {"pk": f"decision#{decision_id}", "sk": CLAIM}


def content_hash(decision: Decision) -> str:
    """What makes two submissions of one decision_id 'the same': everything the agent sent."""
    sent = decision.model_dump(
        mode="json", include={"agent_id", "type", "timestamp", "cycle", "context", "reasoning", "links"}
    )
    sent["outcome"] = (
        decision.outcome.model_dump(mode="json", exclude={"reported_at", "reported_by"}) if decision.outcome else None
    )
    return hashlib.sha256(json.dumps(sent, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def outcome_index_keys(decision: Decision) -> dict[str, str]:
    return {
        "outcome_status": decision.outcome_status,
        "outcome_pk": f"outcome#{decision.outcome_status}#{_day(decision.timestamp)}",
        "outcome_sk": sort_key(decision),
    }


def _to_item(decision: Decision, *, digest: str | None = None) -> dict[str, Any]:
    sk = sort_key(decision)
    record = decision.model_dump(mode="python", exclude_none=True)
    return (
        main_key(decision)
        | record
        | outcome_index_keys(decision)
        | {
            "agent_pk": f"agent:{decision.agent_id}",
            "agent_sk": sk,
            "type_pk": f"type#{decision.type}#{_day(decision.timestamp)}",
            "type_sk": sk,
            "day_pk": f"day#{_day(decision.timestamp)}",
            "day_sk": sk,
        }
        # In the sparse STM index until consolidation folds it into long-term memory.
        | stm_keys(decision)
        | {
            "content_hash": digest or content_hash(decision),
            "expires_at": _expires_at(decision),
        }
    )


def stored_item(decision: Decision) -> dict[str, Any]:
    """The item the decision is stored as (decoded form): for tools that compare the write path
    with writing the same bytes directly (bench/)."""
    return _to_item(decision)


def stm_keys(decision: Decision) -> dict[str, str]:
    return {"stm_pk": f"stm#{decision.agent_id}", "stm_sk": sort_key(decision)}


# What a decision reads back as: its own fields, not the index keys stored beside them.
DECISION_ATTRIBUTES = tuple(Decision.model_fields)


def _from_item(item: dict[str, Any]) -> Decision:
    return Decision.model_validate({name: item[name] for name in Decision.model_fields if name in item})


@dataclass(frozen=True)
class Claim:
    decision_id: str
    key: dict[str, str]
    content_hash: str


def claim_item(decision: Decision, *, digest: str | None = None) -> dict[str, Any]:
    key = main_key(decision)
    return claim_key(decision.decision_id) | {
        "main_pk": key["pk"],
        "main_sk": key["sk"],
        "content_hash": digest or content_hash(decision),
        "expires_at": _expires_at(decision),
    }


def _claim_from_item(item: dict[str, Any]) -> Claim:
    return Claim(
        decision_id=item["pk"].removeprefix("decision#"),
        key={"pk": item["main_pk"], "sk": item["main_sk"]},
        content_hash=item["content_hash"],
    )


# The values an agent chooses freely (cycle: any size of integer); the rest of the item is ours.
_FREE_FORM = ("context", "reasoning", "outcome", "links", "cycle")


def item_check(decision: Decision) -> None:
    """Raise storage.InvalidValue (naming the value's path) if DynamoDB cannot store the decision."""
    record = decision.model_dump(mode="python", include=set(_FREE_FORM), exclude_none=True)
    encode_item(record)


def claims_find(decision_ids: list[str]) -> dict[str, Claim]:
    """The stored claims among `decision_ids`, by id (read consistently)."""
    items = _table().batch_get([claim_key(decision_id) for decision_id in decision_ids], consistent=True)
    return {claim.decision_id: claim for claim in map(_claim_from_item, items)}


def claim_find(decision_id: str) -> Claim | None:
    item = _table().find(claim_key(decision_id), consistent=True)
    return _claim_from_item(item) if item else None


def decisions_write(new: list[Decision], unfinished: list[Decision], *, deadline: float | None) -> None:
    """Write the `new` decisions' id claims, then their items and those of `unfinished` ones
    (claimed by an attempt that died before writing them). Claims go first, so no item is ever
    stored without its claim (a retry would take it for new and write it again). The writes are
    unconditional: only the holder of the agent's ingest lease may call this, and no request
    starts after `deadline` (well before the lease ends), so no late writer can overwrite an item
    that a retry stored and an outcome or consolidation changed since."""
    digests = {d.decision_id: content_hash(d) for d in new + unfinished}
    if new:
        _table().batch_write([claim_item(d, digest=digests[d.decision_id]) for d in new], deadline=deadline)
    items = [_to_item(d, digest=digests[d.decision_id]) for d in new + unfinished]
    if items:
        _table().batch_write(items, deadline=deadline)


def _ingest_lease_key(agent_id: str) -> dict[str, str]:
    return {"pk": f"ingest#{agent_id}", "sk": "LEASE"}


def ingest_lease_take(agent_id: str, *, owner: str, seconds: int) -> bool:
    return _table().lease_take(_ingest_lease_key(agent_id), owner=owner, seconds=seconds)


def ingest_lease_release(agent_id: str, *, owner: str) -> None:
    _table().lease_release(_ingest_lease_key(agent_id), owner=owner)


def decisions_find(keys: list[dict[str, str]]) -> list[Decision]:
    return [_from_item(item) for item in _table().batch_get(keys, consistent=True)] if keys else []


def decision_find(key: dict[str, str]) -> Decision | None:
    item = _table().find(key, consistent=True)
    return _from_item(item) if item else None


def decision_update_outcome(decision: Decision, *, expected_version: int) -> Decision:
    """Store `decision`'s outcome and history if the stored version is still `expected_version`."""
    # A new or corrected outcome is news for long-term memory: the decision (re-)enters the STM
    # index, so the next consolidation counts it (and takes back what it counted before).
    changes = (
        outcome_index_keys(decision)
        | stm_keys(decision)
        | {
            "outcome": decision.outcome.model_dump(mode="python", exclude_none=True) if decision.outcome else None,
            "outcome_history": [
                change.model_dump(mode="python", exclude_none=True) for change in decision.outcome_history
            ],
        }
    )
    item = _table().update_versioned(main_key(decision), changes, expected_version=expected_version)
    return _from_item(item)


def decisions_query(
    partitions: list[str],
    *,
    index: str | None,
    sort: storage.SortCondition,
    limit: int,
    cursor: str | None,
    where: dict[str, str] | None,
) -> tuple[list[Decision], str | None]:
    page = _table().query_partitions(
        partitions, index=index, sort=sort, limit=limit, cursor=cursor, where=where, attributes=DECISION_ATTRIBUTES
    )
    return [_from_item(item) for item in page.items], page.next_cursor


# Short-term memory: the sparse stm index is consolidation's queue.


@dataclass(frozen=True)
class Learned:
    """What consolidation last counted for a decision: the decision version whose outcome it
    counted and each contribution, so a corrected outcome can be taken back exactly."""

    version: int
    contributions: dict[str, Any]


@dataclass(frozen=True)
class StmEntry:
    decision: Decision
    learned: Learned | None


def stm_page(agent_id: str, *, limit: int, cursor: str | None) -> tuple[list[StmEntry], str | None]:
    """Oldest first: one page of the agent's decisions still in short-term memory. The index only
    says where to look: it is read eventually consistently, so it may still show a decision that
    was settled a moment ago. What is returned is each item as it stands, read consistently from
    the table, and only the items still in the index."""
    page = _table().query_page(f"stm#{agent_id}", index="stm", limit=limit, cursor=cursor, newest_first=False)
    order = {item["sk"]: position for position, item in enumerate(page.items)}
    keys = [{"pk": item["pk"], "sk": item["sk"]} for item in page.items]
    fresh = sorted(
        (item for item in (_table().batch_get(keys, consistent=True) if keys else []) if "stm_pk" in item),
        key=lambda item: order[item["sk"]],
    )
    entries = []
    for item in fresh:
        learned = item.get("learned")
        entries.append(
            StmEntry(
                decision=_from_item(item),
                learned=Learned(version=learned["version"], contributions=learned["contributions"])
                if learned
                else None,
            )
        )
    return entries, page.next_cursor


def stm_settle(key: dict[str, str], *, version: int, learned: dict[str, Any] | None, release: bool, batch: int) -> bool:
    """Record what batch `batch` counted for the decision at `key` (unless a later batch has
    recorded its own already) and, with `release`, take it out of the STM index; returns whether it
    left. The release holds only if the decision is still at the `version` that was read: an
    outcome reported meanwhile keeps it in the index for the next run."""
    record = {"learned": learned | {"batch": batch}} if learned else {}
    later_batch = {"learned.batch": batch + 1} if learned else None  # this batch again: a retry
    if release:
        try:
            _table().update_fields(
                key, record | {"stm_pk": None, "stm_sk": None}, expected_version=version, below=later_batch
            )
            return True
        except storage.Conflict:
            pass  # changed, expired, or already settled by a later batch
    if record:
        with contextlib.suppress(storage.Conflict):  # expired, or a later batch recorded its own
            _table().update_fields(key, record, below=later_batch)
    return False


# Rollups: counters per agent and ten minutes, kept on every write, so charts never read decisions.


def rollup_key(agent_id: str, moment: datetime) -> dict[str, str]:
    """One row per agent and ten minutes: the row's set of applied tokens grows with the
    decisions of those ten minutes only, far below the 400 KB item limit."""
    moment = moment.astimezone(UTC)
    return {"pk": f"rollup#{_day(moment)}", "sk": f"{moment:%H}:{moment.minute // 10}#{agent_id}"}


@dataclass(frozen=True)
class RollupChange:
    """What one write adds to its agent's ten-minute row; `token` makes it count once."""

    agent_id: str
    moment: datetime
    counters: dict[str, int]
    token: str


def rollups_apply(changes: list[RollupChange]) -> None:
    """One atomic ADD per agent and ten minutes for the whole batch; when part of it was applied before
    (a retried batch), each change is applied alone so only the missing ones count."""
    groups: dict[tuple[str, str], list[RollupChange]] = defaultdict(list)
    for change in changes:
        key = rollup_key(change.agent_id, change.moment)
        groups[(key["pk"], key["sk"])].append(change)
    parallel(_rollup_group_add, list(groups.values()))


def _rollup_group_add(group: list[RollupChange]) -> None:
    if not _rollup_add(group) and len(group) > 1:
        for change in group:
            _rollup_add([change])


def _rollup_add(changes: list[RollupChange]) -> bool:
    first = changes[0]
    counters: dict[str, int] = defaultdict(int)
    for change in changes:
        for name, amount in change.counters.items():
            counters[name] += amount
    defaults = {
        "agent_id": first.agent_id,
        "hour": f"{first.moment.astimezone(UTC):%Y-%m-%dT%H}",
        "expires_at": int((first.moment + RETENTION).timestamp()),
    }
    key = rollup_key(first.agent_id, first.moment)
    return _table().add_once(key, dict(counters), tokens=[c.token for c in changes], defaults=defaults)


def rollup_rows(day: str, first_hour: str, last_hour: str) -> list[dict[str, Any]]:
    """Every agent's counters of one day, hours first_hour..last_hour ("00".."23")."""
    sort = storage.SortCondition.between(f"{first_hour}:", f"{last_hour}:~")
    rows = _table().query_all(f"rollup#{day}", sort=sort, newest_first=False, limit=1000)
    return [{k: v for k, v in row.items() if k not in ("pk", "sk", "applied", "expires_at")} for row in rows]
