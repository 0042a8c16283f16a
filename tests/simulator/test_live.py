"""A few live cycles of the team against a live server: signals flow, outcomes follow their
decisions, agents heartbeat, keep state and read long-term memory."""

import pytest

from agents.selectors import agent_get
from decisions.selectors import DecisionFilter, decision_list
from signals.selectors import signal_feed
from simulator.run import Simulation
from simulator.team import EXECUTOR, HUNTER, RISK, TEAM


@pytest.fixture
def clients(team_clients):
    return team_clients(flush_interval=0.05)


def test_live_cycles_talk_through_signals_and_report_outcomes_after_the_horizon(clients):
    simulation = Simulation(clients, seed=3)

    ran = simulation.live(seconds_per_cycle=0, cycles=13)
    for client in clients.values():
        client.flush()

    assert ran == 13
    feed = signal_feed()
    assert {s.source_agent for s in feed} >= {HUNTER}
    assert all(set(s.target_agents) <= {RISK, EXECUTOR} for s in feed)
    hunter_decisions, _ = decision_list(filters=DecisionFilter(agent=HUNTER, limit=500))
    assert {d.type for d in hunter_decisions} == {"SOURCE_SELECTION", "QUERY_EXECUTION", "SIGNAL_GENERATION"}
    reported = [d for d in hunter_decisions if d.outcome is not None]
    assert reported, "cycles 1..7 are past their six-cycle horizon"
    assert max(d.cycle for d in reported) <= 13 - 6
    risk_decisions, _ = decision_list(filters=DecisionFilter(agent=RISK, limit=500))
    assert any(d.links.consumed_signals for d in risk_decisions)
    for agent_id in TEAM:
        assert agent_get(agent_id=agent_id).liveness == "online"
