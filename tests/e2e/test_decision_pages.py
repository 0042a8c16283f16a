"""The decision pages as a person sees them in Chromium."""

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect
from rest_framework.test import APIClient
from ulid import ULID

from agents.services import agent_create
from tests.decisions.test_api import URL, a_decision


@pytest.fixture
def traffic(transactional_db) -> tuple[str, list[dict]]:
    """An agent with two hours of decisions of two types, some with outcomes."""
    agent = f"e2e-{str(ULID())[-6:].lower()}"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {agent_create(agent_id=agent).token}")
    now = datetime.now(UTC)
    batch = []
    for n in range(24):
        decision = a_decision(
            agent,
            type=["SIGNAL_GENERATION", "RISK_ASSESSMENT"][n % 2],
            timestamp=(now - timedelta(minutes=5 * n)).isoformat(),
            reasoning={"summary": f"e2e reason {n}"},
            context={"price_usd": 64000 + n, "regime": "trend"},
        )
        if n > 2:
            decision["outcome"] = {"status": "SUCCESS" if n % 3 else "FAILURE", "quality_score": 0.5}
        batch.append(decision)
    assert client.post(URL, batch, format="json").status_code == 200
    return agent, batch


def test_logging_in_leads_to_the_overview(logged_in: Page):
    expect(logged_in.locator("h1")).to_have_text("Overview")
    expect(logged_in.locator(".who")).to_contain_text("alice · operator")


def test_the_overview_charts_draw_bars_and_lines(logged_in: Page, traffic):
    logged_in.goto("/")

    expect(logged_in.locator("#chart-per-hour .main-svg").first).to_be_visible()
    bar_heights = logged_in.locator("#chart-per-hour g.trace.bars path").evaluate_all(
        "paths => paths.map(p => p.getBBox().height)"
    )
    assert sum(height > 0 for height in bar_heights) >= 2, "bars of the last two hours are drawn"
    line_lengths = logged_in.locator("#chart-success g.trace.scatter path.js-line").evaluate_all(
        "paths => paths.map(p => p.getTotalLength())"
    )
    assert max(line_lengths) > 0
    expect(logged_in.locator("table.decisions")).to_contain_text("e2e reason 0")


def test_timeline_filters_change_the_chart_and_the_url(logged_in: Page, traffic):
    agent, _ = traffic
    logged_in.goto("/decisions/")
    logged_in.select_option("select[name=agent]", agent)
    logged_in.select_option("select[name=type]", "RISK_ASSESSMENT")
    logged_in.click("form.filters button[type=submit]")

    logged_in.wait_for_url(f"**/decisions/?agent={agent}&type=RISK_ASSESSMENT**")
    legend = logged_in.locator("#chart-timeline g.legend text.legendtext")
    expect(legend).to_have_count(1)
    expect(legend.first).to_have_text("RISK_ASSESSMENT")
    points = logged_in.locator("#chart-timeline g.trace.scatter path.point")
    assert points.count() == 12
    rows = logged_in.locator("table.decisions tbody tr")
    expect(rows).to_have_count(12)
    expect(logged_in.locator("table.decisions")).not_to_contain_text("SIGNAL_GENERATION")


def test_clicking_a_row_opens_a_readable_decision(logged_in: Page, traffic):
    agent, batch = traffic
    logged_in.goto(f"/decisions/?agent={agent}")
    logged_in.locator("table.decisions tbody tr").nth(3).locator("a").click()

    logged_in.wait_for_url(f"**/decisions/{batch[3]['decision_id']}/")
    expect(logged_in.locator("h1")).to_contain_text(f"by {agent}")
    context = logged_in.locator("section.panel:has(h2:text-is('Context'))")
    expect(context.locator("dt").first).to_have_text("Price usd")
    expect(context.locator("dd").first).to_have_text("64,003")
    outcome = logged_in.locator("section.panel:has(h2:text-is('Outcome'))")
    expect(outcome.locator(".pill").first).to_have_text("failure")  # decision 3: 3 % 3 == 0


def test_an_empty_filter_result_says_so(logged_in: Page, transactional_db):
    logged_in.goto("/decisions/?agent=nobody-logs-this&range=hour")

    expect(logged_in.locator(".empty h2")).to_have_text("No decisions match")
    expect(logged_in.locator("#chart-timeline")).to_have_count(0)
