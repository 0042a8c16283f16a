"""memclient against a live memsite: signals, decisions, memory, rate limits, config, state."""

import time
from datetime import UTC, datetime

import pytest
from ulid import ULID

from memclient import ApiError, Config, RateLimit, Signal


def test_the_users_example_works_end_to_end(team, make_client):
    market_hunter = make_client(team["market-hunter"])
    risk_manager = make_client(team["risk-manager"])
    trade_executor = make_client(team["trade-executor"])
    targets = [team["risk-manager"].agent_id, team["trade-executor"].agent_id]

    published = market_hunter.publish_signal(type="WHALE_ACTIVITY", confidence=0.85, target_agents=targets)

    assert isinstance(published, Signal)
    for receiver in (risk_manager, trade_executor):
        signals = receiver.get_my_signals()
        assert [(s.signal_id, s.type, s.confidence, s.source_agent) for s in signals] == [
            (published.signal_id, "WHALE_ACTIVITY", 0.85, team["market-hunter"].agent_id)
        ]
    unknown = str(ULID())
    assert risk_manager.ack([published.signal_id, unknown]) == {
        published.signal_id: "acknowledged",
        unknown: "not_in_inbox",
    }
    assert risk_manager.get_my_signals() == []
    assert [s.signal_id for s in trade_executor.get_my_signals()] == [published.signal_id]  # not acked there yet


def test_decisions_and_outcomes_arrive_in_order_and_exactly_once(team, make_client, stored_decisions):
    hunter = team["market-hunter"]
    client = make_client(hunter)

    ids = [
        client.log_decision(type="SIGNAL_GENERATION", context={"n": n}, reasoning={"summary": f"#{n}"}, cycle=n)
        for n in range(5)
    ]
    client.report_outcome(ids[1], status="SUCCESS", metrics={"pnl_usd": 12.5}, quality_score=0.9)
    client.report_outcome(ids[3], status="FAILURE", note="stopped out")

    assert client.flush(timeout=20) == 7
    assert client.pending() == 0
    stored = {d["decision_id"]: d for d in stored_decisions(hunter)}
    assert sorted(stored) == sorted(ids)
    assert [stored[i]["outcome_status"] for i in ids] == ["PENDING", "SUCCESS", "PENDING", "FAILURE", "PENDING"]
    assert stored[ids[1]]["outcome"]["metrics"] == {"pnl_usd": 12.5}
    assert stored[ids[3]]["outcome"]["note"] == "stopped out"
    # One change each: from PENDING to the outcome; a second delivery would not add one, but a
    # second, different report would.
    assert [len(stored[i]["outcome_history"]) for i in ids] == [0, 1, 0, 1, 0]
    assert [stored[i]["context"] for i in ids] == [{"n": n} for n in range(5)]


def test_the_decision_context_manager_records_its_duration(team, make_client, api):
    hunter = team["market-hunter"]
    client = make_client(hunter)

    with client.decision("TRADE_EXECUTION", context={"price": 97000}, cycle=4) as d:
        d.reasoning["summary"] = "buy the dip"
        time.sleep(0.05)
    client.flush(timeout=20)

    stored = api(hunter, "GET", f"/api/v1/decisions/{d.decision_id}/").json()
    assert stored["reasoning"]["summary"] == "buy the dip"
    assert stored["reasoning"]["duration_ms"] >= 50
    assert stored["context"] == {"price": 97000}
    assert (stored["cycle"], stored["outcome_status"]) == (4, "PENDING")


def test_an_exception_in_the_context_manager_is_logged_as_a_failure_and_raised_again(team, make_client, api):
    hunter = team["market-hunter"]
    client = make_client(hunter)

    with pytest.raises(ConnectionError, match="exchange down"), client.decision("TRADE_EXECUTION") as d:
        raise ConnectionError("exchange down")
    client.flush(timeout=20)

    stored = api(hunter, "GET", f"/api/v1/decisions/{d.decision_id}/").json()
    assert stored["outcome_status"] == "FAILURE"
    assert stored["outcome"]["note"] == "ConnectionError('exchange down')"
    assert "duration_ms" in stored["reasoning"]


def test_it_remembers_recalls_and_forgets(team, make_client):
    client = make_client(team["market-hunter"])

    client.remember("last_whale:btc", {"size": 1200}, ttl_seconds=60)

    assert client.recall("last_whale:btc") == {"size": 1200}
    client.forget("last_whale:btc")
    assert client.recall("last_whale:btc") is None
    client.forget("last_whale:btc")  # forgetting twice is fine


def test_an_exhausted_rate_limit_is_an_answer_and_not_retried(team, make_client, proxy):
    client = make_client(team["market-hunter"], base_url=proxy.url)

    answers = [client.consume_rate_limit("coinglass", cost=1, limit=2, window_seconds=60) for _ in range(3)]

    assert all(isinstance(answer, RateLimit) for answer in answers)
    assert [(a.allowed, a.remaining) for a in answers] == [(True, 1), (True, 0), (False, 0)]
    assert answers[2].reset_at > datetime.now(UTC)
    assert [seen.status for seen in proxy.requests("POST", "/api/v1/agents/")] == [200, 200, 429]


def test_get_config_sends_its_etag_and_a_304_returns_the_cached_config(team, make_client, proxy):
    client = make_client(team["market-hunter"], base_url=proxy.url)

    first = client.get_config()
    second = client.get_config()

    assert isinstance(first, Config)
    assert second == first
    assert [seen.status for seen in proxy.requests("GET", "/api/v1/agents/")] == [200, 304]


def test_it_beats_and_saves_its_state_and_checkpoints(team, make_client, api):
    hunter = team["market-hunter"]
    client = make_client(hunter)

    beat = client.heartbeat(interval_seconds=600, status="cycle 12")
    current = client.save_state({"position": "flat", "cycle": 12})
    named = client.checkpoint("before:fomc", {"position": "long"})

    assert (beat.interval_seconds, beat.status) == (600, "cycle 12")
    assert (current.slot, current.state) == ("CURRENT", {"position": "flat", "cycle": 12})
    assert named.state == {"position": "long"}
    agent = api(hunter, "GET", f"/api/v1/agents/{hunter.agent_id}/").json()
    assert agent["liveness"] == "online"


def test_it_reads_learned_patterns_and_similar_situations(team, make_client, unique):
    from patterns import consolidation
    from tests.patterns.helpers import define

    hunter = team["market-hunter"]
    marker = f"c{unique[-8:].lower()}"
    definition = define(f"client-{marker}", marker, name="client test pattern", min_support=3, activate_at=0.5)
    client = make_client(hunter)
    for n in range(8):
        client.log_decision(
            type="SIGNAL_GENERATION",
            context={marker: True, "volatility": 0.01 * n, "funding_rate": 0.001 * n},
            outcome={"status": "SUCCESS" if n else "FAILURE"},
        )
    client.flush()
    consolidation.consolidate_agent(hunter.agent_id)

    mine = [p for p in client.patterns(status="active", min_confidence=0.5) if p.pattern_id == definition.id]
    none_above = [p for p in client.patterns(min_confidence=0.99) if p.pattern_id == definition.id]

    assert {p.agent_id for p in mine} == {hunter.agent_id, None}  # its own and the shared one
    assert mine[0].support == 8
    assert mine[0].low < mine[0].confidence < mine[0].high
    assert none_above == []
    found = client.similar_situations({"volatility": 0.03, "funding_rate": -0.01}, type="TRADE_EXECUTION")
    assert found.archetype is not None or found.detail  # parsed either way: a model, or why there is none


def test_a_refused_request_raises_an_api_error_with_the_servers_code(team, make_client):
    client = make_client(team["market-hunter"])

    with pytest.raises(ApiError) as refused:
        client.publish_signal(type="WHALE_ACTIVITY", confidence=0.5, target_agents=["nobody-registered-this"])

    assert refused.value.status == 400
    assert refused.value.code == "invalid"
    assert "target_agents" in refused.value.detail


@pytest.mark.parametrize(
    ("status", "body", "is_answer"),
    [
        (
            429,
            {
                "allowed": False,
                "remaining": 0,
                "reset_at": "2026-11-28T06:00:00.000Z",
                "detail": "x",
                "code": "throttled",
                "fields": {},
            },
            True,
        ),
        (429, {"detail": "Request was throttled.", "code": "throttled", "fields": {}}, False),  # the API's own throttle
        (503, {"detail": "unavailable", "code": "unavailable", "fields": {}}, False),
        (200, {"allowed": True}, False),  # a success needs no special reading
    ],
)
def test_only_an_exhausted_window_is_an_answer_of_consume(status, body, is_answer):
    import httpx

    from memclient.client import _window_exhausted

    assert _window_exhausted(httpx.Response(status, json=body)) is is_answer
