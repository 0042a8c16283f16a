"""The decision log API, from the outside: real HTTP handling in Django's test client, real
dynalite behind it."""

from datetime import UTC, datetime, timedelta

import pytest
from ulid import ULID

URL = "/api/v1/decisions/"


def a_decision(agent: str = "market-hunter", **overrides) -> dict:
    return {
        "decision_id": str(ULID()),
        "agent_id": agent,
        "type": "SIGNAL_GENERATION",
        "cycle": 12,
        "context": {"price": 64123.5, "regime": "trend", "whale": True},
        "reasoning": {"summary": "whale inflow 3x average", "score": 0.82},
        "links": {"produced_signals": ["01JSIGNAL0000000000000000A"]},
    } | overrides


@pytest.fixture
def hunter(as_agent):
    return as_agent("market-hunter")


def test_a_decision_is_created_and_can_be_read_back(hunter):
    sent = a_decision()

    created = hunter.post(URL, sent, format="json")
    read = hunter.get(f"{URL}{sent['decision_id']}/")

    assert created.status_code == 201
    assert read.status_code == 200
    body = read.json()
    assert body["decision_id"] == sent["decision_id"]
    assert body["context"] == sent["context"]
    assert body["outcome_status"] == "PENDING"
    assert body["timestamp"].startswith(str(ULID.from_str(sent["decision_id"]).datetime.date()))


def test_the_same_decision_twice_is_stored_once(hunter):
    sent = a_decision()

    first = hunter.post(URL, sent, format="json")
    second = hunter.post(URL, sent, format="json")

    assert (first.status_code, second.status_code) == (201, 200)
    listed = hunter.get(URL, {"agent": "market-hunter", "limit": 500}).json()["results"]
    assert [d["decision_id"] for d in listed].count(sent["decision_id"]) == 1


def test_the_same_id_with_different_content_is_a_conflict_and_keeps_the_first(hunter):
    sent = a_decision()
    hunter.post(URL, sent, format="json")

    again = hunter.post(URL, sent | {"reasoning": {"summary": "changed my mind"}}, format="json")

    assert again.status_code == 409
    assert again.json()["code"] == "conflict"
    assert "decision_id" in again.json()["fields"]
    assert hunter.get(f"{URL}{sent['decision_id']}/").json()["reasoning"] == sent["reasoning"]


def test_the_same_id_with_another_type_is_also_a_conflict(hunter):
    sent = a_decision()
    hunter.post(URL, sent, format="json")

    assert hunter.post(URL, sent | {"type": "RISK_ASSESSMENT"}, format="json").status_code == 409


def test_without_an_id_the_server_assigns_a_ulid_and_the_time(hunter):
    sent = a_decision()
    del sent["decision_id"]

    body = hunter.post(URL, sent, format="json").json()

    assert ULID.from_str(body["decision_id"])
    assert datetime.fromisoformat(body["timestamp"]) > datetime.now(UTC) - timedelta(minutes=1)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"type": "lower_case"}, "type"),
        ({"decision_id": "not-a-ulid"}, "decision_id"),
        ({"cycle": -1}, "cycle"),
        ({"context": "not an object"}, "context"),
        ({"timestamp": "2999-01-01T00:00:00Z"}, "timestamp"),
        ({"timestamp": "2020-01-01T00:00:00Z"}, "timestamp"),
        ({"outcome": {"status": "MAYBE"}}, "outcome.status"),
        ({"outcome": {"status": "SUCCESS", "quality_score": 1.5}}, "outcome.quality_score"),
        ({"links": {"parent_decision_id": "nope"}}, "links.parent_decision_id"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_every_validation_error_names_its_field(hunter, change, field):
    response = hunter.post(URL, a_decision() | change, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["detail"].startswith(f"{field}:")
    assert field in body["fields"]


def test_null_links_are_no_links(hunter):
    sent = a_decision(links=None)

    created = hunter.post(URL, sent, format="json")
    retried = hunter.post(URL, a_decision(decision_id=sent["decision_id"]) | {"links": {}}, format="json")

    assert created.status_code == 201
    assert created.json()["links"] == {"consumed_signals": [], "produced_signals": [], "parent_decision_id": None}
    assert retried.status_code == 200


def test_a_missing_required_field_is_named(hunter):
    sent = a_decision()
    del sent["type"]

    response = hunter.post(URL, sent, format="json")

    assert response.status_code == 400
    assert response.json()["detail"].startswith("type:")


def test_a_decision_over_the_size_limit_is_413_and_not_stored(hunter):
    sent = a_decision(context={"blob": "x" * 70_000})

    response = hunter.post(URL, sent, format="json")

    assert response.status_code == 413
    assert "65536" in response.json()["detail"]
    assert hunter.get(f"{URL}{sent['decision_id']}/").status_code == 404


def test_malformed_json_is_a_clear_400(hunter):
    response = hunter.post(URL, "{not json", content_type="application/json")

    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_a_batch_stores_the_valid_items_and_reports_each(hunter):
    good, bad, other_good = a_decision(), a_decision(type="nope"), a_decision()
    hunter.post(URL, good, format="json")  # already there: "exists"
    taken = a_decision()
    hunter.post(URL, taken, format="json")

    response = hunter.post(URL, [good, bad, other_good, taken | {"cycle": 99}], format="json")

    assert response.status_code == 207
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["exists", "invalid", "created", "conflict"]
    assert results[1]["detail"].startswith("[1] type:")
    assert hunter.get(f"{URL}{other_good['decision_id']}/").status_code == 200


def test_a_batch_where_everything_is_stored_answers_200(hunter):
    batch = [a_decision() for _ in range(30)]

    response = hunter.post(URL, batch, format="json")

    assert response.status_code == 200
    assert {r["status"] for r in response.json()["results"]} == {"created"}


def test_a_batch_over_100_decisions_is_refused(hunter):
    response = hunter.post(URL, [a_decision() for _ in range(101)], format="json")

    assert response.status_code == 400
    assert "at most 100" in response.json()["detail"]


def test_a_body_over_the_limit_is_413(hunter):
    response = hunter.post(URL, "[" + " " * 6_700_000 + "]", content_type="application/json")

    assert response.status_code == 413


def test_an_outcome_is_attached_later(hunter):
    sent = a_decision()
    hunter.post(URL, sent, format="json")

    response = hunter.post(
        f"{URL}{sent['decision_id']}/outcome/",
        {"status": "SUCCESS", "metrics": {"pnl": 12.5}, "quality_score": 0.9, "note": "price rose 2%"},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert body["outcome_status"] == "SUCCESS"
    assert body["outcome"]["metrics"] == {"pnl": 12.5}
    assert body["outcome"]["reported_by"] == "agent:market-hunter"


def test_correcting_an_outcome_keeps_the_previous_one_with_who_and_when(hunter, as_person, alice):
    sent = a_decision()
    hunter.post(URL, sent, format="json")
    outcome_url = f"{URL}{sent['decision_id']}/outcome/"
    hunter.post(outcome_url, {"status": "SUCCESS", "quality_score": 0.9}, format="json")

    corrected = as_person(alice).post(outcome_url, {"status": "FAILURE", "note": "fill was reversed"}, format="json")

    body = corrected.json()
    assert body["outcome"]["status"] == "FAILURE"
    assert body["outcome"]["reported_by"] == "user:alice"
    history = body["outcome_history"]
    assert [h["previous"]["status"] if h["previous"] else None for h in history] == [None, "SUCCESS"]
    assert history[-1]["replaced_by"] == "user:alice"


def test_reporting_the_same_outcome_again_changes_nothing(hunter):
    sent = a_decision()
    hunter.post(URL, sent, format="json")
    outcome_url = f"{URL}{sent['decision_id']}/outcome/"
    first = hunter.post(outcome_url, {"status": "SUCCESS"}, format="json").json()

    again = hunter.post(outcome_url, {"status": "SUCCESS"}, format="json").json()

    assert again["outcome_history"] == first["outcome_history"]
    assert again["version"] == first["version"]


def test_an_outcome_over_16_kib_is_413_and_the_decision_unchanged(hunter):
    sent = a_decision()
    hunter.post(URL, sent, format="json")
    outcome_url = f"{URL}{sent['decision_id']}/outcome/"

    response = hunter.post(outcome_url, {"status": "SUCCESS", "metrics": {"log": "x" * 17000}}, format="json")

    assert response.status_code == 413
    assert response.json()["detail"].startswith("outcome is ")
    assert hunter.get(f"{URL}{sent['decision_id']}/").json()["outcome_status"] == "PENDING"


def test_an_outcome_over_16_kib_sent_with_its_decision_is_413_too(hunter):
    sent = a_decision(outcome={"status": "SUCCESS", "metrics": {"log": "x" * 17000}})

    response = hunter.post(URL, sent, format="json")

    assert response.status_code == 413
    assert response.json()["detail"].startswith("outcome is ")


def test_an_outcome_body_is_judged_after_who_may_report_it(hunter, as_person, bob):
    sent = a_decision()
    hunter.post(URL, sent, format="json")
    oversized = {"status": "SUCCESS", "metrics": {"log": "x" * 17000}}

    assert as_person(bob).post(f"{URL}{sent['decision_id']}/outcome/", oversized, format="json").status_code == 403
    assert hunter.post(f"{URL}{ULID()}/outcome/", oversized, format="json").status_code == 404


def test_corrections_stop_with_a_clear_413_before_the_item_limit_and_keep_the_history(hunter):
    sent = a_decision(context={"blob": "c" * 60000})
    hunter.post(URL, sent, format="json")
    outcome_url = f"{URL}{sent['decision_id']}/outcome/"
    answers = [
        hunter.post(outcome_url, {"status": "SUCCESS", "metrics": {"n": n, "log": "x" * 15000}}, format="json")
        for n in range(20)
    ]

    codes = [answer.status_code for answer in answers]
    refused = codes.index(413)
    assert refused > 5
    assert set(codes[:refused]) == {200}
    assert set(codes[refused:]) == {413}
    assert "outcome history" in answers[refused].json()["detail"]
    stored = hunter.get(f"{URL}{sent['decision_id']}/").json()
    assert stored["outcome"]["metrics"]["n"] == refused - 1
    assert len(stored["outcome_history"]) == refused


def test_an_outcome_with_huge_numbers_is_stored_retried_and_corrected(hunter):
    sent = a_decision()
    hunter.post(URL, sent, format="json")
    outcome_url = f"{URL}{sent['decision_id']}/outcome/"
    report = {"status": "SUCCESS", "metrics": {"notional": 1e40, "count": 12 * 10**40}}

    first = hunter.post(outcome_url, report, format="json")
    again = hunter.post(outcome_url, report, format="json")
    corrected = hunter.post(outcome_url, report | {"status": "FAILURE"}, format="json")

    assert (first.status_code, again.status_code, corrected.status_code) == (200, 200, 200)
    assert again.json()["version"] == first.json()["version"], "the retry is the same report"
    assert len(corrected.json()["outcome_history"]) == 2


def test_an_outcome_for_an_unknown_decision_is_404(hunter):
    response = hunter.post(f"{URL}{ULID()}/outcome/", {"status": "SUCCESS"}, format="json")

    assert response.status_code == 404


def test_an_invalid_outcome_names_its_field(hunter):
    sent = a_decision()
    hunter.post(URL, sent, format="json")

    response = hunter.post(f"{URL}{sent['decision_id']}/outcome/", {"status": "WON"}, format="json")

    assert response.status_code == 400
    assert response.json()["detail"].startswith("status:")


def test_the_list_filters_by_agent_type_and_outcome_newest_first(own_tables, as_agent):
    """Tables of its own: the unfiltered and type-only lists read across agents, and other tests'
    decisions (some up to the allowed clock skew in the future) would come first."""
    hunter, risk = as_agent("hunter-f"), as_agent("risk-f")
    now = datetime.now(UTC)
    sent = []
    for minutes, (client, agent, kind) in enumerate(
        [
            (hunter, "hunter-f", "SIGNAL_GENERATION"),
            (risk, "risk-f", "RISK_ASSESSMENT"),
            (hunter, "hunter-f", "TRADE_EXECUTION"),
        ]
    ):
        decision = a_decision(agent, type=kind, timestamp=(now - timedelta(minutes=10 - minutes)).isoformat())
        client.post(URL, decision, format="json")
        sent.append(decision)
    hunter.post(f"{URL}{sent[2]['decision_id']}/outcome/", {"status": "FAILURE"}, format="json")

    def ids(**params):
        results = hunter.get(URL, params | {"since": (now - timedelta(hours=1)).isoformat()}).json()["results"]
        return [d["decision_id"] for d in results if d["agent_id"] in ("hunter-f", "risk-f")]

    assert ids(agent="hunter-f") == [sent[2]["decision_id"], sent[0]["decision_id"]]
    assert ids(type="RISK_ASSESSMENT") == [sent[1]["decision_id"]]
    assert ids(agent="hunter-f", type="SIGNAL_GENERATION") == [sent[0]["decision_id"]]
    assert ids(agent="hunter-f", outcome="FAILURE") == [sent[2]["decision_id"]]
    assert sent[2]["decision_id"] in ids(outcome="FAILURE")
    assert ids()[:3] == [d["decision_id"] for d in reversed(sent)]


def test_cursor_pages_return_every_decision_once(as_agent):
    client = as_agent("pager")
    now = datetime.now(UTC)
    batch = [a_decision("pager", timestamp=(now - timedelta(minutes=n)).isoformat()) for n in range(23)]
    client.post(URL, batch, format="json")

    seen, cursor, pages = [], None, 0
    while True:
        params = {"agent": "pager", "limit": 5} | ({"cursor": cursor} if cursor else {})
        body = client.get(URL, params).json()
        seen += [d["decision_id"] for d in body["results"]]
        pages += 1
        if not (cursor := body["next_cursor"]):
            break

    assert seen == [d["decision_id"] for d in batch]
    assert pages == 5


def test_a_tampered_cursor_is_a_400(hunter):
    hunter.post(URL, [a_decision() for _ in range(3)], format="json")
    cursor = hunter.get(URL, {"agent": "market-hunter", "limit": 1}).json()["next_cursor"]

    response = hunter.get(URL, {"agent": "market-hunter", "limit": 1, "cursor": cursor[:-4] + "AAAA"})

    assert response.status_code == 400
    assert response.json()["code"] in ("invalid", "invalid_cursor")


@pytest.mark.parametrize(
    ("params", "field"),
    [({"limit": 501}, "limit"), ({"outcome": "MAYBE"}, "outcome"), ({"since": "yesterday"}, "since"), ({"x": 1}, "x")],
)
def test_bad_list_parameters_name_the_parameter(hunter, params, field):
    response = hunter.get(URL, params)

    assert response.status_code == 400
    assert response.json()["detail"].startswith(f"{field}:")


def test_text_that_is_not_valid_unicode_is_a_400_naming_the_field(hunter):
    body = '{"agent_id": "market-hunter", "type": "SIGNAL_GENERATION", "context": {"note": "\\ud800"}}'

    response = hunter.post(URL, body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["detail"].startswith("context.note:")


def test_json_nested_too_deeply_to_parse_is_a_400(hunter):
    response = hunter.post(URL, "[" * 100_000 + "]" * 100_000, content_type="application/json")

    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]


@pytest.mark.parametrize("until", ["9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+05:00"])
def test_dates_at_the_edge_of_the_calendar_are_a_400(hunter, until):
    response = hunter.get(URL, {"until": until})

    assert response.status_code == 400
    assert response.json()["detail"].startswith("until")


def test_a_full_batch_of_large_decisions_is_accepted(hunter):
    batch = [a_decision(context={"blob": "x" * 50_000}) for _ in range(60)]  # about 3 MB

    response = hunter.post(URL, batch, format="json")

    assert response.status_code == 200


def test_a_filtered_list_never_answers_an_empty_first_page_while_matches_remain(own_tables, as_agent):
    """The issue's case: 100 decisions of one agent, only the oldest a SUCCESS."""
    client = as_agent("sparse-f")
    now = datetime.now(UTC)
    batch = [a_decision("sparse-f", timestamp=(now - timedelta(minutes=n)).isoformat()) for n in range(100)]
    batch[-1]["outcome"] = {"status": "SUCCESS"}
    assert client.post(URL, batch, format="json").status_code == 200
    since = (now - timedelta(hours=3)).isoformat()

    for params in ({"agent": "sparse-f", "outcome": "SUCCESS"}, {"outcome": "SUCCESS"}):
        page = client.get(URL, params | {"since": since, "limit": 10}).json()

        assert [d["decision_id"] for d in page["results"]] == [batch[-1]["decision_id"]], params


def test_pages_of_an_outcome_filter_across_agents_return_every_match_once(own_tables, as_agent):
    client = as_agent("every-f")
    now = datetime.now(UTC)
    batch = [a_decision("every-f", timestamp=(now - timedelta(minutes=n)).isoformat()) for n in range(40)]
    for n, decision in enumerate(batch):
        if n % 3:
            decision["outcome"] = {"status": "FAILURE"}
    client.post(URL, batch, format="json")
    expected = [d["decision_id"] for n, d in enumerate(batch) if n % 3]  # newest first

    seen, params = [], {"outcome": "FAILURE", "since": (now - timedelta(hours=2)).isoformat(), "limit": 7}
    while True:
        page = client.get(URL, params).json()
        seen += [d["decision_id"] for d in page["results"]]
        if not page["next_cursor"]:
            break
        params["cursor"] = page["next_cursor"]

    assert seen == expected
