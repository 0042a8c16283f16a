"""The simulated team, end to end: two weeks of history through memclient and the batch API, then a
consolidation; the learner must find each planted probability (within ±0.05) from outcomes alone.

Two weeks give every planted effect 300 or more decisions (most over a thousand), so ±0.05 is at
least 2.4 standard errors: the check does not hang on the luck of one seed."""

import io

import pytest
from django.core.management import call_command

from patterns import consolidation
from patterns import memory_repository as repo
from patterns.memory_schemas import SHARED
from simulator import effects
from simulator.market import Market
from simulator.run import Simulation
from simulator.team import TEAM

SEED = 7


@pytest.fixture
def builtin_patterns(own_tables):
    """The built-in definitions, which the planted effects match one to one."""
    call_command("patterns", "import", "--builtins", stdout=io.StringIO())


def test_two_weeks_of_history_teach_each_planted_probability(builtin_patterns, team_clients):
    clients = team_clients()
    simulation = Simulation(clients, seed=SEED)

    logged = simulation.backfill(14, progress=lambda line: None)
    for client in clients.values():
        client.flush(timeout=600)
    for agent_id in TEAM:
        assert consolidation.consolidate_agent(agent_id).status == "succeeded"

    assert logged > 10_000
    learned = {effect.pattern_id: repo.state_find(effect.pattern_id, SHARED).state for effect in effects.PLANTED}
    report = "; ".join(f"{p}: {s.confidence:.3f} of {s.support}" for p, s in learned.items())
    for effect in effects.PLANTED:
        assert learned[effect.pattern_id].support >= 300, report
        assert learned[effect.pattern_id].confidence == pytest.approx(effect.probability, abs=0.05), report


def test_the_market_is_reproducible_from_its_seed():
    from datetime import UTC, datetime

    at = datetime(2026, 11, 27, tzinfo=UTC)
    first, second = Market(SEED), Market(SEED)

    assert [first.step(at) for _ in range(50)] == [second.step(at) for _ in range(50)]
    assert Market(SEED + 1).step(at) != Market(SEED).step(at)
