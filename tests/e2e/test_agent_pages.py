"""Agents, their configuration and the signal feed as people see them in Chromium."""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from rest_framework.test import APIClient
from ulid import ULID

from agents import config
from agents.services import agent_create
from signals import repository as signals_repository
from signals.schemas import Delivery, Signal
from tests.decisions.test_api import a_decision


@pytest.fixture
def hunter(transactional_db) -> tuple[str, APIClient]:
    agent_id = f"e2e-{str(ULID())[-6:].lower()}"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {agent_create(agent_id=agent_id, kind='market-hunter').token}")
    client.post(f"/api/v1/agents/{agent_id}/heartbeat/", {"status": "cycle 3"}, format="json")
    return agent_id, client


def _second_person(browser: Browser, live_server, username: str) -> Page:
    from django.contrib.auth import get_user_model

    from memsite.roles import role_group

    user = get_user_model().objects.create_user(username=username, password="correct horse battery")
    user.groups.add(role_group("operator"))
    page = browser.new_context(base_url=live_server.url, viewport={"width": 1300, "height": 900}).new_page()
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    return page


def _edit(page: Page, agent_id: str, threshold: int) -> None:
    document = json.loads(page.locator("#document").input_value())
    page.fill("#document", json.dumps(document | {"whale_threshold_btc": threshold}, indent=2))


def test_the_registry_shows_the_agent_online(logged_in: Page, hunter):
    agent_id, _ = hunter
    logged_in.goto("/agents/")

    row = logged_in.locator("tr", has_text=agent_id)
    expect(row.locator(".pill")).to_have_text("online")
    row.locator("a").first.click()
    expect(logged_in.locator("h1")).to_contain_text(agent_id)


def test_an_edit_is_previewed_as_a_diff_then_saved(logged_in: Page, hunter):
    agent_id, _ = hunter
    logged_in.goto(f"/agents/{agent_id}/config/")
    _edit(logged_in, agent_id, 750)
    logged_in.fill("#note", "fewer false whales")
    logged_in.click("button[value=preview]")

    expect(logged_in.locator("pre.diff .d-add")).to_have_text(['+  "whale_threshold_btc": 750'])
    expect(logged_in.locator("pre.diff .d-remove")).to_have_text(['-  "whale_threshold_btc": 500'])
    logged_in.click("button[value=save]")

    expect(logged_in.locator(".notice.ok")).to_have_text("Saved version 1.")
    expect(logged_in.locator("table.grid tbody tr").first).to_contain_text("fewer false whales")


def test_the_second_of_two_editors_sees_the_conflict_and_keeps_their_text(
    logged_in: Page, hunter, browser, live_server
):
    agent_id, _ = hunter
    carol = _second_person(browser, live_server, "carol")
    for page in (logged_in, carol):
        page.goto(f"/agents/{agent_id}/config/")
    _edit(logged_in, agent_id, 700)
    logged_in.fill("#note", "alice's change")
    logged_in.click("button[value=save]")
    _edit(carol, agent_id, 650)
    carol.fill("#note", "carol's change")

    carol.click("button[value=save]")

    expect(carol.locator(".notice.bad")).to_contain_text("version 1")
    expect(carol.locator(".notice.bad")).to_contain_text("user:alice")
    assert json.loads(carol.locator("#document").input_value())["whale_threshold_btc"] == 650
    expect(carol.locator("pre.diff .d-add")).to_have_text(['+  "whale_threshold_btc": 650'])
    expect(carol.locator("button[value=save]")).to_have_text("Save over version 1 by user:alice")
    carol.screenshot(path="test-artifacts/e2e/conflict-as-carol.png", full_page=True)


def test_a_rollback_writes_a_new_version(logged_in: Page, hunter):
    agent_id, _ = hunter
    for threshold, note in ((600, "first"), (900, "too high")):
        logged_in.goto(f"/agents/{agent_id}/config/")
        _edit(logged_in, agent_id, threshold)
        logged_in.fill("#note", note)
        logged_in.click("button[value=save]")

    logged_in.select_option("select[name=to_version]", "1")
    logged_in.fill("input[name=rollback_note]", "900 was a mistake")
    logged_in.click("form.rollback button")

    expect(logged_in.locator(".notice.ok")).to_contain_text("version 3 holds version 1")
    assert json.loads(logged_in.locator("#document").input_value())["whale_threshold_btc"] == 600


def test_the_signal_feed_updates_without_reloading(logged_in: Page, hunter, transactional_db):
    agent_id, client = hunter
    target = f"e2e-t-{str(ULID())[-6:].lower()}"
    agent_create(agent_id=target)
    logged_in.goto("/signals/")
    rows_before = logged_in.locator("table.feed tbody tr", has_text=agent_id).count()

    client.post(
        "/api/v1/signals/", {"type": "WHALE_ACTIVITY", "confidence": 0.85, "target_agents": [target]}, format="json"
    )

    expect(logged_in.locator("table.feed tbody tr", has_text=agent_id)).to_have_count(rows_before + 1, timeout=12_000)
    expect(logged_in.locator("table.feed tbody tr", has_text=agent_id).first).to_contain_text(f"{target}: waiting")


def _panel(page: Page, heading: str) -> Locator:
    return page.locator("section.panel", has=page.locator("h2", has_text=heading))


def _ok(response) -> None:
    assert response.status_code < 300, response.content


def _save_versions(agent_id: str, *documents: dict) -> None:
    editor = config.Editor(label="user:alice", may_edit=True)
    for n, document in enumerate(documents):
        raw = {"document": document, "note": f"tuning {n + 1}", "expected_version": n}
        config.config_save(agent_id=agent_id, raw=raw, editor=editor)


def test_the_agent_page_shows_state_memory_rate_limits_queries_and_config_changes(logged_in: Page, hunter):
    agent_id, client = hunter
    base = f"/api/v1/agents/{agent_id}"
    market = {"regime": "trend", "btc_price_usd": 64123.5}
    _ok(client.put(f"{base}/state/CURRENT/", {"cycle": 42, "market_context": market}, format="json"))
    remembered = {"value": {"exchange": "binance"}, "ttl_seconds": 3600}
    _ok(client.put(f"{base}/memory/last_whale/", remembered, format="json"))
    limits = {"cost": 3, "limit": 10, "window_seconds": 3600}
    _ok(client.post(f"{base}/ratelimits/glassnode/consume/", limits, format="json"))
    queries = [
        a_decision(agent_id, type="QUERY_EXECUTION", cycle=cycle, reasoning={"summary": f"glassnode flows {cycle}"})
        for cycle in (41, 42)
    ]
    _ok(client.post("/api/v1/decisions/", queries, format="json"))
    _save_versions(agent_id, {"whale_threshold_btc": 750})

    logged_in.goto(f"/agents/{agent_id}/")

    state = _panel(logged_in, "Current state")
    expect(state.locator("dt:text-is('Cycle') + dd")).to_have_text("42")
    expect(state.locator("dt:text-is('Regime') + dd")).to_have_text("trend")
    expect(state.locator("dt:text-is('Btc price usd') + dd")).to_have_text("64,123.5")
    memory = _panel(logged_in, "Short-term memory").locator("tr", has_text="last_whale")
    expect(memory).to_contain_text("binance")
    expect(memory).to_contain_text(re.compile(r"in (59\sminutes|1\shour)"))
    limit = _panel(logged_in, "Rate limits").locator("tr", has_text="glassnode")
    expect(limit).to_contain_text("3 / 10")
    filled = limit.locator(".usage").evaluate("u => u.firstElementChild.offsetWidth / u.offsetWidth")
    assert filled == pytest.approx(0.3, abs=0.01)
    recent = _panel(logged_in, "Recent queries").locator("tbody tr")
    expect(recent).to_have_count(2)
    expect(recent.first).to_contain_text("QUERY_EXECUTION")
    expect(recent.first).to_contain_text("glassnode flows")
    change = _panel(logged_in, "Configuration changes").locator("tbody tr")
    expect(change).to_have_count(1)
    expect(change).to_contain_text("user:alice")
    expect(change).to_contain_text("whale_threshold_btc: 500 → 750")
    expect(change).to_contain_text("tuning 1")


@pytest.mark.parametrize(
    ("text", "field", "message"),
    [
        ('{\n  "whale_threshold_btc": 750,,\n}', "document", "not valid JSON: Expecting property name"),
        ('{"whale_threshold_btc": -1, "cycle_minutes": 10}', "document.whale_threshold_btc", "greater than 0"),
        ('{"whale_treshold_btc": 750}', "document.whale_treshold_btc", "Extra inputs are not permitted"),
    ],
    ids=["bad-json", "out-of-range", "unknown-field"],
)
def test_the_editor_shows_errors_inline_and_keeps_the_typed_text(logged_in: Page, hunter, text, field, message):
    agent_id, _ = hunter
    logged_in.goto(f"/agents/{agent_id}/config/")
    logged_in.fill("#document", text)
    logged_in.fill("#note", "typo test")

    logged_in.click("button[value=save]")

    error = logged_in.locator("ul.field-errors li")
    expect(error).to_have_count(1)
    expect(error.locator("code")).to_have_text(field)
    expect(error).to_contain_text(message)
    expect(logged_in.locator("#document")).to_have_class(re.compile(r"\binvalid\b"))
    expect(logged_in.locator("#document")).to_have_value(text)
    expect(logged_in.locator("#note")).to_have_value("typo test")
    expect(logged_in.locator("button[value=save]")).to_have_text("Save as version 1")


def test_the_history_compares_two_chosen_versions(logged_in: Page, hunter):
    agent_id, _ = hunter
    _save_versions(
        agent_id,
        {"whale_threshold_btc": 600},
        {"whale_threshold_btc": 700, "cycle_minutes": 5},
        {"whale_threshold_btc": 800, "cycle_minutes": 5},
    )
    logged_in.goto(f"/agents/{agent_id}/config/")

    logged_in.select_option("select[name=from]", "1")
    logged_in.select_option("select[name=to]", "3")
    logged_in.click("text=Show diff")

    logged_in.wait_for_url("**/config/?from=1&to=3")
    expect(logged_in.locator("h3")).to_have_text("Version 1 → version 3")
    diff = logged_in.locator("pre.diff")
    expect(diff.locator(".d-header")).to_have_text(["--- version 1", "+++ version 3"])
    expect(diff.locator(".d-remove")).to_have_text(['-  "cycle_minutes": 10,', '-  "whale_threshold_btc": 600'])
    expect(diff.locator(".d-add")).to_have_text(['+  "cycle_minutes": 5,', '+  "whale_threshold_btc": 800'])


@pytest.fixture
def own_team(own_tables, transactional_db) -> dict[str, tuple[str, APIClient]]:
    """A hunter and two receivers in tables of this test's own: the Sankey and the feed show
    every agent's signals, and only these should be there."""
    suffix = str(ULID())[-6:].lower()
    team = {}
    for role in ("hunter", "risk", "trader"):
        agent_id = f"e2e-{role}-{suffix}"
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {agent_create(agent_id=agent_id).token}")
        team[role] = (agent_id, client)
    return team


def _publish(client: APIClient, targets: list[str], **fields) -> str:
    body = {"type": "WHALE_ACTIVITY", "confidence": 0.85, "target_agents": targets} | fields
    response = client.post("/api/v1/signals/", body, format="json")
    _ok(response)
    return response.json()["signal_id"]


def _flow_days_ago(source: str, kind: str, target: str, days: int) -> None:
    """A flow counted `days` ago: the API only takes signals that are still alive."""
    created = datetime.now(UTC) - timedelta(days=days)
    signals_repository.flows_add(
        Signal(
            signal_id=str(ULID.from_datetime(created)),
            type=kind,
            source_agent=source,
            confidence=0.5,
            target_agents=[target],
            created_at=created,
            expires_at=created + timedelta(days=1),
            deliveries={target: Delivery()},
        )
    )


def _sankey(page: Page) -> tuple[list[str], list[float]]:
    """The node labels and the drawn links' widths of the Sankey as Plotly drew it."""
    chart = page.locator("#chart-sankey")
    expect(chart.locator("g.sankey-node").first).to_be_visible()
    labels = chart.locator("g.sankey-node text.node-label").all_text_contents()
    widths = chart.locator("path.sankey-link").evaluate_all("paths => paths.map(p => p.getBBox().height)")
    return sorted(labels), widths


def test_the_sankey_draws_the_flows_of_the_chosen_window(logged_in: Page, own_team):
    hunter, hunter_client = own_team["hunter"]
    risk, trader = own_team["risk"][0], own_team["trader"][0]
    _publish(hunter_client, [risk, trader])
    _flow_days_ago(hunter, "FUNDING_SPIKE", risk, days=3)

    logged_in.goto("/signals/")

    labels, widths = _sankey(logged_in)
    assert labels == sorted([f"{hunter} (sends)", "WHALE_ACTIVITY", f"{risk} (receives)", f"{trader} (receives)"])
    assert len(widths) == 3
    assert all(width > 0 for width in widths)
    expect(logged_in.locator("form.inline .muted")).to_contain_text("2 deliveries")

    logged_in.select_option("select[name=days]", "7")
    logged_in.click("form.inline button[type=submit]")

    logged_in.wait_for_url("**/signals/?days=7")
    labels, widths = _sankey(logged_in)
    assert "FUNDING_SPIKE" in labels
    assert len(labels) == 5
    assert len(widths) == 5
    expect(logged_in.locator("form.inline .muted")).to_contain_text("3 deliveries")


def test_the_feed_shows_acknowledgement_without_reloading(logged_in: Page, own_team):
    hunter, hunter_client = own_team["hunter"]
    (risk, risk_client), (trader, trader_client) = own_team["risk"], own_team["trader"]
    signal_id = _publish(hunter_client, [risk, trader], ttl_seconds=7200)
    logged_in.goto("/signals/")
    row = logged_in.locator("table.feed tbody tr", has_text=hunter)
    expect(row.locator(".pill")).to_have_text([f"{risk}: waiting", f"{trader}: waiting"])
    expect(row.locator("td").nth(4)).to_have_text(re.compile(r"^(1h 59m|2h 00m)$"))
    logged_in.evaluate("window.notReloaded = true")

    _ok(risk_client.get("/api/v1/signals/inbox/"))
    _ok(trader_client.get("/api/v1/signals/inbox/"))
    _ok(trader_client.post("/api/v1/signals/ack/", {"signal_ids": [signal_id]}, format="json"))

    expect(row.locator(".pill")).to_have_text([f"{risk}: delivered", f"{trader}: acked"], timeout=12_000)
    expect(row.locator(".pill.ok")).to_have_attribute("title", re.compile(r"acknowledged \d\d:\d\d:\d\d"))
    assert logged_in.evaluate("window.notReloaded") is True
