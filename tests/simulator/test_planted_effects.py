"""The simulated team, end to end: two weeks of history through memclient and the batch API, then a
consolidation; the learner must find each planted probability (within ±0.05) from outcomes alone.

Two weeks give every planted effect 300 or more decisions (most over a thousand), so ±0.05 is at
least 2.4 standard errors: the check does not hang on the luck of one seed."""

import pytest
from ulid import ULID

from agents.services import agent_create
from memclient import MemClient
from memsite import storage
from memsite.storage.provision import create_tables
from patterns import consolidation
from patterns import memory_repository as repo
from patterns.memory_schemas import SHARED
from patterns.services import Editor, definitions_import
from simulator import effects
from simulator.market import Market
from simulator.run import Simulation
from simulator.team import TEAM

SEED = 7


@pytest.fixture
def own_tables(storage_settings):
    """Tables of its own: shared patterns learn from every decision stored."""
    storage_settings(DYNAMODB_TABLE_PREFIX=f"sim{str(ULID())[-6:].lower()}_")
    create_tables(storage.gateway("worker"), storage.ALL_TABLES)
    import yaml
    from django.conf import settings

    builtins = yaml.safe_load((settings.BASE_DIR / "patterns" / "builtin_patterns.yaml").read_text())["patterns"]
    definitions_import(entries=builtins, editor=Editor(label="test", may_edit=True))


def test_two_weeks_of_history_teach_each_planted_probability(live_server, own_tables, tmp_path):
    clients = {
        agent_id: MemClient(
            base_url=live_server.url,
            token=agent_create(agent_id=agent_id, name=name).token,
            agent_id=agent_id,
            spool_path=str(tmp_path / f"{agent_id}.sqlite3"),
        )
        for agent_id, name in TEAM.items()
    }
    simulation = Simulation(clients, seed=SEED)

    logged = simulation.backfill(14, progress=lambda line: None)
    for client in clients.values():
        client.flush(timeout=600)
        client.close()
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
