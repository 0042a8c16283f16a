"""Registry, heartbeats, state slots, short-term memory and rate limits over the API."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from agents.schemas import Heartbeat
from agents.selectors import liveness
from memsite.storage.tables import AGENT_STATE


@pytest.fixture
def agent(unique) -> str:
    return f"state-{unique[-8:].lower()}"


@pytest.fixture
def me(as_agent, agent):
    return as_agent(agent)


def base(agent: str) -> str:
    return f"/api/v1/agents/{agent}"


def test_a_created_agent_is_in_the_registry_and_offline_until_it_beats(me, agent):
    listed = {a["agent_id"]: a for a in me.get("/api/v1/agents/").json()["results"]}

    assert listed[agent]["liveness"] == "offline"
    assert listed[agent]["last_heartbeat"] is None


def test_a_heartbeat_makes_the_agent_online(me, agent):
    response = me.post(f"{base(agent)}/heartbeat/", {"interval_seconds": 600, "status": "cycle 12"}, format="json")

    assert response.status_code == 200
    shown = me.get(f"{base(agent)}/").json()
    assert shown["liveness"] == "online"
    assert shown["last_heartbeat"]["status"] == "cycle 12"


@pytest.mark.parametrize(
    ("minutes_ago", "expected"), [(5, "online"), (14, "online"), (20, "late"), (59, "late"), (61, "offline")]
)
def test_liveness_follows_the_declared_interval(minutes_ago, expected):
    now = datetime.now(UTC)
    beat = Heartbeat(at=now - timedelta(minutes=minutes_ago), interval_seconds=600)

    assert liveness(beat, now) == expected


def test_an_agent_cannot_beat_for_another(as_agent, agent):
    assert as_agent("someone-else").post(f"{base(agent)}/heartbeat/", {}, format="json").status_code == 403


def test_current_state_is_written_and_read_back_with_a_version(me, agent):
    first = me.put(f"{base(agent)}/state/CURRENT/", {"cycle": 1, "positions": {"BTC": 0.5}}, format="json")
    second = me.put(f"{base(agent)}/state/CURRENT/", {"cycle": 2, "positions": {}}, format="json")

    assert first.status_code == 200
    assert (first.json()["version"], second.json()["version"]) == (1, 2)
    read = me.get(f"{base(agent)}/state/CURRENT/").json()
    assert read["state"] == {"cycle": 2, "positions": {}}
    assert read["updated_by"] == f"agent:{agent}"


def test_current_state_is_one_write(me, agent):
    from memsite import storage

    before = storage.meter().snapshot()
    me.put(f"{base(agent)}/state/CURRENT/", {"cycle": 3}, format="json")
    used = storage.meter().snapshot().minus(before)

    assert used.operations.get("UpdateItem") == 1
    assert used.calls == 1


def test_restoring_a_checkpoint_keeps_the_replaced_current_in_backup(me, agent):
    me.put(f"{base(agent)}/state/checkpoints/before-halving/", {"cycle": 10, "risk": "low"}, format="json")
    me.put(f"{base(agent)}/state/CURRENT/", {"cycle": 99, "risk": "high"}, format="json")

    restored = me.post(f"{base(agent)}/state/checkpoints/before-halving/restore/")

    assert restored.status_code == 200
    assert me.get(f"{base(agent)}/state/CURRENT/").json()["state"] == {"cycle": 10, "risk": "low"}
    assert me.get(f"{base(agent)}/state/BACKUP/").json()["state"] == {"cycle": 99, "risk": "high"}
    names = [slot["slot"] for slot in me.get(f"{base(agent)}/state/checkpoints/").json()["results"]]
    assert names == ["CHECKPOINT#before-halving"]


def test_a_checkpoint_is_read_back_by_name(me, agent):
    me.put(f"{base(agent)}/state/checkpoints/before-halving/", {"cycle": 10, "risk": "low"}, format="json")

    read = me.get(f"{base(agent)}/state/checkpoints/before-halving/")

    assert read.status_code == 200
    assert read.json()["slot"] == "CHECKPOINT#before-halving"
    assert read.json()["state"] == {"cycle": 10, "risk": "low"}
    assert read.json()["updated_by"] == f"agent:{agent}"
    assert me.get(f"{base(agent)}/state/checkpoints/never-saved/").status_code == 404


def test_an_operator_may_restore_but_a_viewer_may_not(me, agent, as_person, alice, bob):
    me.put(f"{base(agent)}/state/checkpoints/safe/", {"cycle": 1}, format="json")

    assert as_person(bob).post(f"{base(agent)}/state/checkpoints/safe/restore/").status_code == 403
    assert as_person(alice).post(f"{base(agent)}/state/checkpoints/safe/restore/").status_code == 200
    assert as_person(alice).put(f"{base(agent)}/state/CURRENT/", {"x": 1}, format="json").status_code == 403


def test_a_missing_checkpoint_is_404_and_a_bad_name_400(me, agent):
    assert me.post(f"{base(agent)}/state/checkpoints/nothing/restore/").status_code == 404
    assert me.put(f"{base(agent)}/state/checkpoints/bad name!/", {}, format="json").status_code == 400


def test_state_must_be_an_object_within_the_size_limit(me, agent):
    assert me.put(f"{base(agent)}/state/CURRENT/", [1, 2], format="json").status_code == 400
    assert me.put(f"{base(agent)}/state/CURRENT/", {"blob": "x" * 70_000}, format="json").status_code == 413


def test_short_term_memory_round_trips_and_can_be_forgotten(me, agent):
    url = f"{base(agent)}/memory/last_whale/"

    put = me.put(url, {"value": {"size_btc": 1200, "exchange": "binance"}, "ttl_seconds": 3600}, format="json")
    read = me.get(url)
    forgotten = me.delete(url)

    assert put.status_code == 200
    assert read.json()["value"] == {"size_btc": 1200, "exchange": "binance"}
    assert forgotten.status_code == 204
    assert me.get(url).status_code == 404


def test_short_term_memory_is_never_returned_after_it_expires(me, agent):
    from memsite import storage

    url = f"{base(agent)}/memory/fleeting/"
    me.put(url, {"value": 1, "ttl_seconds": 1}, format="json")
    assert me.get(url).status_code == 200

    time.sleep(2.1)

    assert me.get(url).status_code == 404
    assert all(entry["key"] != "fleeting" for entry in me.get(f"{base(agent)}/memory/").json()["results"])
    raw = storage.table(AGENT_STATE).gateway.call(
        "GetItem",
        TableName=storage.table(AGENT_STATE).name,
        Key={"pk": {"S": f"agent:{agent}"}, "sk": {"S": "STM#fleeting"}},
    )
    assert "Item" in raw, "the item is still stored: TTL deletes lazily, the read filtered it"


def test_short_term_memory_lives_a_day_when_no_ttl_is_given(me, agent):
    url = f"{base(agent)}/memory/no-ttl/"

    put = me.put(url, {"value": "kept a day"}, format="json").json()

    life = datetime.fromisoformat(put["expires_at"]) - datetime.fromisoformat(put["updated_at"])
    assert timedelta(seconds=86400) <= life <= timedelta(seconds=86401)  # rounded up to a whole second
    assert me.get(url).json()["expires_at"] == put["expires_at"]


@pytest.mark.parametrize(
    ("body", "field"),
    [({"value": 1, "ttl_seconds": 86401}, "ttl_seconds"), ({"ttl_seconds": 5}, "value"), ({"value": 1, "x": 2}, "x")],
)
def test_short_term_memory_refuses_bad_input_naming_the_field(me, agent, body, field):
    response = me.put(f"{base(agent)}/memory/k/", body, format="json")

    assert response.status_code == 400
    assert response.json()["detail"].startswith(field)


def test_a_memory_value_over_the_limit_is_413(me, agent):
    assert me.put(f"{base(agent)}/memory/big/", {"value": "x" * 40_000}, format="json").status_code == 413


def _not_at_a_window_edge(window_seconds: int) -> None:
    """Fixed windows start on multiples of their length; a test must not straddle two."""
    left = window_seconds - time.time() % window_seconds
    if left < 5:
        time.sleep(left + 0.1)


def test_rate_limits_allow_up_to_the_limit_then_429_with_retry_after(me, agent):
    _not_at_a_window_edge(3600)
    url = f"{base(agent)}/ratelimits/glassnode/consume/"
    body = {"cost": 2, "limit": 5, "window_seconds": 3600}

    answers = [me.post(url, body, format="json") for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert [a.json()["remaining"] for a in answers] == [3, 1, 1]
    assert answers[0].json()["allowed"] is True
    assert answers[2].json()["allowed"] is False
    assert 0 < int(answers[2]["Retry-After"]) <= 3600
    assert me.post(url, body | {"cost": 1}, format="json").status_code == 200


def test_rate_limits_are_exact_under_concurrent_callers(me, agent, db):
    from agents.services import Writer, ratelimit_consume

    writer = Writer(label=f"agent:{agent}", agent_id=agent)
    _not_at_a_window_edge(3600)
    allowed: list[bool] = []
    barrier = threading.Barrier(8)

    def hammer() -> None:
        barrier.wait()
        for _ in range(10):
            result = ratelimit_consume(
                agent_id=agent, source="binance", raw={"cost": 1, "limit": 37, "window_seconds": 3600}, writer=writer
            )
            allowed.append(result.allowed)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(allowed) == 80
    assert allowed.count(True) == 37
    windows = me.get(f"{base(agent)}/ratelimits/").json()["results"]
    assert [(w["source"], w["used"], w["remaining"]) for w in windows] == [("binance", 37, 0)]


def test_a_cost_above_the_limit_is_a_400(me, agent):
    response = me.post(
        f"{base(agent)}/ratelimits/x/consume/", {"cost": 6, "limit": 5, "window_seconds": 60}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["detail"].startswith("cost")


def test_recent_queries_are_the_last_ten_cycles_of_query_execution_decisions(me, agent):
    from agents.selectors import recent_queries
    from tests.decisions.test_api import URL, a_decision

    now = datetime.now(UTC)
    batch = [
        a_decision(agent, type="QUERY_EXECUTION", cycle=c, timestamp=(now - timedelta(minutes=30 - c)).isoformat())
        for c in range(15)
    ] + [a_decision(agent, type="TRADE_EXECUTION", cycle=14)]
    me.post(URL, batch, format="json")

    recent = recent_queries(agent_id=agent)

    assert sorted({d.cycle for d in recent}) == list(range(5, 15))
    assert {d.type for d in recent} == {"QUERY_EXECUTION"}


def test_recent_queries_keep_every_query_of_a_busy_cycle(me, agent):
    from agents.selectors import recent_queries
    from tests.decisions.test_api import URL, a_decision

    now = datetime.now(UTC)
    batch = [
        a_decision(
            agent,
            type="QUERY_EXECUTION",
            cycle=c,
            timestamp=(now - timedelta(minutes=60 - 4 * c, seconds=q)).isoformat(),
        )
        for c in range(12)
        for q in range(6)
    ]
    me.post(URL, batch, format="json")

    recent = recent_queries(agent_id=agent)

    assert sorted(d.cycle for d in recent) == sorted(c for c in range(2, 12) for _ in range(6))


def test_a_retried_restore_keeps_the_backup_it_made(me, agent):
    me.put(f"{base(agent)}/state/checkpoints/safe/", {"cycle": 1}, format="json")
    me.put(f"{base(agent)}/state/CURRENT/", {"cycle": 50}, format="json")

    me.post(f"{base(agent)}/state/checkpoints/safe/restore/")
    me.post(f"{base(agent)}/state/checkpoints/safe/restore/")

    assert me.get(f"{base(agent)}/state/BACKUP/").json()["state"] == {"cycle": 50}


def test_a_restore_racing_a_current_write_replaces_nothing(me, agent, monkeypatch, db):
    from agents import services, state_repository

    me.put(f"{base(agent)}/state/checkpoints/safe/", {"cycle": 1}, format="json")
    me.put(f"{base(agent)}/state/CURRENT/", {"cycle": 50}, format="json")
    real_put = state_repository.slot_put

    def agent_writes_meanwhile(agent_id, slot, state, **kwargs):
        if slot == "BACKUP":
            real_put(agent_id, "CURRENT", {"cycle": 51}, by=f"agent:{agent}")
        return real_put(agent_id, slot, state, **kwargs)

    monkeypatch.setattr(state_repository, "slot_put", agent_writes_meanwhile)
    writer = services.Writer(label=f"agent:{agent}", agent_id=agent)

    with pytest.raises(services.AlreadyExists):
        services.checkpoint_restore(agent_id=agent, name="safe", writer=writer)

    assert me.get(f"{base(agent)}/state/CURRENT/").json()["state"] == {"cycle": 51}


@pytest.mark.parametrize("path", ["/api/v1/agents/" + "x" * 3000 + "/", "/api/v1/agents/a/memory/" + "k" * 2000 + "/"])
def test_ids_too_long_to_exist_are_404(me, path):
    assert me.get(path).status_code == 404
