"""DynamoDB stops answering for 30 s while the simulated team is logging.

The endpoint is a dynalite of the test's own, frozen with SIGSTOP and thawed with SIGCONT: it still
accepts connections (the kernel does that), takes the requests and answers none, then works off
everything it was sent when it wakes up. That is the nastier outage: every call has to time out
instead of failing at once, and writes the server gave up on land afterwards.
"""

import os
import signal
import threading
import time
from collections.abc import Iterator

import pytest

from memsite import storage
from memsite.storage.local import LocalDynamo
from memsite.storage.provision import create_tables
from simulator.run import Simulation
from tests.faults.helpers import assert_stored_exactly_once, responses_by_status, slow_responses

OUTAGE_SECONDS = 30


class FreezableDynamo(LocalDynamo):
    def freeze(self) -> None:
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)


@pytest.fixture
def dynamo(storage_settings) -> Iterator[FreezableDynamo]:
    server = FreezableDynamo().start()
    try:
        storage_settings(DYNAMODB_ENDPOINT_URL=server.endpoint_url, DYNAMODB_TABLE_PREFIX="outage_")
        create_tables(storage.gateway("worker"), storage.ALL_TABLES)
        yield server
    finally:
        server.thaw()  # a frozen process cannot act on the SIGTERM that stops it
        server.stop()


@pytest.fixture
def store(dynamo) -> None:
    """The team's data goes to the DynamoDB this test freezes."""


def spooled(team) -> int:
    return sum(agent.pending() for agent in team.values())


def logged(team) -> int:
    return sum(len(agent.expected) for agent in team.values())


def test_a_hung_dynamodb_answers_503_the_team_spools_and_every_decision_is_stored_once(team, dynamo, api_errors_seen):
    for agent in team.values():
        agent.heartbeat(interval_seconds=60)  # the server has loaded its code before the clock runs
    answered_before, slow_before = responses_by_status(), slow_responses(10)
    stop = threading.Event()
    live = threading.Thread(
        target=Simulation(team, seed=11).live, kwargs={"seconds_per_cycle": 0.5, "stop": stop}, daemon=True
    )
    live.start()
    time.sleep(3)

    dynamo.freeze()
    frozen_at, logged_before = time.monotonic(), logged(team)
    # The team goes on logging, six hours of history among it: everything waits in the spools.
    Simulation(team, seed=12).backfill(0.25, progress=lambda line: None)
    most_spooled = 0
    while time.monotonic() - frozen_at < OUTAGE_SECONDS:
        most_spooled = max(most_spooled, spooled(team))
        time.sleep(0.5)
    logged_in_outage = logged(team) - logged_before
    dynamo.thaw()
    time.sleep(5)  # and carries on a little with DynamoDB back
    stop.set()
    live.join(timeout=120)
    assert not live.is_alive(), "the team's live loop did not stop"
    # An ingest that failed half-way leaves its agent's lease to run out (90 s: a write it gave up on
    # may still land when DynamoDB wakes up); the spools drain after that.
    for agent in team.values():
        agent.flush(timeout=150)

    answered = responses_by_status() - answered_before
    told = api_errors_seen.errors
    print(
        f"\nserver answered {dict(answered)}; memclient was told 503 {sum(e.status == 503 for e in told)} times, "
        f"got no answer {sum(e.status == 0 for e in told)} times; logged in the outage {logged_in_outage}, "
        f"most spooled {most_spooled}; logged in all { {a: len(c.expected) for a, c in team.items()} }"
    )
    assert answered[503] > 0
    assert [status for status in answered if status >= 500] == [503]
    assert slow_responses(10) == slow_before, "a request outlasted memclient's 10 s timeout"
    assert any(error.status == 503 and error.retry_after for error in told)
    assert logged_in_outage > 200
    assert most_spooled >= logged_in_outage
    for agent in team.values():
        assert_stored_exactly_once(agent)
