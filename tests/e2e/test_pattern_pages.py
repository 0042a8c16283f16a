"""The long-term memory pages as a person sees them in Chromium."""

import random

import pytest
from playwright.sync_api import Page, expect
from ulid import ULID

from agents.services import agent_create
from patterns import consolidation
from patterns import services as pattern_services
from tests.e2e.conftest import ARTIFACTS
from tests.patterns.helpers import OPERATOR, define, log


@pytest.fixture
def memory(transactional_db) -> dict:
    """Two agents whose outcomes were consolidated several times: a strong and a weak pattern."""
    marker = f"e{str(ULID())[-8:].lower()}"
    agents = [f"{name}-{marker}" for name in ("hunter", "risk")]
    for agent in agents:
        agent_create(agent_id=agent)
    strong = define(f"whale-{marker}", marker, name="Whale activity → price up", min_support=10, activate_at=0.6)
    weak = pattern_services.definition_create(
        raw={
            "id": f"chop-{marker}",
            "name": "Choppy market → signals fade",
            "decision_type": "SIGNAL_GENERATION",
            "conditions": [{"path": "context.regime", "op": "eq", "value": f"chop-{marker}"}],
            "min_support": 10,
        },
        editor=OPERATOR,
    )
    rng = random.Random(7)
    for _round in range(4):
        for agent in agents:
            for _ in range(6):
                log(agent, marker, outcome="SUCCESS" if rng.random() < 0.8 else "FAILURE")
                outcome = "SUCCESS" if rng.random() < 0.3 else "FAILURE"
                log(agent, f"x{marker}", outcome=outcome, action="short", regime=f"chop-{marker}")
            consolidation.consolidate_agent(agent)
    return {"agents": agents, "strong": strong, "weak": weak}


def test_the_pattern_list_draws_intervals_and_calibration(logged_in: Page, memory):
    logged_in.goto("/patterns/")

    expect(logged_in.locator("#chart-confidence .main-svg").first).to_be_visible()
    expect(logged_in.locator("#chart-confidence g.errorbar").first).to_be_attached()
    expect(logged_in.locator("#chart-calibration g.trace.scatter").first).to_be_attached()
    expect(logged_in.locator("table.patterns")).to_contain_text("Whale activity → price up")


def test_a_pattern_page_shows_its_evolution_and_supporting_decisions(logged_in: Page, memory):
    agent = memory["agents"][0]
    logged_in.goto(f"/patterns/{memory['strong'].id}/?agent={agent}")

    expect(logged_in.locator("#chart-evolution .main-svg").first).to_be_visible()
    line_lengths = logged_in.locator("#chart-evolution g.trace.scatter path.js-line").evaluate_all(
        "paths => paths.map(p => p.getTotalLength())"
    )
    assert max(line_lengths) > 0
    expect(logged_in.locator("ul.ids a").first).to_be_visible()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    logged_in.screenshot(path=str(ARTIFACTS / "pattern-detail.png"), full_page=True)
    logged_in.locator("ul.ids a").first.click()
    expect(logged_in.locator("h1")).to_contain_text("SIGNAL_GENERATION")


def test_strategies_and_ops_pages(logged_in: Page, memory):
    logged_in.goto(f"/patterns/strategies/?agent={memory['agents'][0]}")
    expect(logged_in.locator("table.strategies")).to_contain_text("long")

    logged_in.goto("/ops/")
    expect(logged_in.locator("table.runs")).to_contain_text(memory["agents"][0])


def test_the_archetypes_page_shows_clusters_with_their_success_rates(logged_in: Page, transactional_db, own_tables):
    """On tables of its own: archetypes are learned from every decision of the last week."""
    from decisions import services as decision_services
    from patterns.archetype_services import archetypes_rebuild

    agent = f"arch-{str(ULID())[-8:].lower()}"
    agent_create(agent_id=agent)
    actor = decision_services.Actor(label=f"agent:{agent}", agent_id=agent)
    rng = random.Random(3)
    for n in range(40):
        calm = n % 2 == 0
        context = {
            "funding_rate": (0.01 if calm else -0.04) + rng.uniform(-0.004, 0.004),
            "volatility": (0.2 if calm else 0.9) + rng.uniform(-0.05, 0.05),
            "whale_activity": not calm,
        }
        outcome = "SUCCESS" if rng.random() < (0.7 if calm else 0.35) else "FAILURE"
        decision_services.decision_record(
            raw={"agent_id": agent, "type": "TRADE_EXECUTION", "context": context, "outcome": {"status": outcome}},
            actor=actor,
        )
    assert archetypes_rebuild().stored

    logged_in.goto("/patterns/archetypes/")

    expect(logged_in.locator("#chart-archetypes .main-svg").first).to_be_visible()
    expect(logged_in.locator("#chart-archetypes g.errorbar").first).to_be_attached()
    rows = logged_in.locator("table.grid tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("succeeded")


def test_the_ops_page_shows_the_whole_monthly_bill_once_it_can_project(logged_in: Page, monkeypatch):
    import time

    from memsite import metrics

    two_hours = metrics.CapacityUsage(
        read_units=40_000, write_units=90_000, since=time.time() - 7200, index_write_units=30_000
    )
    monkeypatch.setattr(metrics, "capacity_usage", lambda: two_hours)

    logged_in.goto("/ops/")

    bill = logged_in.locator("table.bill")
    expect(bill).to_contain_text("DynamoDB requests")
    expect(bill).to_contain_text("DynamoDB storage")
    expect(bill).to_contain_text("CloudWatch")
    expect(bill.locator("tbody tr")).to_have_count(4)  # three parts and the total
    expect(logged_in.locator(".cost .card").nth(1)).to_contain_text("30,000 of them in indexes")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    logged_in.locator("section.cost").screenshot(path=str(ARTIFACTS / "ops-bill.png"))
