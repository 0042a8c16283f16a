"""What the signal bus writes, and where: the storage calls and units of a publish, an inbox read
and an acknowledgement (counted with the storage meter, so a regression fails), the items' layout,
and flow counting that survives a publish failing half-way."""

from datetime import UTC, datetime

import pytest
from ulid import ULID

from memsite import storage
from memsite.storage.capacity import WRITE_OPERATIONS
from memsite.storage.tables import AGENT_SIGNALS
from signals import repository, selectors
from signals.schemas import Signal

URL = "/api/v1/signals/"


@pytest.fixture
def team(as_agent, unique):
    """A hunter and two targets of a fresh team (inboxes start empty)."""
    suffix = unique[-6:].lower()
    names = {role: f"{role}-{suffix}" for role in ("hunter", "risk", "trader")}
    return {role: (name, as_agent(name)) for role, name in names.items()}


def publish(client, targets, **fields):
    body = {"type": "WHALE_ACTIVITY", "confidence": 0.85, "payload": {"size_btc": 1200}, "target_agents": targets}
    response = client.post(URL, body | fields, format="json")
    assert response.status_code in (200, 201), response.content
    return response.json()


def metered(action):
    """(storage calls per operation, write units on agent_signals) that `action` made."""
    before = storage.meter().snapshot()
    action()
    used = storage.meter().snapshot().minus(before)
    signals_table = used.tables.get(storage.table(AGENT_SIGNALS).name)
    calls = {operation: n for operation, n in used.operations.items() if n}
    return calls, signals_table.write_units if signals_table else 0.0


def writes(calls: dict[str, int]) -> dict[str, int]:
    return {operation: n for operation, n in calls.items() if operation in WRITE_OPERATIONS}


def test_a_publish_to_two_targets_writes_the_signal_two_inbox_items_and_one_flow_row(team):
    _hunter, hunter_client = team["hunter"]
    targets = [team["risk"][0], team["trader"][0]]

    first_calls, first_units = metered(lambda: publish(hunter_client, targets))
    second_calls, second_units = metered(lambda: publish(hunter_client, targets))

    # dynalite reports base-table units: each item under 1 KB is one unit (AWS adds the signal's
    # by_day entry and each inbox item's by_target entry).
    assert writes(first_calls) == writes(second_calls) == {"PutItem": 3, "UpdateItem": 1}
    assert first_units == second_units == 4.0


def test_reading_the_inbox_and_acknowledging_write_the_inbox_item_once_each(team):
    _hunter, hunter_client = team["hunter"]
    risk, risk_client = team["risk"]
    signal_id = publish(hunter_client, [risk, team["trader"][0]])["signal_id"]

    read_calls, read_units = metered(lambda: risk_client.get(f"{URL}inbox/"))
    again_calls, again_units = metered(lambda: risk_client.get(f"{URL}inbox/"))
    ack_calls, ack_units = metered(lambda: risk_client.post(f"{URL}ack/", {"signal_ids": [signal_id]}, format="json"))

    assert read_calls == {"Query": 1, "UpdateItem": 1}  # the first delivery
    assert again_calls == {"Query": 1}  # delivered already: nothing to write
    assert ack_calls == {"Query": 1, "UpdateItem": 1}
    assert (read_units, again_units, ack_units) == (1.0, 0.0, 1.0)


def test_deliveries_live_on_the_inbox_items_only(team):
    _hunter, hunter_client = team["hunter"]
    risk, risk_client = team["risk"]
    signal = Signal.model_validate(publish(hunter_client, [risk]))
    risk_client.get(f"{URL}inbox/")
    risk_client.post(f"{URL}ack/", {"signal_ids": [signal.signal_id]}, format="json")

    table = storage.table(AGENT_SIGNALS)
    key = {"pk": f"signal#{signal.type}", "sk": repository._sort_key(signal.signal_id)}
    signal_item, inbox_item = table.get(key), table.get(key | {"sk": f"{key['sk']}#to#{risk}"})

    assert "deliveries" not in signal_item
    assert "target_pk" not in inbox_item  # acknowledged: out of the inbox index
    shown = selectors.signal_get(signal_id=signal.signal_id).deliveries[risk]
    assert (shown.delivered_at, shown.acked_at) == (
        datetime.fromisoformat(inbox_item["delivered_at"]),
        datetime.fromisoformat(inbox_item["acked_at"]),
    )


def test_a_feed_page_reads_deliveries_with_one_query_per_signal_type(own_tables, as_agent, unique):
    suffix = unique[-6:].lower()
    hunter, risk, trader = (f"{role}-{suffix}" for role in ("hunter", "risk", "trader"))
    hunter_client, risk_client = as_agent(hunter), as_agent(risk)
    as_agent(trader)
    for _ in range(3):
        publish(hunter_client, [risk, trader])
    publish(hunter_client, [risk], type="VOLUME_SPIKE")
    publish(risk_client, [trader], type="RISK_ASSESSMENT")
    risk_client.get(f"{URL}inbox/")

    feed: list[Signal] = []
    calls, _ = metered(lambda: feed.extend(selectors.signal_feed()))

    # today's and yesterday's signals (today has fewer than a page), then one Query per type
    assert calls == {"Query": 2 + 3}
    assert len(feed) == 5
    assert all(s.deliveries[risk].delivered_at for s in feed if risk in s.target_agents)
    assert not any(s.deliveries[trader].delivered_at for s in feed if trader in s.target_agents)


@pytest.mark.parametrize("counted_first", [False, True], ids=["before counting", "after counting"])
def test_a_publish_that_failed_half_way_is_counted_once_by_its_retry(team, monkeypatch, counted_first):
    """DynamoDB gave up (503) after the signal was stored: before the flow was counted, or after
    (its reply lost). The retry finds the signal stored either way, and counts what is missing."""
    hunter, hunter_client = team["hunter"]
    risk, trader = team["risk"][0], team["trader"][0]
    count = repository.flows_add

    def failing(signal: Signal) -> None:
        monkeypatch.setattr(repository, "flows_add", count)  # the next attempt gets through
        if counted_first:
            count(signal)
        raise storage.Unavailable("injected: throttled past the retries")

    monkeypatch.setattr(repository, "flows_add", failing)
    signal_id = str(ULID())
    body = {"type": "WHALE_ACTIVITY", "confidence": 0.85, "target_agents": [risk, trader], "signal_id": signal_id}

    failed = hunter_client.post(URL, body, format="json")
    retried = hunter_client.post(URL, body, format="json")
    again = hunter_client.post(URL, body, format="json")

    assert (failed.status_code, retried.status_code, again.status_code) == (503, 200, 200)
    flows = selectors.signal_flows()
    assert (flows[(hunter, "WHALE_ACTIVITY", risk)], flows[(hunter, "WHALE_ACTIVITY", trader)]) == (1, 1)


def test_one_flow_row_counts_every_target_of_a_source_and_type_in_the_hour(team):
    hunter, hunter_client = team["hunter"]
    risk, trader = team["risk"][0], team["trader"][0]
    publish(hunter_client, [risk, trader])
    publish(hunter_client, [risk])

    rows = [
        row
        for row in storage.table(AGENT_SIGNALS).query_all(f"flow#{datetime.now(UTC):%Y-%m-%d}", limit=1000)
        if row["source"] == hunter
    ]

    assert len(rows) in (1, 2)  # two when the publishes straddle an hour
    assert sum(row.get(f"n_{risk}", 0) for row in rows) == 2
    assert sum(row.get(f"n_{trader}", 0) for row in rows) == 1


def test_flow_rows_of_the_earlier_layout_are_still_counted(unique):
    """Rows counted before the change (one per target) stay for FLOW_RETENTION."""
    source, target, day = f"old-{unique[-6:].lower()}", f"t-{unique[-6:].lower()}", "2026-01-15"
    storage.table(AGENT_SIGNALS).put(
        {
            "pk": f"flow#{day}",
            "sk": f"{source}#WHALE_ACTIVITY#{target}#09",
            "source": source,
            "type": "WHALE_ACTIVITY",
            "target": target,
            "count": 4,
            "applied": {str(ULID()) for _ in range(4)},
        }
    )

    mine = [flow for flow in repository.flows(day) if flow["source"] == source]

    assert mine == [{"source": source, "type": "WHALE_ACTIVITY", "target": target, "count": 4, "hour": "09"}]
