"""agent_signals items. The mappers here are the only place that knows their layout.

  signal  pk signal#{type}  sk {timestamp}#{signal_id}             day_pk day#{day} (feed, lookup by id)
  inbox   pk signal#{type}  sk {timestamp}#{signal_id}#to#{agent}  target_pk inbox#{agent} until acknowledged;
                                                                   delivered_at, acked_at
  flow    pk flow#{day}     sk {source}#{type}#{hour}              n_{target} counters for the Sankey

A signal's timestamp is the time in its ULID, so its id alone gives its day and sort key: ack
and lookups by id are exact index Queries. A signal's delivery and acknowledgement per target live
on its inbox items only, which sort right after it in its partition: written once each, and read
with the signal in one more Query.
"""

import contextlib
import hashlib
import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from ulid import ULID

from memsite import storage
from memsite.storage.codec import format_timestamp
from memsite.storage.concurrency import parallel
from memsite.storage.tables import AGENT_SIGNALS, TTL_ATTRIBUTE
from signals.schemas import MAX_TTL_SECONDS, Delivery, InboxSignal, Signal

FLOW_RETENTION = timedelta(days=30)
FLOW_COUNTER = "n_"  # a flow row's counter of one target: n_{target}


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
    # No deliveries: they are on the inbox items, so a delivery or an ack is one write, not two.
    record = signal.model_dump(mode="python", exclude_none=True, exclude={"expires_at", "deliveries"})
    return record | {
        "pk": f"signal#{signal.type}",
        "sk": sk,
        "day_pk": f"day#{_day(signal.signal_id)}",
        "day_sk": sk,
        "content_hash": content_hash(signal),
        TTL_ATTRIBUTE: int(signal.expires_at.timestamp()),
    }


def _signal_from(item: dict[str, Any]) -> Signal:
    # Signal items written before deliveries moved to the inbox items still carry a stale map.
    stored = set(Signal.model_fields) - {"expires_at", "deliveries"}
    fields = {name: item[name] for name in stored if name in item}
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
    """Count the signal once for each of its targets: one write, on the row of its source, type
    and hour (ADD n_{target} 1 for every target), whatever the number of targets.

    Guarantee: each stored signal is counted exactly once, however often its publish is retried
    and wherever an earlier attempt stopped. The row keeps the ids of the signals it counted, in
    the same write as the counts, so a retry finds its id and adds nothing. Counting only when the
    signal item was created by this attempt would need no ids, but would lose the count of a
    publish that stored the signal and then failed (DynamoDB throttled past the retries: a 503
    the client retries): its retry finds the signal stored, as after a complete publish, and
    nothing but a record written together with the count tells the two apart.

    The price is that record: a row holds the ids of one hour of one source's signals of one
    type (26 bytes each; about 30 fit in the row's first write unit, each further 40 or so cost
    one more), never every target's or every hour's."""
    hour = ULID.from_str(signal.signal_id).datetime.strftime("%H")
    key = {"pk": f"flow#{_day(signal.signal_id)}", "sk": f"{signal.source_agent}#{signal.type}#{hour}"}
    counters = {f"{FLOW_COUNTER}{target}": 1 for target in signal.target_agents}
    expires = int((signal.created_at + FLOW_RETENTION).timestamp())
    defaults = {"source": signal.source_agent, "type": signal.type, TTL_ATTRIBUTE: expires}
    _table().add_once(key, counters, tokens=[signal.signal_id], defaults=defaults)


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


def _inbox_key(signal: InboxSignal, agent_id: str) -> dict[str, str]:
    return {"pk": f"signal#{signal.type}", "sk": f"{_sort_key(signal.signal_id)}#to#{agent_id}"}


def mark_delivered(agent_id: str, signals: list[InboxSignal], at: datetime) -> None:
    """First delivery of each, on its inbox item: one write per signal (the sender's pages read
    it there too)."""
    stamp = format_timestamp(at)

    def mark(signal: InboxSignal) -> None:
        # if_not_exists: two reads at once must not move the first delivery's time.
        _table().update_fields(_inbox_key(signal, agent_id), {}, keep_existing={"delivered_at": stamp})

    parallel(mark, [s for s in signals if s.delivered_at is None])


def acknowledge(agent_id: str, signal_id: str, at: datetime) -> bool:
    """Take the signal out of the agent's inbox; False if it is not there (unknown, expired,
    or acknowledged before). One write, on the inbox item, which keeps when."""
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
    return True


def with_deliveries(signals: list[Signal]) -> list[Signal]:
    """The signals with each target's delivered_at and acked_at, from their inbox items.

    One Query per signal type and day among them, in parallel: the partition signal#{type} from
    the oldest of those signals' inbox items to the newest's. A signal's inbox items sort right
    after it, so for one signal that is exactly its inbox items. For a page of the feed, which
    holds a day's newest signals, the span holds that page's signals of the type and little else:
    expired ones the page left out, or one published meanwhile with an older id. Only a span
    with over 1 MB of items (DynamoDB's page) takes a second call."""
    groups: dict[tuple[str, str], list[Signal]] = defaultdict(list)
    for signal in signals:
        groups[(signal.type, _day(signal.signal_id))].append(signal)
    found: dict[tuple[str, str], Delivery] = {}
    for states in parallel(_delivery_states, list(groups.values())):
        found |= states
    return [
        signal.model_copy(
            update={"deliveries": {t: found.get((signal.signal_id, t), Delivery()) for t in signal.target_agents}}
        )
        for signal in signals
    ]


def _delivery_states(signals: list[Signal]) -> dict[tuple[str, str], Delivery]:
    """(signal_id, target) -> Delivery, for the inbox items of these signals of one type."""
    keys = sorted(_sort_key(signal.signal_id) for signal in signals)
    # From the first one's inbox items ("#to#" sorts after the signal itself) to the last one's:
    # "$" sorts right after "#", so past every "{key}#to#{agent}".
    span = storage.SortCondition.between(f"{keys[0]}#to#", f"{keys[-1]}$")
    items = _table().query_all(
        f"signal#{signals[0].type}",
        sort=span,
        newest_first=False,
        limit=1000,
        attributes=("signal_id", "target", "delivered_at", "acked_at"),
    )
    return {
        (item["signal_id"], item["target"]): Delivery.model_validate(item)
        for item in items
        if "target" in item  # an inbox item, not a signal in the span
    }


def flows(day: str) -> list[dict[str, Any]]:
    """Every (source, type, target, count, hour) counted on the day, one per target of a row."""
    rows = _table().query_all(f"flow#{day}", newest_first=False, limit=1000)
    return [flow for row in rows for flow in _flows_of(row)]


def _flows_of(row: dict[str, Any]) -> list[dict[str, Any]]:
    flow, hour = {"source": row["source"], "type": row["type"]}, row["sk"][-2:]
    if "target" in row:
        # A row of the earlier layout, one per target ({source}#{type}#{target}#{hour}, with a
        # count): kept by flows counted before the change, until they expire (FLOW_RETENTION).
        return [flow | {"target": row["target"], "count": row["count"], "hour": hour}]
    return [
        flow | {"target": name.removeprefix(FLOW_COUNTER), "count": count, "hour": hour}
        for name, count in row.items()
        if name.startswith(FLOW_COUNTER)
    ]
