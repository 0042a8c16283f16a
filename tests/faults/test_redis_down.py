"""Redis is down: decision ingest, signals and pages keep working (the web needs Redis only to
queue background work and to count API throttles, which then let everything through), and
consolidation catches up with what was logged meanwhile once it is back.

Redis is played by a port nobody listens on, in the settings and in the Celery app (the real Redis
keeps serving the other tests): the throttles' cache, Celery's broker and result store and the
status checks all point there until the test brings Redis back.
"""

import contextlib
import io
import time
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from ulid import ULID

from memsite import celery_app
from memsite.storage.local import free_port
from patterns import memory_repository as repo
from patterns.memory_schemas import SHARED
from tests.decisions.test_api import a_decision
from tests.patterns.helpers import define

DECISIONS = "/api/v1/decisions/"
SIGNALS = "/api/v1/signals/"
# Not a speed target: a request that waits on a Redis that is gone hangs for 20 s or more (the
# cache itself gives up after 0.2 s); any answer well under that is an answer, on a busy machine too.
QUICK = 10.0


@contextlib.contextmanager
def redis_down() -> Iterator[None]:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    cache = settings.CACHES["default"] | {"LOCATION": dead}
    broker, results = celery_app.conf.broker_url, celery_app.conf.result_backend
    with override_settings(
        REDIS_URL=dead, CELERY_BROKER_URL=dead, CELERY_RESULT_BACKEND=dead, CACHES={"default": cache}
    ):
        celery_app.conf.update(broker_url=dead, result_backend=dead)
        celery_app.close()  # its pools hold connections to the real Redis
        try:
            yield
        finally:
            celery_app.conf.update(broker_url=broker, result_backend=results)
            celery_app.close()


class Timed:
    """Calls a test client and keeps the slowest answer's time."""

    def __init__(self) -> None:
        self.slowest = 0.0

    def __call__(self, method, *args, **kwargs):
        started = time.monotonic()
        response = method(*args, **kwargs)
        self.slowest = max(self.slowest, time.monotonic() - started)
        return response


@pytest.fixture
def marker(unique) -> str:
    return f"m{unique[-10:].lower()}"


def a_logged(marker: str, agent: str, status: str | None) -> dict:
    decision = a_decision(agent, context={marker: True, "regime": "trend"})
    return decision | ({"outcome": {"status": status}} if status else {})


def test_with_redis_down_ingest_signals_and_pages_work_and_consolidation_catches_up_after(
    own_tables, as_agent, as_person, alice, marker
):
    pattern = define(f"r-{marker}", marker, min_support=1)
    hunter, risk = as_agent("market-hunter"), as_agent("risk-manager")
    person = as_person(alice)
    before = [a_logged(marker, "market-hunter", "SUCCESS") for _ in range(3)]
    assert hunter.post(DECISIONS, before, format="json").status_code == 200
    call_command("consolidate", stdout=io.StringIO())
    assert repo.state_find(pattern.id, SHARED).state.support == 3
    pending = a_logged(marker, "market-hunter", None)
    assert hunter.post(DECISIONS, pending, format="json").status_code == 201

    timed = Timed()
    # Throttles that would refuse the second call in a minute, were Redis there to count.
    with redis_down(), override_settings(API_THROTTLE_RATES={"agent": "1/min", "person": "1/min"}):
        during = [a_logged(marker, "market-hunter", status) for status in ("SUCCESS", "FAILURE", "SUCCESS", "SUCCESS")]
        batch = timed(hunter.post, DECISIONS, during, format="json")
        reported = timed(
            hunter.post, f"{DECISIONS}{pending['decision_id']}/outcome/", {"status": "FAILURE"}, format="json"
        )
        signal = {
            "type": "WHALE_ACTIVITY",
            "confidence": 0.8,
            "target_agents": ["risk-manager"],
            "signal_id": str(ULID()),
        }
        published = timed(hunter.post, SIGNALS, signal, format="json")
        inbox = timed(risk.get, f"{SIGNALS}inbox/")
        acked = timed(risk.post, f"{SIGNALS}ack/", {"signal_ids": [signal["signal_id"]]}, format="json")
        pages = {
            url: timed(person.get, url)
            for url in (
                "/",
                "/decisions/",
                f"/decisions/{pending['decision_id']}/",
                "/signals/",
                "/signals/feed/",
                f"/signals/{signal['signal_id']}/",
                "/patterns/",
                f"/patterns/{pattern.id}/",
                "/agents/",
                "/ops/",
            )
        }
        status_page = timed(person.get, "/status/")
        queued = timed(person.post, "/ops/", follow=True)

    assert batch.status_code == 200
    assert [r["status"] for r in batch.json()["results"]] == ["created"] * 4
    assert reported.status_code == 200
    assert published.status_code == 201
    assert [s["signal_id"] for s in inbox.json()["results"]] == [signal["signal_id"]]
    assert acked.json()["results"] == [{"signal_id": signal["signal_id"], "status": "acknowledged"}]
    assert {url: response.status_code for url, response in pages.items()} == dict.fromkeys(pages, 200)
    assert status_page.status_code == 200
    assert '<p class="big">not reachable</p>' in status_page.content.decode()
    assert queued.status_code == 200
    assert "Could not reach the task queue" in queued.content.decode()
    assert timed.slowest < QUICK

    call_command("consolidate", stdout=io.StringIO())  # what beat runs, once Redis is back

    caught_up = repo.state_find(pattern.id, SHARED).state
    assert caught_up.support == 3 + 4 + 1
    assert caught_up.hits == pytest.approx(3 + 3, abs=0.01)
    assert caught_up.misses == pytest.approx(2, abs=0.01)
