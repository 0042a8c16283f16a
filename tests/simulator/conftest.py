"""The simulated team's agents, registered on tables of the test's own, each with a memclient
pointed at the live server."""

from collections.abc import Callable, Iterator

import pytest

from agents.services import agent_create
from memclient import MemClient
from simulator.team import TEAM


@pytest.fixture
def team_clients(live_server, own_tables, tmp_path) -> Iterator[Callable[..., dict[str, MemClient]]]:
    """team_clients(**options) -> {agent_id: MemClient} for Market Hunter, Risk Manager and Trade
    Executor; closed after the test."""
    made: list[MemClient] = []

    def make(**options) -> dict[str, MemClient]:
        clients = {
            agent_id: MemClient(
                base_url=live_server.url,
                token=agent_create(agent_id=agent_id, name=name).token,
                agent_id=agent_id,
                spool_path=str(tmp_path / f"{agent_id}.sqlite3"),
                **options,
            )
            for agent_id, name in TEAM.items()
        }
        made.extend(clients.values())
        return clients

    yield make
    for client in made:
        client.close()
