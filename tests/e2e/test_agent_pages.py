"""Agents, their configuration and the signal feed as people see them in Chromium."""

import json

import pytest
from playwright.sync_api import Browser, Page, expect
from rest_framework.test import APIClient
from ulid import ULID

from agents.services import agent_create


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
