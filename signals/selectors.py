"""Reads of the signal bus: one signal with its deliveries, the recent feed, and the flows
(source agent -> signal type -> target agent) behind the Sankey."""

from collections import Counter
from datetime import UTC, datetime, timedelta

from decisions.schemas import ulid_validate
from memsite.errors import DoesNotExist
from signals import repository
from signals.schemas import Signal


def signal_get(*, signal_id: str) -> Signal:
    try:
        signal_id = ulid_validate(signal_id, "signal_id")
    except ValueError:
        raise DoesNotExist(f"no signal {signal_id[:40]!r}: a signal id is a ULID") from None
    signal = repository.signal_find(signal_id)
    if signal is None:
        raise DoesNotExist(f"no signal {signal_id} (or it expired)")
    return repository.with_deliveries([signal])[0]


def signal_feed(*, limit: int = 30) -> list[Signal]:
    """The latest signals, newest first: today's, then yesterday's if today has too few. With
    their deliveries: a Query per day and one per signal type and day shown (see
    repository.with_deliveries)."""
    today = datetime.now(UTC).date()
    signals = repository.signals_recent(today.isoformat(), limit)
    if len(signals) < limit:
        signals += repository.signals_recent((today - timedelta(days=1)).isoformat(), limit - len(signals))
    return repository.with_deliveries(signals)


def signal_flows(*, days: int = 1, now: datetime | None = None) -> Counter:
    """(source, type, target) -> number of signals in the last `days` times 24 hours, to the hour:
    the day buckets from `days` days ago to today, the oldest one from this hour on."""
    now = now or datetime.now(UTC)
    first_day, first_hour = (now - timedelta(days=days)).date(), f"{now:%H}"
    totals: Counter = Counter()
    for back in range(days + 1):
        day = now.date() - timedelta(days=back)
        for row in repository.flows(day.isoformat()):
            if day == first_day and row["hour"] < first_hour:
                continue
            totals[(row["source"], row["type"], row["target"])] += row["count"]
    return totals
