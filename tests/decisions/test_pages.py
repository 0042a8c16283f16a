"""The decision pages, rendered by Django's test client against the real storage."""

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from ulid import ULID

from tests.decisions.test_api import URL, a_decision


@pytest.fixture
def viewer(client, bob):
    client.force_login(bob)
    return client


@pytest.fixture
def logged(as_agent):
    """Decisions of a page-test agent, spread over the last hours, with some outcomes."""
    agent = f"pages-{str(ULID())[-6:].lower()}"
    client = as_agent(agent)
    now = datetime.now(UTC)
    batch = [
        a_decision(
            agent,
            type=kind,
            timestamp=(now - timedelta(minutes=7 * n)).isoformat(),
            reasoning={"summary": f"reason {n}", "score": n / 10},
            context={"price_usd": 64000 + n, "whale": n % 2 == 0},
        )
        for n, kind in enumerate(["SIGNAL_GENERATION", "TRADE_EXECUTION"] * 6)
    ]
    assert client.post(URL, batch, format="json").status_code == 200
    client.post(
        f"{URL}{batch[0]['decision_id']}/outcome/", {"status": "SUCCESS", "metrics": {"pnl_usd": 12.5}}, format="json"
    )
    return agent, batch


@pytest.mark.parametrize("path", ["/", "/decisions/", f"/decisions/{ULID()}/", "/decisions/export.csv"])
def test_every_page_requires_login(client, db, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("path", ["/", "/decisions/", "/decisions/export.csv", "/status/"])
def test_a_person_without_a_role_is_refused_every_page(client, charlie, path):
    client.force_login(charlie)

    response = client.get(path)

    assert response.status_code == 403
    assert "no role" in response.content.decode()


def test_the_overview_shows_hourly_charts_and_the_latest_decisions(viewer, logged):
    agent, _ = logged

    html = viewer.get("/").content.decode()

    assert 'id="figure-per-hour"' in html
    assert 'id="figure-success"' in html
    assert "reason 0" in html
    assert agent in html


def test_the_overview_says_why_a_chart_is_missing(viewer, own_tables, as_agent):
    agent = f"quiet-{str(ULID())[-6:].lower()}"
    now = datetime.now(UTC)
    two_days_ago = a_decision(agent, timestamp=(now - timedelta(days=2)).isoformat())
    as_agent(agent).post(URL, two_days_ago, format="json")

    quiet = viewer.get("/").content.decode()
    assert 'id="quiet-day"' in quiet
    assert 'id="figure-per-hour"' not in quiet
    assert two_days_ago["decision_id"] in quiet  # still listed among the week's latest

    as_agent(agent).post(URL, a_decision(agent), format="json")
    pending = viewer.get("/").content.decode()
    assert 'id="figure-per-hour"' in pending
    assert 'id="no-outcomes"' in pending
    assert 'id="figure-success"' not in pending


def test_the_overview_of_an_empty_system_says_how_to_start(viewer, own_tables):

    html = viewer.get("/").content.decode()

    assert "No decisions yet" in html
    assert "manage.py agent_create" in html
    assert 'id="figure-per-hour"' not in html


def test_the_list_keeps_its_filters_in_the_url_and_shows_only_matches(viewer, logged):
    agent, batch = logged

    response = viewer.get("/decisions/", {"agent": agent, "type": "TRADE_EXECUTION", "range": "day"})

    html = response.content.decode()
    assert f'<option value="{agent}" selected>' in html
    assert '<option value="TRADE_EXECUTION" selected>' in html
    shown = [d for d in batch if d["decision_id"] in html]
    assert {d["type"] for d in shown} == {"TRADE_EXECUTION"}
    assert len(shown) == 6
    timeline = json.loads(html.split('id="figure-timeline" type="application/json">')[1].split("</script>")[0])
    assert {trace["name"] for trace in timeline["data"]} == {"TRADE_EXECUTION"}


def test_the_list_pages_with_a_cursor(viewer, logged):
    from decisions import views

    agent, batch = logged
    views.TABLE_ROWS, saved = 5, views.TABLE_ROWS
    try:
        first = viewer.get("/decisions/", {"agent": agent}).content.decode()
        cursor = first.split("cursor=")[1].split('"')[0]
        second = viewer.get(f"/decisions/?agent={agent}&cursor={cursor}").content.decode()
    finally:
        views.TABLE_ROWS = saved

    assert batch[0]["decision_id"] in first
    assert batch[5]["decision_id"] in second
    assert batch[0]["decision_id"] not in second


def test_a_bad_filter_is_explained_not_a_crash(viewer, db):
    response = viewer.get("/decisions/", {"range": "custom", "since": "not a date"})

    assert response.status_code == 200
    assert "since:" in response.content.decode()


def test_the_detail_reads_as_text_with_outcome_and_history(viewer, logged, as_person, alice):
    _, batch = logged
    decision_id = batch[0]["decision_id"]
    as_person(alice).post(f"{URL}{decision_id}/outcome/", {"status": "FAILURE", "note": "reversed"}, format="json")

    html = viewer.get(f"/decisions/{decision_id}/").content.decode()

    assert "<dt>Price usd</dt><dd>64,000</dd>" in html
    assert "reason 0" in html
    assert "reversed" in html
    assert "Outcome history" in html
    assert "user:alice" in html
    assert '{"price_usd"' not in html


def test_an_unknown_decision_is_a_friendly_404(viewer, db):
    response = viewer.get(f"/decisions/{ULID()}/")

    assert response.status_code == 404
    assert "Not found" in response.content.decode()


def test_the_csv_export_streams_every_matching_decision(viewer, logged):
    agent, batch = logged

    response = viewer.get("/decisions/export.csv", {"agent": agent, "range": "day"})

    assert response.streaming
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert {row["decision_id"] for row in rows} == {d["decision_id"] for d in batch}
    assert json.loads(rows[0]["context"])["price_usd"] == 64000
    assert 'filename="decisions-' in response["Content-Disposition"]


def test_the_jsonl_export_has_one_decision_per_line(viewer, logged):
    agent, batch = logged

    response = viewer.get("/decisions/export.jsonl", {"agent": agent, "type": "SIGNAL_GENERATION"})

    lines = b"".join(response.streaming_content).decode().splitlines()
    assert sorted(json.loads(line)["decision_id"] for line in lines) == sorted(
        d["decision_id"] for d in batch if d["type"] == "SIGNAL_GENERATION"
    )


def test_the_csv_export_does_not_let_agent_text_run_as_a_formula(viewer, as_agent, unique):
    agent = f"csv-{unique[-6:].lower()}"
    as_agent(agent).post(URL, a_decision(agent, reasoning={"summary": '=HYPERLINK("http://x")'}), format="json")

    response = viewer.get("/decisions/export.csv", {"agent": agent})

    row = next(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert row["reasoning_summary"].startswith("'=")
