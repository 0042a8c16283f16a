"""The simulated team as an operator sees it in Chromium.

Once for the module (a setup of its own keeps the runtime low): the three agents of the simulator log
six hours of history and then seven live cycles through memclient against the live server, on tables
of the module's own, and consolidation folds their outcomes into learned patterns. Each test then
reads one page of what they left: the overview, the timeline, a decision, the patterns, the signals.
"""

import io
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.conf import settings
from django.core.management import call_command
from playwright.sync_api import Locator, Page, expect
from ulid import ULID

from agents.models import AgentToken
from agents.services import agent_create
from decisions.selectors import DecisionFilter, decision_list
from memclient import MemClient
from memsite import storage
from memsite.storage.provision import create_tables
from patterns.memory_selectors import PatternQuery, pattern_list
from signals.selectors import signal_feed, signal_flows
from simulator.run import Simulation
from simulator.team import EXECUTOR, HUNTER, RISK, TEAM

# The market's seed: over these 43 cycles it trends, chops, then turns volatile, and funding goes
# negative for a while, so each built-in pattern has decisions and the risk manager sends alerts.
SEED = 11
BACKFILL_DAYS = 0.25  # 36 ten-minute cycles, logged through the batch API
LIVE_CYCLES = 7  # live: signals flow, and the first live cycle's outcomes come due (six cycles on)


@dataclass
class SimulatedTeam:
    simulation: Simulation
    clients: dict[str, MemClient]
    tokens: list[dict]  # the agents' AgentToken rows

    def logged_by(self, agent_id: str) -> int:
        return next(agent.logged for agent in self.simulation.agents if agent.agent_id == agent_id)

    def flush(self) -> None:
        for client in self.clients.values():
            client.flush(timeout=60)


@contextmanager
def _module_tables() -> Iterator[None]:
    """own_tables for a whole module: the overview, patterns and signal flow read every agent's items."""
    previous = settings.DYNAMODB_TABLE_PREFIX
    settings.DYNAMODB_TABLE_PREFIX = f"team{str(ULID())[-8:].lower()}_"
    storage.reset()
    try:
        create_tables(storage.gateway("worker"), storage.ALL_TABLES)
        yield
    finally:
        settings.DYNAMODB_TABLE_PREFIX = previous
        storage.reset()


@pytest.fixture(scope="module")
def simulated_team(live_server, django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[SimulatedTeam]:
    """The team's history, once for the module. Outside a test pytest-django keeps Django's database
    closed, for the live server's threads too: it is opened while the team logs."""
    spool = tmp_path_factory.mktemp("spool")
    with _module_tables(), ExitStack() as clients_open:
        with django_db_blocker.unblock():
            clients = {
                agent_id: clients_open.enter_context(
                    MemClient(
                        base_url=live_server.url,
                        token=agent_create(agent_id=agent_id, name=name).token,
                        agent_id=agent_id,
                        spool_path=str(spool / f"{agent_id}.sqlite3"),
                        flush_interval=0.05,
                    )
                )
                for agent_id, name in TEAM.items()
            }
            team = SimulatedTeam(Simulation(clients, seed=SEED), clients, list(AgentToken.objects.values()))
            call_command("patterns", "import", "--builtins", stdout=io.StringIO())
            team.simulation.backfill(BACKFILL_DAYS, progress=lambda line: None)
            team.simulation.live(seconds_per_cycle=0, cycles=LIVE_CYCLES)
            team.flush()
            call_command("consolidate", stdout=io.StringIO())
        yield team  # closing the clients then sends nothing: each test flushes what it logs


@pytest.fixture
def team(simulated_team: SimulatedTeam, transactional_db) -> SimulatedTeam:
    """The team with its tokens: transactional_db empties Django's database after every test, while
    the team's history stays in DynamoDB. Putting the rows back keeps the pages' agent lists and the
    clients' tokens working."""
    if not AgentToken.objects.filter(agent_id__in=TEAM).exists():
        AgentToken.objects.bulk_create(AgentToken(**row) for row in simulated_team.tokens)
    return simulated_team


# Per Plotly trace: how many bars it drew taller than nothing, and the length of its drawn line.
BARS_DRAWN = "traces => traces.map(t => [...t.querySelectorAll('path')].filter(p => p.getBBox().height > 0).length)"
LINE_LENGTH = (
    "traces => traces.map(t => [...t.querySelectorAll('path.js-line')].reduce((n, p) => n + p.getTotalLength(), 0))"
)


def _points(page: Page, chart: str) -> Locator:
    return page.locator(f"#{chart} g.trace.scatter path.point")


def _panel(page: Page, heading: str) -> Locator:
    return page.locator(f"section.panel:has(h2:text-is('{heading}'))")


def _entry(page: Page, heading: str, label: str) -> Locator:
    """The value shown for `label` in that panel's list."""
    return _panel(page, heading).locator(f"dt:text-is('{label}') + dd")


def test_the_overview_draws_the_teams_hours_and_success_rates(logged_in: Page, team: SimulatedTeam):
    logged_in.goto("/")

    expect(logged_in.locator(".card", has_text="Agents active")).to_contain_text(", ".join(sorted(TEAM)))
    bars = logged_in.locator("#chart-per-hour g.trace.bars")
    expect(bars).to_have_count(5)  # one trace per decision type of the team
    drawn = bars.evaluate_all(BARS_DRAWN)
    assert min(drawn) >= 6, f"every type has a bar in each of the six hours: {drawn}"
    expect(logged_in.locator("#chart-success g.legend text.legendtext")).to_have_text(sorted(TEAM))
    lines = logged_in.locator("#chart-success g.trace.scatter").evaluate_all(LINE_LENGTH)
    assert len(lines) == len(TEAM)
    assert min(lines) > 100, f"each agent's success rate is a line across the hours: {lines}"


def test_choosing_an_agent_on_the_timeline_changes_the_url_and_the_points(logged_in: Page, team: SimulatedTeam):
    logged_in.goto("/decisions/")
    everyone = team.simulation.logged
    assert everyone < 500, "the chart plots them all"
    expect(_points(logged_in, "chart-timeline")).to_have_count(everyone)

    logged_in.select_option("select[name=agent]", RISK)
    logged_in.click("form.filters button[type=submit]")

    logged_in.wait_for_url(f"**/decisions/?agent={RISK}&**")
    assert parse_qs(urlparse(logged_in.url).query)["agent"] == [RISK]
    expect(_points(logged_in, "chart-timeline")).to_have_count(team.logged_by(RISK))
    expect(logged_in.locator("#chart-timeline g.legend text.legendtext")).to_have_text(["RISK_ASSESSMENT"])
    expect(logged_in.locator("#chart-timeline g.ytick text")).to_have_text([RISK])
    expect(logged_in.locator("table.decisions tbody tr").first).to_contain_text(RISK)


def test_a_live_signal_decision_shows_its_context_reasoning_outcome_and_signal(logged_in: Page, team: SimulatedTeam):
    now = datetime.now(UTC)
    recent, _ = decision_list(
        filters=DecisionFilter(agent=HUNTER, type="SIGNAL_GENERATION", since=now - timedelta(hours=1), limit=200)
    )
    decision = next(d for d in recent if d.outcome and d.links.produced_signals)
    logged_in.goto(f"/decisions/?agent={HUNTER}&type=SIGNAL_GENERATION&outcome={decision.outcome.status}&range=hour")

    logged_in.locator(f"table.decisions a[href='/decisions/{decision.decision_id}/']").click()

    logged_in.wait_for_url(f"**/decisions/{decision.decision_id}/")
    expect(logged_in.locator("h1")).to_have_text(f"SIGNAL_GENERATION by {HUNTER}")
    expect(logged_in.locator("p.lead")).to_have_text(decision.reasoning["summary"])
    expect(_entry(logged_in, "Context", "Regime")).to_have_text(decision.context["regime"])
    expect(_entry(logged_in, "Context", "Venue")).to_have_text(decision.context["venue"])
    expect(_entry(logged_in, "Reasoning", "Action")).to_have_text(decision.reasoning["action"])
    expect(_panel(logged_in, "Outcome").locator(".pill").first).to_have_text(decision.outcome.status.lower())
    expect(_entry(logged_in, "Outcome", "Return pct")).to_have_text(f"{decision.outcome.metrics['return_pct']:g}")
    expect(_panel(logged_in, "Related")).to_contain_text(decision.links.produced_signals[0])


def test_the_patterns_page_draws_each_learned_pattern_and_the_calibration(logged_in: Page, team: SimulatedTeam):
    learned = pattern_list(query=PatternQuery())
    names = {p.name for p in learned}
    assert {"Whale activity → price up", "Choppy market → signals fade", "High volatility → cutting risk pays"} <= names

    logged_in.goto("/patterns/")

    expect(logged_in.locator("table.patterns tbody tr")).to_have_count(len(learned))
    confidence = logged_in.locator("#chart-confidence")
    expect(confidence.locator("g.errorbar")).to_have_count(len(learned))
    expect(_points(logged_in, "chart-confidence")).to_have_count(
        2 * len(learned)
    )  # its confidence and its activation mark
    labels = confidence.locator("g.ytick text").all_text_contents()
    assert all(any(label.startswith(name) for label in labels) for name in names), labels
    expect(_points(logged_in, "chart-calibration").first).to_be_visible()


def test_the_signal_flow_links_the_teams_senders_types_and_receivers(logged_in: Page, team: SimulatedTeam):
    flows = signal_flows(days=1)
    assert {source for source, _, _ in flows} == {HUNTER, RISK}

    logged_in.goto("/signals/")

    expect(logged_in.locator("#chart-sankey g.sankey-node")).to_have_count(7)
    labels = logged_in.locator("#chart-sankey g.sankey-node text.node-label").all_text_contents()
    assert sorted(labels) == sorted(
        [
            f"{HUNTER} (sends)",
            f"{RISK} (sends)",
            "RISK_ALERT",
            "VOLUME_SPIKE",
            "WHALE_ACTIVITY",
            f"{RISK} (receives)",
            f"{EXECUTOR} (receives)",
        ]
    )
    heights = logged_in.locator("#chart-sankey rect.node-rect").evaluate_all(
        "rects => rects.map(r => r.getBBox().height)"
    )
    assert min(heights) > 0, heights
    links = logged_in.locator("#chart-sankey path.sankey-link")
    expect(links).to_have_count(len({(s, k) for s, k, _ in flows}) + len({(k, t) for _, k, t in flows}))


def test_the_feed_shows_the_next_live_cycles_signal_acknowledged(logged_in: Page, team: SimulatedTeam):
    logged_in.goto("/signals/")
    before = {s.signal_id for s in signal_feed(limit=25)}

    team.simulation.live(seconds_per_cycle=0, cycles=1)
    team.flush()

    new = [s for s in signal_feed(limit=25) if s.signal_id not in before]
    assert new, "the hunter raised a signal in cycle 44"
    row = logged_in.locator("table.feed tbody tr", has=logged_in.locator(f"a[href='/signals/{new[0].signal_id}/']"))
    expect(row).to_be_visible(timeout=12_000)  # htmx swaps the feed in every 5 s
    expect(row).to_contain_text(new[0].source_agent)
    expect(row).to_contain_text(f"{EXECUTOR}: acked")
