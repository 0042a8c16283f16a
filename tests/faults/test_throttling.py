"""DynamoDB throttling and partial batches on every write path: the team's decision batches,
outcome reports and signals, and the consolidation that learns from them. Everything is stored,
counted and learned exactly once.

The faults are injected with botocore's event hooks on the project's own storage clients, which
talk to dynalite over HTTP: a throttled attempt never leaves the client (as when DynamoDB refuses
it), and the items a partial batch holds back never reach the server, so only the retries (botocore's,
the batch writer's, memclient's after a 503, a rerun of consolidation) can store them. A seeded
generator decides which calls fail.
"""

import io
import json
import random
import threading
from collections import Counter, defaultdict
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from django.core.management import call_command

from decisions import services as decision_services
from decisions.schemas import Decision
from memsite import storage
from patterns import consolidation, learner, strategies
from patterns import memory_repository as repo
from patterns import repository as definitions
from patterns.matching import covers, is_hit
from patterns.memory_schemas import SHARED
from signals.selectors import signal_flows, signal_get
from simulator.run import Simulation
from tests.faults.helpers import assert_stored_exactly_once, responses_by_status

SEED = 20261128
THROTTLE_RATE = 0.05  # of all attempts, every operation
PARTIAL_RATE = 0.3  # of BatchWriteItem calls: half their items come back as UnprocessedItems
THROTTLE_CODES = ("ThrottlingException", "ProvisionedThroughputExceededException")


class _Body:
    def __init__(self, content: bytes) -> None:
        self.content = content

    def stream(self, **kwargs: Any):
        yield self.content


class InjectedFaults:
    """Throttles each operation's first attempt and a seeded fraction of all the others, and answers
    a fraction of batch writes in part. Off until `active` is set."""

    def __init__(self, seed: int) -> None:
        self.active = False
        self.attempts: Counter = Counter()  # operation -> attempts made
        self.throttled: Counter = Counter()  # operation -> attempts refused
        self.held_back = 0  # items answered as unprocessed
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._call = threading.local()  # a call's hooks run in its own thread, one after the other

    def install(self, gateway: storage.Gateway) -> None:
        events = gateway.client.meta.events
        events.register("before-send.dynamodb", self.throttle)
        events.register("provide-client-params.dynamodb.BatchWriteItem", self.hold_back)
        events.register("after-call.dynamodb.BatchWriteItem", self.report_unprocessed)

    def _draw(self) -> float:
        with self._lock:
            return self._random.random()

    def throttle(self, request, event_name: str, **kwargs):
        if not self.active:
            return None
        operation = event_name.rsplit(".", 1)[-1]
        with self._lock:
            self.attempts[operation] += 1
            # The first attempt of each operation is refused, so that every kind of call meets the fault.
            if self.attempts[operation] > 1 and self._random.random() >= THROTTLE_RATE:
                return None
            self.throttled[operation] += 1
            code = THROTTLE_CODES[sum(self.throttled.values()) % 2]
        body = {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": "injected"}
        return AWSResponse(request.url, 400, {}, _Body(json.dumps(body).encode()))

    def hold_back(self, params, **kwargs) -> None:
        self._call.unprocessed = {}
        if not self.active or self._draw() >= PARTIAL_RATE:
            return
        for table_name, requests in params["RequestItems"].items():
            keep = len(requests) // 2 or 1
            self._call.unprocessed[table_name], requests[keep:] = requests[keep:], []
            with self._lock:
                self.held_back += len(self._call.unprocessed[table_name])

    def report_unprocessed(self, parsed, **kwargs) -> None:
        if getattr(self._call, "unprocessed", None):
            parsed["UnprocessedItems"] = self._call.unprocessed
            self._call.unprocessed = {}


@pytest.fixture
def faults(store, monkeypatch) -> InjectedFaults:
    injected = InjectedFaults(SEED)
    for role in ("request", "worker"):
        injected.install(storage.gateway(role))
    # An ingest that fails leaves its agent's lease to run out, because a write it gave up on might
    # still land. These faults refuse before sending, so none can: a short lease spares the test
    # waiting out 90 s after each ingest the retries could not save.
    monkeypatch.setattr(decision_services, "INGEST_LEASE_SECONDS", 8)
    monkeypatch.setattr(decision_services, "INGEST_WRITE_WINDOW_SECONDS", 4)
    return injected


@pytest.fixture
def builtin_patterns(store) -> None:
    call_command("patterns", "import", "--builtins", stdout=io.StringIO())


def consolidate(agent_id: str) -> None:
    """What the Celery task does: run, and run again after a transient failure (a rerun finishes
    the batch the failed run left open)."""
    for _ in range(10):
        try:
            if consolidation.consolidate_agent(agent_id).status == "succeeded":
                return
        except (storage.Unavailable, storage.Conflict):
            continue
    pytest.fail(f"consolidation of {agent_id} never succeeded")


def learned_from(definition, decisions: list[Decision]) -> learner.Evidence:
    """The pattern's evidence counted by hand: each covered decision with an outcome, once."""
    evidence = learner.Evidence()
    for decision in sorted(decisions, key=lambda d: (d.timestamp, d.decision_id)):
        document = decision.model_dump(mode="json")
        if decision.outcome is not None and covers(definition, document):
            hit = bool(is_hit(definition, document))
            evidence = learner.evidence_add(
                evidence, at=decision.timestamp, hit=hit, half_life_days=definition.half_life_days
            )
    return evidence


def strategy_counts(decisions: list[Decision]) -> dict[tuple[str, str], dict[str, dict[str, int]]]:
    """(type, bucket) -> action -> successes and failures, counted by hand."""
    counts: dict = defaultdict(lambda: defaultdict(lambda: {"s": 0, "f": 0}))
    for decision in decisions:
        document = decision.model_dump(mode="json")
        action = strategies.action_of(document)
        if decision.outcome is not None and action is not None:
            outcome = "s" if decision.outcome.status == "SUCCESS" else "f"
            counts[(decision.type, strategies.bucket_of(document))][action][outcome] += 1
    return {key: dict(actions) for key, actions in counts.items()}


def assert_signals_stored_once(published: list) -> None:
    """Each signal the API confirmed is stored as sent, and the flows count it once per target."""
    assert published
    for signal in published:
        kept = signal_get(signal_id=signal.signal_id)
        assert (kept.source_agent, kept.target_agents, kept.payload) == (
            signal.source_agent,
            signal.target_agents,
            signal.payload,
        )
    sent = Counter((s.source_agent, s.type, target) for s in published for target in s.target_agents)
    assert signal_flows(days=1) == sent


def assert_learned_once(stored: list[Decision], agent_ids) -> None:
    """Every pattern (shared: the built-ins) holds the evidence of each decision it covers once, and
    each agent's strategies count each decision with an action once."""
    supports = []
    for definition in definitions.definitions_list():
        expected = learned_from(definition, stored)
        state = repo.state_find(definition.id, SHARED)
        supports.append(state.state.support if state else 0)
        assert supports[-1] == expected.support, definition.id
        if state:
            assert state.state.hits == pytest.approx(expected.hits, rel=1e-9), definition.id
            assert state.state.misses == pytest.approx(expected.misses, rel=1e-9), definition.id
    assert sum(supports) > 0
    for agent_id in agent_ids:
        learned = {
            (s.decision_type, s.bucket): {action: c for action, c in s.actions.items() if c["s"] or c["f"]}
            for s in repo.strategies_of(agent_id)
        }
        assert learned == strategy_counts([d for d in stored if d.agent_id == agent_id]), agent_id


def test_throttling_and_partial_batches_on_every_write_path_store_and_learn_everything_once(
    team, faults, builtin_patterns
):
    answered_before = responses_by_status()
    faults.active = True
    Simulation(team, seed=6).backfill(0.1, progress=lambda line: None)  # batches of 25 to 60
    ran = Simulation(team, seed=5).live(seconds_per_cycle=0, cycles=8)  # signals; outcomes six cycles later
    for agent in team.values():
        agent.flush(timeout=120)
    for agent_id in team:
        consolidate(agent_id)
    faults.active = False

    answered = responses_by_status() - answered_before
    print(
        f"\nthrottled {dict(faults.throttled)} of {dict(faults.attempts)} attempts; "
        f"held back {faults.held_back} items; answered {dict(answered)}"
    )
    assert ran == 8
    assert all(faults.throttled[operation] for operation in ("BatchWriteItem", "PutItem", "UpdateItem"))
    assert faults.held_back > 0
    assert [status for status in answered if status >= 500 and status != 503] == []
    assert any(agent.reported for agent in team.values())
    stored = [decision for agent in team.values() for decision in assert_stored_exactly_once(agent)]
    assert_signals_stored_once([signal for agent in team.values() for signal in agent.published])
    assert_learned_once(stored, team)
