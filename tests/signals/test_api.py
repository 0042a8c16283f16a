"""The signal bus over HTTP: publish, fan-out, inbox, ack, idempotency, expiry."""

import time

import pytest
from ulid import ULID

from signals import selectors

URL = "/api/v1/signals/"


@pytest.fixture
def team(as_agent, unique):
    """Three agents of a fresh team: names end in this test's id so inboxes start empty."""
    suffix = unique[-6:].lower()
    names = {role: f"{role}-{suffix}" for role in ("market-hunter", "risk-manager", "trade-executor")}
    return {role: (name, as_agent(name)) for role, name in names.items()}


def publish(client, targets, **fields):
    body = {"type": "WHALE_ACTIVITY", "confidence": 0.85, "payload": {"size_btc": 1200}, "target_agents": targets}
    return client.post(URL, body | fields, format="json")


def inbox(client, **params):
    return client.get(f"{URL}inbox/", params).json()


def test_the_users_example_works_over_http(team):
    hunter, hunter_client = team["market-hunter"]
    risk, risk_client = team["risk-manager"]
    trader, trader_client = team["trade-executor"]

    whale = publish(hunter_client, [risk, trader])
    assert whale.status_code == 201

    risk_signals = inbox(risk_client)["results"]
    assert [(s["type"], s["confidence"], s["source_agent"]) for s in risk_signals] == [("WHALE_ACTIVITY", 0.85, hunter)]
    assessment = publish(risk_client, [trader], type="RISK_ASSESSMENT", confidence=0.6, payload={"risk": "medium"})
    assert assessment.status_code == 201

    trader_signals = inbox(trader_client)["results"]
    assert [s["type"] for s in trader_signals] == ["WHALE_ACTIVITY", "RISK_ASSESSMENT"]  # oldest first
    assert inbox(hunter_client)["results"] == []


def test_acknowledged_signals_leave_the_inbox_and_the_sender_sees_when(team):
    _hunter, hunter_client = team["market-hunter"]
    risk, risk_client = team["risk-manager"]
    trader, _ = team["trade-executor"]
    signal_id = publish(hunter_client, [risk, trader]).json()["signal_id"]
    delivered_at = inbox(risk_client)["results"][0]["delivered_at"]

    acked = risk_client.post(f"{URL}ack/", {"signal_ids": [signal_id, str(ULID())]}, format="json")

    assert acked.json()["results"] == [
        {"signal_id": signal_id, "status": "acknowledged"},
        {"signal_id": acked.json()["results"][1]["signal_id"], "status": "not_in_inbox"},
    ]
    assert inbox(risk_client)["results"] == []
    deliveries = hunter_client.get(f"{URL}{signal_id}/").json()["deliveries"]
    assert deliveries[risk]["delivered_at"] == delivered_at
    assert deliveries[risk]["acked_at"] >= delivered_at
    assert deliveries[trader] == {"delivered_at": None, "acked_at": None}


def test_a_retried_publish_answers_with_the_deliveries_as_they_stand(team):
    _hunter, hunter_client = team["market-hunter"]
    risk, risk_client = team["risk-manager"]
    trader, _ = team["trade-executor"]
    signal_id = str(ULID())
    first = publish(hunter_client, [risk, trader], signal_id=signal_id)
    delivered_at = inbox(risk_client)["results"][0]["delivered_at"]

    again = publish(hunter_client, [risk, trader], signal_id=signal_id)

    assert first.json()["deliveries"] == {target: {"delivered_at": None, "acked_at": None} for target in (risk, trader)}
    assert again.status_code == 200
    assert again.json()["deliveries"] == {
        risk: {"delivered_at": delivered_at, "acked_at": None},
        trader: {"delivered_at": None, "acked_at": None},
    }


def test_until_acknowledged_a_signal_is_delivered_again(team):
    _hunter, hunter_client = team["market-hunter"]
    risk, risk_client = team["risk-manager"]
    publish(hunter_client, [risk])

    first, second = inbox(risk_client)["results"], inbox(risk_client)["results"]

    assert [s["signal_id"] for s in first] == [s["signal_id"] for s in second]
    assert first[0]["delivered_at"] == second[0]["delivered_at"]


def test_a_retried_publish_fans_out_once_and_a_reused_id_is_a_conflict(team):
    hunter, hunter_client = team["market-hunter"]
    risk, risk_client = team["risk-manager"]
    signal_id = str(ULID())

    first = publish(hunter_client, [risk], signal_id=signal_id)
    again = publish(hunter_client, [risk], signal_id=signal_id)
    other = publish(hunter_client, [risk], signal_id=signal_id, confidence=0.1)

    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 409)
    assert [s["signal_id"] for s in inbox(risk_client)["results"]] == [signal_id]
    assert selectors.signal_flows()[(hunter, "WHALE_ACTIVITY", risk)] == 1


def test_the_inbox_pages_with_a_cursor_oldest_first(team):
    """Signals of the same millisecond may come in either order; each comes exactly once."""
    _hunter, hunter_client = team["market-hunter"]
    risk, risk_client = team["risk-manager"]
    sent = [publish(hunter_client, [risk], payload={"n": n}).json()["signal_id"] for n in range(7)]

    seen, cursor = [], None
    while True:
        page = inbox(risk_client, limit=3, **({"cursor": cursor} if cursor else {}))
        seen += [s["signal_id"] for s in page["results"]]
        if not (cursor := page["next_cursor"]):
            break

    assert sorted(seen) == sorted(sent)
    assert len(seen) == len(set(seen))
    created = [s["created_at"] for s in inbox(risk_client, limit=50)["results"]]
    assert created == sorted(created)


def test_expired_signals_are_hidden(team):
    _hunter, hunter_client = team["market-hunter"]
    risk, risk_client = team["risk-manager"]
    publish(hunter_client, [risk], ttl_seconds=1)
    assert len(inbox(risk_client)["results"]) == 1

    time.sleep(2.1)

    assert inbox(risk_client)["results"] == []


def test_expired_unacknowledged_signals_do_not_hide_a_live_one(team):
    """They stay in the inbox index until DynamoDB deletes them; a page must not fill up with them."""
    _hunter, hunter_client = team["market-hunter"]
    risk, risk_client = team["risk-manager"]
    for _ in range(7):
        publish(hunter_client, [risk], ttl_seconds=1)
    time.sleep(2.1)
    live = publish(hunter_client, [risk]).json()["signal_id"]

    assert [s["signal_id"] for s in inbox(risk_client, limit=3)["results"]] == [live]


def test_inbox_items_older_than_the_longest_life_are_not_even_read(team):
    from datetime import UTC, datetime, timedelta

    from memsite import storage
    from memsite.storage.tables import AGENT_SIGNALS
    from signals import repository
    from signals.schemas import Signal

    _hunter, hunter_client = team["market-hunter"]
    risk, risk_client = team["risk-manager"]
    two_days_ago = datetime.now(UTC) - timedelta(days=2)
    for n in range(40):  # more than the few pages a read may skip
        created = two_days_ago + timedelta(seconds=n)
        old = Signal(
            signal_id=str(ULID.from_datetime(created)), type="WHALE_ACTIVITY", source_agent="market-hunter",
            confidence=0.5, payload={}, target_agents=[risk], decision_id=None, created_at=created,
            expires_at=created + timedelta(hours=1),
        )  # fmt: skip
        storage.table(AGENT_SIGNALS).put(repository._inbox_item(old, risk))
    live = publish(hunter_client, [risk]).json()["signal_id"]

    assert [s["signal_id"] for s in inbox(risk_client, limit=3)["results"]] == [live]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"confidence": 1.5}, "confidence"),
        ({"type": "whale"}, "type"),
        ({"ttl_seconds": 86401}, "ttl_seconds"),
        ({"target_agents": []}, "target_agents"),
        ({"target_agents": ["nobody-registered-this"]}, "target_agents"),
        ({"signal_id": "nope"}, "signal_id"),
        ({"signal_id": "00000000000000000000000000"}, "signal_id"),
        ({"extra": 1}, "extra"),
    ],
)
def test_bad_signals_are_refused_naming_the_field(team, fields, field):
    _, hunter_client = team["market-hunter"]
    risk, _ = team["risk-manager"]

    response = publish(hunter_client, [risk], **fields)

    assert response.status_code == 400
    assert response.json()["detail"].startswith(field)


def test_a_payload_over_the_limit_is_413(team):
    _, hunter_client = team["market-hunter"]
    risk, _ = team["risk-manager"]

    assert publish(hunter_client, [risk], payload={"blob": "x" * 20_000}).status_code == 413


def test_the_decision_that_produced_a_signal_is_kept_with_it(team):
    _hunter, hunter_client = team["market-hunter"]
    risk, risk_client = team["risk-manager"]
    decision_id = str(ULID())

    signal_id = publish(hunter_client, [risk], decision_id=decision_id).json()["signal_id"]

    read = hunter_client.get(f"{URL}{signal_id}/")
    assert read.status_code == 200
    assert read.json()["decision_id"] == decision_id
    assert [s["decision_id"] for s in inbox(risk_client)["results"]] == [decision_id]


def test_people_read_signals_but_only_agents_publish_and_have_inboxes(team, as_person, bob, alice):
    _, hunter_client = team["market-hunter"]
    risk, _ = team["risk-manager"]
    signal_id = publish(hunter_client, [risk]).json()["signal_id"]

    assert as_person(bob).get(f"{URL}{signal_id}/").status_code == 200
    assert (
        as_person(alice).post(URL, {"type": "X_Y", "confidence": 1, "target_agents": [risk]}, format="json").status_code
        == 403
    )
    assert as_person(bob).get(f"{URL}inbox/").status_code == 403


def test_the_feed_and_the_flows_show_who_signals_whom(team):
    hunter, hunter_client = team["market-hunter"]
    risk, risk_client = team["risk-manager"]
    trader, _ = team["trade-executor"]
    publish(hunter_client, [risk, trader])
    publish(hunter_client, [risk])
    latest = publish(risk_client, [trader], type="RISK_ASSESSMENT").json()["signal_id"]

    flows = selectors.signal_flows()
    feed = selectors.signal_feed()

    assert flows[(hunter, "WHALE_ACTIVITY", risk)] == 2
    assert flows[(hunter, "WHALE_ACTIVITY", trader)] == 1
    assert flows[(risk, "RISK_ASSESSMENT", trader)] == 1
    assert feed[0].signal_id == latest


def test_the_feed_shows_each_targets_delivery_and_acknowledgement(team):
    _hunter, hunter_client = team["market-hunter"]
    risk, risk_client = team["risk-manager"]
    trader, trader_client = team["trade-executor"]
    whale = publish(hunter_client, [risk, trader]).json()["signal_id"]
    assessment = publish(risk_client, [trader], type="RISK_ASSESSMENT").json()["signal_id"]
    inbox(trader_client)
    risk_client.post(f"{URL}ack/", {"signal_ids": [whale]}, format="json")

    feed = {s["signal_id"]: s for s in hunter_client.get(URL).json()["results"]}

    assert {agent: _state(d) for agent, d in feed[whale]["deliveries"].items()} == {
        risk: "acknowledged",
        trader: "delivered",
    }
    assert {agent: _state(d) for agent, d in feed[assessment]["deliveries"].items()} == {trader: "delivered"}
    assert list(feed[whale]["deliveries"]) == [risk, trader]  # in the order the sender named them


def _state(delivery: dict) -> str:
    return "acknowledged" if delivery["acked_at"] else "delivered" if delivery["delivered_at"] else "waiting"


@pytest.mark.parametrize("signal_id", ["7ZZZZZZZZZZZZZZZZZZZZZZZZZ", "x" * 40])
def test_unusable_signal_ids_are_4xx(team, signal_id):
    _, hunter_client = team["market-hunter"]
    risk, risk_client = team["risk-manager"]

    assert publish(hunter_client, [risk], signal_id=signal_id).status_code == 400
    assert hunter_client.get(f"{URL}{signal_id}/").status_code == 404
    assert risk_client.post(f"{URL}ack/", {"signal_ids": [signal_id]}, format="json").status_code == 400


def test_a_later_read_does_not_move_the_first_delivery_time(team):
    from datetime import UTC, datetime

    from signals import repository

    _hunter, hunter_client = team["market-hunter"]
    risk, risk_client = team["risk-manager"]
    signal_id = publish(hunter_client, [risk]).json()["signal_id"]
    first = inbox(risk_client)["results"][0]["delivered_at"]
    stale = repository.inbox_page(risk, limit=10, cursor=None)[0]
    stale = [s.model_copy(update={"delivered_at": None}) for s in stale]  # as a concurrent reader saw them

    repository.mark_delivered(risk, stale, datetime.now(UTC))

    assert inbox(risk_client)["results"][0]["delivered_at"] == first
    assert hunter_client.get(f"{URL}{signal_id}/").json()["deliveries"][risk]["delivered_at"] == first


def test_the_last_day_of_flows_is_24_hours_not_the_calendar_day(team):
    from datetime import UTC, datetime, timedelta

    hunter, hunter_client = team["market-hunter"]
    risk, _ = team["risk-manager"]
    publish(hunter_client, [risk])

    in_23_hours = datetime.now(UTC) + timedelta(hours=23)
    in_25_hours = datetime.now(UTC) + timedelta(hours=25)

    assert selectors.signal_flows(days=1, now=in_23_hours)[(hunter, "WHALE_ACTIVITY", risk)] == 1
    assert selectors.signal_flows(days=1, now=in_25_hours)[(hunter, "WHALE_ACTIVITY", risk)] == 0
