"""Nothing a retry, a duplicate or a crash half-way does may store or count a decision twice,
or lose one. Crashes are simulated by running only the first steps of a write through the
repository, then sending the request again."""

import json
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from decisions import repository, services
from decisions.schemas import Outcome
from memsite import storage
from memsite.storage.tables import AGENT_DECISIONS
from tests.decisions.test_api import URL, a_decision


def counted(agent: str) -> Counter:
    """Every rollup counter of `agent` over the last day, summed."""
    now = datetime.now(UTC)
    totals: Counter = Counter()
    for day in {(now - timedelta(days=1)).date().isoformat(), now.date().isoformat()}:
        for row in repository.rollup_rows(day, "00", "23"):
            if row["agent_id"] == agent:
                totals.update({k: v for k, v in row.items() if k.startswith(("t_", "o_", "total"))})
    return +totals  # drops zero counts


@pytest.fixture
def agent(unique) -> str:
    return f"idem-{unique[-8:].lower()}"


@pytest.fixture
def client(as_agent, agent):
    return as_agent(agent)


def test_one_id_several_times_in_a_batch_is_stored_and_counted_once(client, agent):
    first, other = a_decision(agent), a_decision(agent)

    response = client.post(URL, [first, first, other, first | {"cycle": 77}], format="json")

    assert [r["status"] for r in response.json()["results"]] == ["created", "exists", "created", "conflict"]
    assert response.status_code == 207
    assert counted(agent) == Counter({"total": 2, "t_SIGNAL_GENERATION": 2, "o_PENDING": 2})


def test_a_retried_batch_and_a_retried_single_count_nothing_twice(client, agent):
    batch = [a_decision(agent, type=kind) for kind in ("SOURCE_SELECTION", "TRADE_EXECUTION", "TRADE_EXECUTION")]
    client.post(URL, batch, format="json")
    client.post(URL, batch, format="json")
    client.post(URL, batch[1], format="json")

    assert counted(agent) == Counter({"total": 3, "t_TRADE_EXECUTION": 2, "t_SOURCE_SELECTION": 1, "o_PENDING": 3})


def test_outcome_changes_move_the_counts_once_each(client, agent):
    sent = a_decision(agent)
    client.post(URL, sent, format="json")
    outcome_url = f"{URL}{sent['decision_id']}/outcome/"
    for report in (
        {"status": "SUCCESS"},
        {"status": "SUCCESS"},
        {"status": "FAILURE"},
        {"status": "FAILURE", "note": "x"},
    ):
        assert client.post(outcome_url, report, format="json").status_code == 200

    assert counted(agent) == Counter({"total": 1, "t_SIGNAL_GENERATION": 1, "o_FAILURE": 1})


def test_a_crash_after_the_claim_is_repaired_by_the_retry(client, agent):
    sent = a_decision(agent, timestamp=(datetime.now(UTC) - timedelta(minutes=1)).isoformat())  # needs a claim
    decision = services.decision_parse(sent, actor=services.Actor(label=f"agent:{agent}", agent_id=agent))
    storage.table(AGENT_DECISIONS).put(repository.claim_item(decision))  # claimed, then the attempt died

    retry = client.post(URL, sent, format="json")

    assert retry.status_code == 200
    assert client.get(f"{URL}{sent['decision_id']}/").status_code == 200
    assert counted(agent) == Counter({"total": 1, "t_SIGNAL_GENERATION": 1, "o_PENDING": 1})


def test_a_request_waits_for_another_of_its_agent_then_answers_503_with_retry_after(client, agent, monkeypatch):
    monkeypatch.setattr(services, "INGEST_LEASE_WAIT_SECONDS", 0.2)
    assert repository.ingest_lease_take(agent, owner="a stalled request", seconds=60)
    batch = [a_decision(agent) for _ in range(services.SMALL_BATCH + 1)]  # a few go without the lease

    busy = client.post(URL, batch, format="json")

    assert busy.status_code == 503
    assert busy["Retry-After"] == "2"
    assert agent in busy.json()["detail"]
    assert client.get(f"{URL}{batch[0]['decision_id']}/").status_code == 404  # nothing half-written
    repository.ingest_lease_release(agent, owner="a stalled request")
    assert {r["status"] for r in client.post(URL, batch, format="json").json()["results"]} == {"created"}


class FailClaimWrites:
    """DynamoDB failing every BatchWriteItem that carries id claims (decision items would pass):
    the fault comes back from botocore's before-call hook as a 500, as from a failing partition."""

    def __call__(self, params, **kwargs):
        sent = json.loads(params["body"])  # before-call sees the serialised request
        for requests in sent["RequestItems"].values():
            if any(r["PutRequest"]["Item"]["pk"]["S"].startswith("decision#") for r in requests):
                return (
                    _FakeHttp(500),
                    {"Error": {"Code": "InternalServerError", "Message": "injected"}, "ResponseMetadata": {}},
                )
        return None


class _FakeHttp:
    def __init__(self, status_code: int) -> None:
        self.status_code = status_code
        self.headers: dict = {}
        self.content = b""


def test_no_decision_is_stored_without_its_claim_and_the_retry_stores_it(client, agent, monkeypatch):
    monkeypatch.setattr(services, "INGEST_LEASE_SECONDS", 1)  # a failed holder's lease runs out soon
    # Ids that do not carry their decision's time: only those have claims.
    stamp = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    batch = [a_decision(agent, type="RISK_ASSESSMENT", timestamp=stamp) for _ in range(30)]
    events = storage.gateway().client.meta.events
    fault = FailClaimWrites()
    events.register("before-call.dynamodb.BatchWriteItem", fault)
    try:
        failed = client.post(URL, batch, format="json")
    finally:
        events.unregister("before-call.dynamodb.BatchWriteItem", fault)

    assert failed.status_code == 503
    # Claims go first: an item stored without its claim would be taken for new by the retry and
    # written again over whatever happened to it since.
    assert client.get(URL, {"agent": agent}).json()["results"] == []
    time.sleep(2.1)  # the failed request's lease ran out (it was not given back: writes may land late)

    retry = client.post(URL, batch, format="json")

    assert retry.status_code == 200
    assert {r["status"] for r in retry.json()["results"]} == {"created"}
    assert len(client.get(URL, {"agent": agent, "limit": 100}).json()["results"]) == 30
    assert len(repository.claims_find([d["decision_id"] for d in batch])) == 30
    assert counted(agent) == Counter({"total": 30, "t_RISK_ASSESSMENT": 30, "o_PENDING": 30})


def test_a_stalled_writer_whose_lease_ran_out_writes_nothing(client, agent):
    sent = a_decision(agent)
    late = services.decision_parse(sent, actor=services.Actor(label=f"agent:{agent}", agent_id=agent))
    client.post(URL, sent, format="json")  # a retry stored the decision meanwhile
    client.post(f"{URL}{sent['decision_id']}/outcome/", {"status": "SUCCESS"}, format="json")

    with pytest.raises(storage.Unavailable):  # the stalled attempt wakes up past its deadline
        repository.decisions_write([], [late], digests={late.decision_id: "x"}, deadline=time.monotonic() - 1)

    assert client.get(f"{URL}{sent['decision_id']}/").json()["outcome_status"] == "SUCCESS"


def test_an_outcome_count_a_crash_skipped_is_caught_up_by_the_next_report(client, agent):
    sent = a_decision(agent)
    client.post(URL, sent, format="json")
    stored = services.decision_get(decision_id=sent["decision_id"])
    now = datetime.now(UTC)
    crashed = stored.model_copy(
        update={
            "outcome": Outcome(status="SUCCESS", reported_at=now, reported_by=f"agent:{agent}"),
            "outcome_history": [services.OutcomeChange(previous=None, replaced_at=now, replaced_by=f"agent:{agent}")],
        }
    )
    repository.decision_update_outcome(crashed, expected_version=1)  # stored, then died before counting

    client.post(f"{URL}{sent['decision_id']}/outcome/", {"status": "FAILURE"}, format="json")

    assert counted(agent) == Counter({"total": 1, "t_SIGNAL_GENERATION": 1, "o_FAILURE": 1})


@pytest.mark.parametrize(("value", "path"), [(10**40 + 1, "context.size"), ({"a": {"b": 1e-200}}, "context.size.a.b")])
def test_a_value_dynamodb_cannot_store_is_refused_before_anything_is_written(client, agent, value, path):
    sent = a_decision(agent, context={"size": value})

    refused = client.post(URL, sent, format="json")
    fixed = client.post(URL, sent | {"context": {"size": 1}}, format="json")

    assert refused.status_code == 400
    assert refused.json()["detail"].startswith(f"{path}:")
    assert path in refused.json()["fields"]
    assert fixed.status_code == 201


def test_in_a_batch_such_a_value_makes_only_its_item_invalid(client, agent):
    good, bad = a_decision(agent), a_decision(agent, context={"size": 10**40 + 1})

    response = client.post(URL, [good, bad], format="json")

    assert [r["status"] for r in response.json()["results"]] == ["created", "invalid"]
    assert "context.size" in response.json()["results"][1]["detail"]


def test_an_id_whose_time_is_unusable_needs_a_timestamp(client, agent):
    sent = a_decision(agent, decision_id="00000000000000000000000000")  # 1970: long expired

    refused = client.post(URL, sent, format="json")
    accepted = client.post(URL, sent | {"timestamp": datetime.now(UTC).isoformat()}, format="json")

    assert refused.status_code == 400
    assert refused.json()["detail"].startswith("decision_id:")
    assert accepted.status_code == 201


def test_an_id_past_the_year_9999_is_no_usable_ulid(client, agent):
    sent = a_decision(agent, decision_id="7ZZZZZZZZZZZZZZZZZZZZZZZZZ", timestamp=datetime.now(UTC).isoformat())

    response = client.post(URL, sent, format="json")

    assert response.status_code == 400
    assert response.json()["detail"].startswith("decision_id:")


def test_a_retry_with_the_timestamp_read_back_is_the_same_decision(client, agent):
    sent = a_decision(agent, timestamp="2026-11-27T10:00:00.123456+00:00")
    sent["timestamp"] = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    first = client.post(URL, sent, format="json").json()

    again = client.post(URL, sent | {"timestamp": first["timestamp"]}, format="json")

    assert again.status_code == 200
    assert first["timestamp"].endswith("Z") or first["timestamp"].endswith("+00:00")
    assert datetime.fromisoformat(first["timestamp"]).microsecond % 1000 == 0


def test_ids_in_urls_are_read_in_any_case(client, agent):
    sent = a_decision(agent)
    client.post(URL, sent, format="json")

    assert client.get(f"{URL}{sent['decision_id'].lower()}/").status_code == 200


@pytest.mark.parametrize("decision_id", ["not-a-ulid", "X" * 3000])
def test_an_id_that_is_no_ulid_is_404(client, decision_id):
    response = client.get(f"{URL}{decision_id}/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_an_until_far_in_the_past_is_a_400(client):
    response = client.get(URL, {"until": "0001-01-02T00:00:00Z"})

    assert response.status_code == 400
    assert response.json()["detail"].startswith("until")


def test_the_bearer_keyword_is_case_insensitive(agent_token, agent):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"bearer {agent_token(agent)}")

    assert client.get(URL).status_code == 200


@pytest.mark.django_db(transaction=True)  # the two requests run in threads, each with its own connection
def test_the_same_batch_sent_twice_at_once_is_stored_and_counted_once(as_agent, agent):
    import threading

    batch = [a_decision(agent, type="TRADE_EXECUTION") for _ in range(20)]
    clients = [as_agent(agent), as_agent(agent)]
    responses = []
    barrier = threading.Barrier(2)

    def send(client) -> None:
        barrier.wait()
        responses.append(client.post(URL, batch, format="json"))

    threads = [threading.Thread(target=send, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [response.status_code for response in responses] == [200, 200]
    first, second = ([r["status"] for r in response.json()["results"]] for response in responses)
    assert all({a, b} == {"created", "exists"} for a, b in zip(first, second, strict=True))
    listed = clients[0].get(URL, {"agent": agent, "limit": 500}).json()["results"]
    assert len(listed) == 20
    assert counted(agent) == Counter({"total": 20, "t_TRADE_EXECUTION": 20, "o_PENDING": 20})


@pytest.mark.parametrize("first_with_time", [False, True])
def test_an_id_sent_again_with_another_time_is_a_conflict_not_a_second_decision(client, agent, first_with_time):
    sent = a_decision(agent)  # no timestamp: the time in its id
    other_time = sent | {"timestamp": (datetime.now(UTC) - timedelta(minutes=5)).isoformat()}
    first, again = (other_time, sent) if first_with_time else (sent, other_time)
    assert client.post(URL, first, format="json").status_code == 201

    assert client.post(URL, again, format="json").status_code == 409
    assert [d["decision_id"] for d in client.get(URL, {"agent": agent}).json()["results"]] == [sent["decision_id"]]


def test_a_change_an_earlier_version_counted_is_not_counted_again_after_the_upgrade(own_tables, as_agent):
    """Counted before the upgrade in a row of ten minutes, under its longer token: a repeated report
    after it must not count the change again in the hourly row."""
    from decisions.repository import _hourly_rows_since

    agent = "upgraded-agent"
    client = as_agent(agent)
    sent = a_decision(agent)
    client.post(URL, sent, format="json")
    client.post(f"{URL}{sent['decision_id']}/outcome/", {"status": "SUCCESS"}, format="json")
    table = storage.table(AGENT_DECISIONS)
    for row in table.query_all(f"rollup#{datetime.now(UTC):%Y-%m-%d}"):  # as the earlier version kept them
        table.delete({"pk": row["pk"], "sk": row["sk"]})
        table.put(row | {"sk": row["sk"].replace("#", ":0#", 1)})
    table.put({"pk": "migration", "sk": "stm-to-learn", "done": int(time.time()) + 1})
    _hourly_rows_since.cache_clear()
    time.sleep(1.1)
    before = counted(agent)

    client.post(f"{URL}{sent['decision_id']}/outcome/", {"status": "SUCCESS"}, format="json")  # unchanged

    assert counted(agent) == before == Counter({"total": 1, "t_SIGNAL_GENERATION": 1, "o_SUCCESS": 1})
    _hourly_rows_since.cache_clear()
