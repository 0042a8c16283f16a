"""agent_signals items. The mappers here are the only place that knows their layout.

  signal  pk signal#{type}  sk {timestamp}#{signal_id}             day_pk day#{day} (feed, lookup by id)
  inbox   pk signal#{type}  sk {timestamp}#{signal_id}#to#{agent}  target_pk inbox#{agent} until acknowledged
  flow    pk flow#{day}     sk {source}#{type}#{target}#{hour}     counters for the Sankey, once per signal

A signal's timestamp is the time in its ULID, so its id alone gives its day and sort key: ack
and lookups by id are exact index Queries.
"""

import contextlib
import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from ulid import ULID

from memsite import storage
from memsite.storage.codec import format_timestamp
from memsite.storage.concurrency import parallel
from memsite.storage.tables import AGENT_SIGNALS, TTL_ATTRIBUTE
from signals.schemas import MAX_TTL_SECONDS, InboxSignal, Signal

FLOW_RETENTION = timedelta(days=30)


def _table() -> storage.Table:
    return storage.table(AGENT_SIGNALS)


def _sort_key(signal_id: str) -> str:
    return f"{format_timestamp(ULID.from_str(signal_id).datetime)}#{signal_id}"


def _day(signal_id: str) -> str:
    return ULID.from_str(signal_id).datetime.strftime("%Y-%m-%d")


def content_hash(signal: Signal) -> str:
    sent = signal.model_dump(
        mode="json",
        include={"type", "source_agent", "confidence", "payload", "target_agents", "decision_id", "expires_at"},
    )
    return hashlib.sha256(json.dumps(sent, sort_keys=True).encode()).hexdigest()


def _signal_item(signal: Signal) -> dict[str, Any]:
    sk = _sort_key(signal.signal_id)
    record = signal.model_dump(mode="python", exclude_none=True, exclude={"expires_at"})
    return record | {
        "pk": f"signal#{signal.type}",
        "sk": sk,
        "day_pk": f"day#{_day(signal.signal_id)}",
        "day_sk": sk,
        "content_hash": content_hash(signal),
        TTL_ATTRIBUTE: int(signal.expires_at.timestamp()),
    }


def _signal_from(item: dict[str, Any]) -> Signal:
    fields = {name: item[name] for name in Signal.model_fields if name in item and name != "expires_at"}
    return Signal.model_validate(fields | {"expires_at": datetime.fromtimestamp(item[TTL_ATTRIBUTE], UTC)})


def _inbox_item(signal: Signal, target: str) -> dict[str, Any]:
    sk = _sort_key(signal.signal_id)
    return {
        "pk": f"signal#{signal.type}",
        "sk": f"{sk}#to#{target}",
        "target_pk": f"inbox#{target}",
        "target_sk": sk,
        "target": target,
        "signal_id": signal.signal_id,
        "type": signal.type,
        "source_agent": signal.source_agent,
        "confidence": signal.confidence,
        "payload": signal.payload,
        "decision_id": signal.decision_id,
        "created_at": signal.created_at,
        TTL_ATTRIBUTE: int(signal.expires_at.timestamp()),
    }


def _inbox_from(item: dict[str, Any]) -> InboxSignal:
    fields = {name: item[name] for name in InboxSignal.model_fields if name in item and name != "expires_at"}
    return InboxSignal.model_validate(fields | {"expires_at": datetime.fromtimestamp(item[TTL_ATTRIBUTE], UTC)})


def item_check(signal: Signal) -> None:
    """storage.InvalidValue (naming the path) if DynamoDB cannot store the signal."""
    # The payload first: nesting too deep for DynamoDB is refused here, by path, before the
    # content hash's JSON dump fails on it ("Maximum serialization depth exceeded": a 500).
    storage.codec.encode_value(signal.payload, "payload")
    storage.codec.encode_item(_signal_item(signal))


def signal_put_new(signal: Signal) -> Signal | None:
    """None when stored now; else the signal already stored under this id (maybe other content)."""
    existing = _table().put_new_or_existing(_signal_item(signal))
    return None if existing is None else _signal_from(existing)


def same_content(stored: Signal, signal: Signal) -> bool:
    return content_hash(stored) == content_hash(signal)


def inbox_put_new(signal: Signal) -> None:
    """One inbox item per target, each written once (a retry finds them and moves on)."""

    def put(target: str) -> None:
        # A Conflict: written by an earlier attempt, perhaps acknowledged since; leave it be.
        with contextlib.suppress(storage.Conflict):
            _table().put_new(_inbox_item(signal, target))

    parallel(put, signal.target_agents)


def flows_add(signal: Signal) -> None:
    day = _day(signal.signal_id)
    expires = int((signal.created_at + FLOW_RETENTION).timestamp())

    hour = ULID.from_str(signal.signal_id).datetime.strftime("%H")

    def add(target: str) -> None:
        # One row per flow and hour keeps each row's set of counted signal ids small.
        key = {"pk": f"flow#{day}", "sk": f"{signal.source_agent}#{signal.type}#{target}#{hour}"}
        defaults = {"source": signal.source_agent, "type": signal.type, "target": target, TTL_ATTRIBUTE: expires}
        _table().add_once(key, {"count": 1}, tokens=[signal.signal_id], defaults=defaults)

    parallel(add, signal.target_agents)


def signal_find(signal_id: str) -> Signal | None:
    page = _table().query_page(
        f"day#{_day(signal_id)}", index="by_day", sort=storage.SortCondition("eq", (_sort_key(signal_id),)), limit=1
    )
    return _signal_from(page.items[0]) if page.items else None


def signals_recent(day: str, limit: int) -> list[Signal]:
    page = _table().query_page(f"day#{day}", index="by_day", limit=limit)
    return [_signal_from(item) for item in page.items]


def inbox_page(agent_id: str, *, limit: int, cursor: str | None) -> tuple[list[InboxSignal], str | None]:
    # Only signals young enough to be alive: expired, unacknowledged inbox items stay in the index
    # until DynamoDB deletes them (days later, or never on dynalite), and as the oldest they would
    # fill a page that the expiry filter then empties, hiding the live signals behind them.
    oldest_alive = datetime.now(UTC) - timedelta(seconds=MAX_TTL_SECONDS + 1)
    alive = storage.SortCondition("gt", (format_timestamp(oldest_alive),), moving=True)
    # Shorter-lived signals that expired unacknowledged are skipped by topping the page up.
    page = _table().query_page(
        f"inbox#{agent_id}", index="by_target", sort=alive, newest_first=False, limit=limit, cursor=cursor, max_calls=5
    )
    return [_inbox_from(item) for item in page.items], page.next_cursor


def _inbox_key(signal: InboxSignal | Signal, agent_id: str) -> dict[str, str]:
    return {"pk": f"signal#{signal.type}", "sk": f"{_sort_key(signal.signal_id)}#to#{agent_id}"}


def mark_delivered(agent_id: str, signals: list[InboxSignal], at: datetime) -> None:
    """First delivery of each: on the inbox item and in the signal's per-target deliveries."""
    stamp = format_timestamp(at)

    def mark(signal: InboxSignal) -> None:
        # if_not_exists: two reads at once must not move the first delivery's time.
        _table().update_fields(_inbox_key(signal, agent_id), {}, keep_existing={"delivered_at": stamp})
        signal_key = {"pk": f"signal#{signal.type}", "sk": _sort_key(signal.signal_id)}
        # NotFound: the signal item expired and was deleted; the inbox item still carries the fact.
        with contextlib.suppress(storage.NotFound):
            _table().update_fields(signal_key, {}, keep_existing={f"deliveries.{agent_id}.delivered_at": stamp})

    parallel(mark, [s for s in signals if s.delivered_at is None])


def acknowledge(agent_id: str, signal_id: str, at: datetime) -> bool:
    """Take the signal out of the agent's inbox; False if it is not there (unknown, expired,
    or acknowledged before)."""
    page = _table().query_page(
        f"inbox#{agent_id}", index="by_target", sort=storage.SortCondition("eq", (_sort_key(signal_id),)), limit=1
    )
    if not page.items:
        return False
    inbox = _inbox_from(page.items[0])
    stamp = format_timestamp(at)
    changes = {"target_pk": None, "target_sk": None}
    first = {"acked_at": stamp, "delivered_at": stamp}  # an ack also counts as delivery, if none came before
    _table().update_fields(_inbox_key(inbox, agent_id), changes, keep_existing=first)
    delivery = {f"deliveries.{agent_id}.{name}": value for name, value in first.items()}
    with contextlib.suppress(storage.NotFound):  # as in mark_delivered
        _table().update_fields({"pk": f"signal#{inbox.type}", "sk": _sort_key(signal_id)}, {}, keep_existing=delivery)
    return True


def flows(day: str) -> list[dict[str, Any]]:
    rows = _table().query_all(f"flow#{day}", newest_first=False, limit=1000)
    return [{k: row[k] for k in ("source", "type", "target", "count")} | {"hour": row["sk"][-2:]} for row in rows]
