"""Faults the local servers do not produce on their own: an endpoint that is down, and a
DynamoDB that hands back part of a batch as UnprocessedItems.

The UnprocessedItems test injects the fault with botocore's event hooks on a real client
talking to dynalite over HTTP: the items it holds back never reach the server, exactly as
when DynamoDB refuses them, so only the retry loop can store them.
"""

import threading
import time

import pytest

from memsite.storage import Table, Unavailable
from memsite.storage.local import free_port
from memsite.storage.tables import AGENT_STATE
from tests.servers import gateway_for


class HoldBackHalfOfEachBatch:
    """For the first `rounds` BatchWriteItem calls, send only half the items and report the
    other half as unprocessed. Chunks go out in parallel: what a call held back is kept per
    thread (a call's before and after hooks run in its thread)."""

    def __init__(self, rounds: int) -> None:
        self.rounds = rounds
        self.calls = 0
        self._lock = threading.Lock()
        self._call = threading.local()

    def before(self, params, **kwargs):
        with self._lock:
            self.calls += 1
            calls = self.calls
        self._call.held_back = {}
        if calls > self.rounds:
            return
        for table_name, requests in params["RequestItems"].items():
            keep = len(requests) // 2 or 1
            self._call.held_back[table_name], requests[keep:] = requests[keep:], []

    def after(self, parsed, **kwargs):
        if getattr(self._call, "held_back", None):
            parsed["UnprocessedItems"] = self._call.held_back


class ReportEverythingUnprocessed:
    """A DynamoDB that never admits to having written anything."""

    def __init__(self) -> None:
        self.calls = 0
        self.sent: dict = {}

    def before(self, params, **kwargs):
        self.calls += 1
        self.sent = {name: list(requests) for name, requests in params["RequestItems"].items()}

    def after(self, parsed, **kwargs):
        parsed["UnprocessedItems"] = self.sent


@pytest.fixture
def flaky_state(dynalite, django_storage):
    from memsite import storage

    gateway = gateway_for(dynalite.endpoint_url, storage.gateway().config.table_prefix)
    fault = HoldBackHalfOfEachBatch(rounds=6)
    events = gateway.client.meta.events
    events.register("provide-client-params.dynamodb.BatchWriteItem", fault.before)
    events.register("after-call.dynamodb.BatchWriteItem", fault.after)
    return Table(AGENT_STATE, gateway), fault


def test_unprocessed_items_are_retried_until_every_item_is_stored(flaky_state, unique):
    state, fault = flaky_state
    items = [{"pk": f"agent:{unique}", "sk": f"STM#{n:03d}", "value": n} for n in range(60)]

    assert state.batch_write(items) == 60

    assert fault.calls > 3, "the held-back items were sent again"
    assert sorted(item["value"] for item in state.query_all(f"agent:{unique}")) == list(range(60))


def test_items_still_unprocessed_after_every_retry_are_unavailable(dynalite, django_storage, unique):
    from memsite import storage

    gateway = gateway_for(dynalite.endpoint_url, storage.gateway().config.table_prefix)
    fault = ReportEverythingUnprocessed()
    gateway.client.meta.events.register("provide-client-params.dynamodb.BatchWriteItem", fault.before)
    gateway.client.meta.events.register("after-call.dynamodb.BatchWriteItem", fault.after)

    with pytest.raises(Unavailable, match="2 items still unprocessed after 8 attempts"):
        Table(AGENT_STATE, gateway).batch_write([{"pk": f"agent:{unique}", "sk": f"STM#{n}"} for n in range(2)])
    assert fault.calls == 8


def test_an_endpoint_that_is_down_is_unavailable_within_a_bounded_time(unique):
    table = Table(AGENT_STATE, gateway_for(f"http://127.0.0.1:{free_port()}", "down_"))

    started = time.monotonic()
    with pytest.raises(Unavailable) as raised:
        table.get({"pk": f"agent:{unique}", "sk": "CURRENT"})

    assert time.monotonic() - started < 15
    assert raised.value.retry_after > 0
    assert "not answering" in str(raised.value)
