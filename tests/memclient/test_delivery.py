"""How memclient delivers decisions and outcomes: the spool, restarts, outages, Retry-After,
dead letters. Every check reads back through the live API."""

import shutil
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from ulid import ULID

from memclient import MemClient, SpoolFull
from tests.memclient.conftest import Scripted


def log_some(client: MemClient, count: int) -> list[str]:
    """`count` decisions, each followed by its outcome: the order the spool must keep."""
    ids = []
    for n in range(count):
        decision_id = client.log_decision(type="RISK_ASSESSMENT", context={"n": n}, reasoning={"risk": "low"}, cycle=n)
        client.report_outcome(decision_id, status="SUCCESS", quality_score=n / count)
        ids.append(decision_id)
    return ids


def assert_stored_once(stored: list[dict], ids: list[str], count: int) -> None:
    assert sorted(d["decision_id"] for d in stored) == sorted(ids)
    by_id = {d["decision_id"]: d for d in stored}
    assert [by_id[i]["outcome"]["quality_score"] for i in ids] == [n / count for n in range(count)]
    assert all(len(d["outcome_history"]) == 1 for d in stored)


def test_a_restarted_client_replays_the_spool_exactly_once(team, make_client, dead_url, stored_decisions):
    hunter = team["market-hunter"]
    before = make_client(hunter, base_url=dead_url, spool="hunter")
    ids = log_some(before, 10)
    before.close(timeout=0.2)
    assert before.pending() == 20

    after = make_client(hunter, spool="hunter")
    assert after.flush(timeout=20) == 20

    assert after.pending() == 0
    assert_stored_once(stored_decisions(hunter), ids, 10)
    after.close()
    assert make_client(hunter, spool="hunter").flush(timeout=5) == 0


def test_replaying_what_the_api_already_stored_stores_nothing_twice(
    team, make_client, dead_url, tmp_path, stored_decisions
):
    """A crash between the API's answer and the spool's delete sends the same rows again: here a
    copy of the spool, taken before it was sent, is replayed after the original was delivered."""
    hunter = team["market-hunter"]
    offline = make_client(hunter, base_url=dead_url, spool="original")
    ids = log_some(offline, 3)
    offline.close(timeout=0.2)
    shutil.copy(tmp_path / "original.sqlite3", tmp_path / "copy.sqlite3")
    assert make_client(hunter, spool="original").flush(timeout=20) == 6

    replay = make_client(hunter, spool="copy")

    assert replay.flush(timeout=20) == 6
    assert replay.dead_letters() == []
    assert_stored_once(stored_decisions(hunter), ids, 3)


def test_an_outage_loses_nothing(team, make_client, proxy, stored_decisions):
    hunter = team["market-hunter"]
    proxy.down = True
    client = make_client(hunter, base_url=proxy.url, max_retry_wait=0.5)
    ids = log_some(client, 15)
    with pytest.raises(TimeoutError, match="30 operations still spooled"):
        client.flush(timeout=1.0)
    assert len(proxy.seen) >= 2  # the sender kept trying

    proxy.down = False
    client.flush(timeout=20)

    assert client.pending() == 0
    assert_stored_once(stored_decisions(hunter), ids, 15)


def test_an_answer_that_is_not_the_apis_buries_nothing(team, make_client, proxy, stored_decisions):
    """A proxy's 404 page (a wrong path, a half-deployed server) says nothing about the decisions:
    they stay spooled and go once the API answers, none of them in the dead letters."""
    hunter = team["market-hunter"]
    not_found = Scripted(404, body=b"<html><h1>Not Found</h1></html>", content_type="text/html")
    proxy.script = [not_found, not_found, not_found]
    client = make_client(hunter, base_url=proxy.url, max_retry_wait=0.3)
    ids = log_some(client, 3)

    client.flush(timeout=20)

    assert [seen.status for seen in proxy.requests("POST", "/api/v1/decisions/")][:3] == [404, 404, 404]
    assert client.dead_letters() == []
    assert_stored_once(stored_decisions(hunter), ids, 3)


def test_a_503_with_retry_after_is_honoured(team, make_client, proxy, api):
    hunter = team["market-hunter"]
    proxy.script = [Scripted(503, {"Retry-After": "1"}), Scripted(503, {"Retry-After": "1"})]
    client = make_client(hunter, base_url=proxy.url, max_retry_wait=5.0)

    decision_id = client.log_decision(type="SOURCE_SELECTION", context={"source": "coinglass"})
    client.flush(timeout=20)

    tries = proxy.requests("POST", "/api/v1/decisions/")
    assert [seen.status for seen in tries] == [503, 503, 200]
    assert all(later.at - earlier.at >= 0.95 for earlier, later in pairwise(tries))
    assert api(hunter, "GET", f"/api/v1/decisions/{decision_id}/").status_code == 200


def test_a_429_with_retry_after_is_honoured_by_a_synchronous_call(team, make_client, proxy):
    hunter, risk = team["market-hunter"], team["risk-manager"]
    proxy.script = [Scripted(429, {"Retry-After": "1"})]
    client = make_client(hunter, base_url=proxy.url)

    client.publish_signal(type="WHALE_ACTIVITY", confidence=0.85, target_agents=[risk.agent_id])

    tries = proxy.requests("POST", "/api/v1/signals/")
    assert [seen.status for seen in tries] == [429, 201]
    assert tries[1].at - tries[0].at >= 0.95


def test_a_publish_whose_answer_was_lost_is_retried_as_the_same_signal(team, make_client, proxy):
    hunter, risk = team["market-hunter"], team["risk-manager"]
    proxy.script = [Scripted(502, forward=True)]
    client = make_client(hunter, base_url=proxy.url)

    published = client.publish_signal(type="WHALE_ACTIVITY", confidence=0.85, target_agents=[risk.agent_id])

    assert [seen.status for seen in proxy.requests("POST", "/api/v1/signals/")] == [502, 200]  # 200: a retry
    assert [s.signal_id for s in make_client(risk).get_my_signals()] == [published.signal_id]


def test_a_full_spool_refuses_new_decisions_with_a_clear_error(team, make_client, dead_url):
    client = make_client(team["market-hunter"], base_url=dead_url, max_spool=3)
    for n in range(3):
        client.log_decision(type="QUERY_EXECUTION", context={"n": n})

    with pytest.raises(SpoolFull, match=r"max_spool=3"):
        client.log_decision(type="QUERY_EXECUTION", context={"n": 3})
    with pytest.raises(SpoolFull):
        client.report_outcome(str(ULID()), status="SUCCESS")
    assert client.pending() == 3


def test_refused_operations_go_to_the_dead_letters_and_the_rest_is_delivered(
    team, make_client, stored_decisions, caplog
):
    hunter = team["market-hunter"]
    client = make_client(hunter)
    taken = client.log_decision(type="TRADE_EXECUTION", context={"side": "buy"})
    client.flush(timeout=20)

    client.log_decision(type="TRADE_EXECUTION", context={"side": "sell"}, decision_id=taken)  # same id, other content
    client.report_outcome(taken, status="FAILURE")  # for the refused decision: must not land on the stored one
    stale = datetime.now(UTC) - timedelta(days=100)
    too_old = client.log_decision(type="TRADE_EXECUTION", timestamp=stale)
    unknown = str(ULID())
    client.report_outcome(unknown, status="SUCCESS")
    fine = client.log_decision(type="TRADE_EXECUTION", context={"side": "hold"})
    client.flush(timeout=20)

    dead = client.dead_letters()
    assert [(d.kind, d.key) for d in dead] == [
        ("decision", taken),
        ("outcome", taken),
        ("decision", too_old),
        ("outcome", unknown),
    ]
    assert dead[0].reason.startswith("conflict")
    assert dead[1].reason == "its decision is in the dead letters"
    assert dead[2].reason.startswith("invalid")
    assert "90 days" in dead[2].reason
    assert dead[3].reason.startswith("404")
    stored = {d["decision_id"]: d for d in stored_decisions(hunter)}
    assert sorted(stored) == sorted([taken, fine])
    assert (stored[taken]["context"], stored[taken]["outcome_status"]) == ({"side": "buy"}, "PENDING")
    assert "moved to the dead letters" in caplog.text
    assert client.pending() == 0


def test_the_token_never_reaches_the_log(team, make_client, dead_url, caplog):
    hunter = team["market-hunter"]
    client = make_client(hunter, base_url=dead_url, max_retry_wait=0.1)
    client.log_decision(type="QUERY_EXECUTION")
    with pytest.raises(TimeoutError):
        client.flush(timeout=0.5)

    assert "failed" in caplog.text
    assert hunter.token not in caplog.text


def test_one_spool_file_serves_one_client_at_a_time(team, make_client):
    from memclient import SpoolInUse

    hunter = team["market-hunter"]
    first = make_client(hunter, spool="shared")

    with pytest.raises(SpoolInUse, match="in use by another client"):
        make_client(hunter, spool="shared")
    first.close()
    again = make_client(hunter, spool="shared")  # released on close
    assert again.pending() == 0


def test_logging_after_close_is_a_clear_error(team, make_client):
    client = make_client(team["market-hunter"])
    client.close()

    with pytest.raises(RuntimeError, match="is closed"):
        client.log_decision(type="RISK_ASSESSMENT", context={})


def test_an_outcome_for_a_decision_stored_a_moment_ago_waits_out_a_404(team, make_client, proxy, stored_decisions):
    """On AWS a decision's id is found through an index that follows its table by a moment: an
    outcome sent right after its decision may meet a 404, and is sent again, not buried."""
    hunter = team["market-hunter"]
    client = make_client(hunter, base_url=proxy.url, max_retry_wait=0.3)
    decision_id = client.log_decision(type="RISK_ASSESSMENT", context={"n": 1})
    client.flush(timeout=20)
    not_yet = Scripted(404, body=b'{"detail": "no decision", "code": "not_found", "fields": {}}')
    proxy.script = [not_yet, not_yet]

    client.report_outcome(decision_id, status="SUCCESS")
    client.flush(timeout=20)

    outcome_path = f"/api/v1/decisions/{decision_id}/outcome/"
    assert [seen.status for seen in proxy.requests("POST", outcome_path)] == [404, 404, 200]
    assert client.dead_letters() == []
    [stored] = [d for d in stored_decisions(hunter) if d["decision_id"] == decision_id]
    assert stored["outcome_status"] == "SUCCESS"
