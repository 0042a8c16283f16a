"""Consolidation through a real Celery worker on the real Redis (127.0.0.1:6379), including a
worker killed with SIGKILL in the middle of a run."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from celery import Celery
from django.conf import settings
from ulid import ULID

from patterns import consolidation
from patterns import memory_repository as repo
from tests.patterns.helpers import define, log

REDIS = "redis://127.0.0.1:6379/14"  # a database of its own: `make run` uses 0


@pytest.fixture
def queue(unique) -> str:
    return f"test-{unique.lower()}"


@pytest.fixture
def client(queue) -> Iterator[Celery]:
    app = Celery("memsite-test-client", broker=REDIS, backend=REDIS)
    app.conf.task_default_queue = queue
    yield app
    app.close()


@pytest.fixture
def start_worker(queue, tmp_path) -> Iterator[Callable[..., subprocess.Popen]]:
    """start_worker(**env) -> a worker process consuming this test's queue, on the test tables."""
    started: list[subprocess.Popen] = []

    def start(**env: str) -> subprocess.Popen:
        environment = (
            os.environ
            | {
                "DJANGO_SETTINGS_MODULE": "tests.settings",
                "AWS_ENDPOINT_URL_DYNAMODB": settings.DYNAMODB_ENDPOINT_URL,
                "DYNAMODB_TABLE_PREFIX": settings.DYNAMODB_TABLE_PREFIX,
                "REDIS_URL": REDIS,
                "DATABASE_URL": f"sqlite:///{tmp_path / 'worker.sqlite3'}",
            }
            | env
        )
        log_file = (tmp_path / f"worker-{len(started)}.log").open("w")
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "--app",
                "memsite",
                "worker",
                "--pool",
                "solo",
                "--queues",
                queue,
                "--hostname",
                f"{queue}-{len(started)}@%h",
                "--without-gossip",
                "--without-mingle",
                "--loglevel",
                "INFO",
            ],
            cwd=settings.BASE_DIR,
            env=environment,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture
def definition(unique):
    marker = f"m{unique[-10:].lower()}"
    created = define(f"w-{marker}", marker, name="worker test pattern")
    return created, marker


def worker_log(folder) -> str:
    return "\n".join(path.read_text()[-3000:] for path in sorted(folder.glob("worker-*.log")))


def runs_of(agent: str) -> list:
    return [r for r in repo.runs_recent([f"{datetime.now(UTC):%Y-%m-%d}"], limit=500) if r.agent_id == agent]


def test_a_worker_consolidates_an_agent_end_to_end(client, start_worker, definition):
    (pattern, marker), agent = definition, f"agent-{str(ULID())[-10:].lower()}"
    for status in ["SUCCESS", "SUCCESS", "FAILURE"]:
        log(agent, marker, outcome=status)
    start_worker()

    result = client.send_task("patterns.tasks.consolidate_agent", args=[agent]).get(timeout=60)

    assert result["status"] == "succeeded"
    assert result["decisions_counted"] == 3
    counted = repo.state_find(pattern.id, agent).state
    assert counted.support == 3
    assert counted.hits == pytest.approx(2, abs=0.01)
    assert [r.status for r in runs_of(agent)] == ["succeeded"]


def test_a_worker_killed_mid_run_is_redelivered_and_counts_equal_a_clean_run(
    client, start_worker, definition, tmp_path
):
    (pattern, marker), unique = definition, str(ULID())[-9:].lower()
    killed_agent, clean_agent = f"killed-{unique}", f"clean-{unique}"
    outcomes = ["SUCCESS", "FAILURE", "SUCCESS", "SUCCESS"] * 15
    # Counts decay by the time between decisions (learner.evidence_add), so the two agents get
    # the same decision times: then any difference in their counts is the crash's doing.
    start = datetime.now(UTC) - timedelta(minutes=10)
    for agent in (killed_agent, clean_agent):
        for n, status in enumerate(outcomes):
            log(agent, marker, outcome=status, at=start + timedelta(seconds=n))
    small_batches = {
        "CONSOLIDATION_BATCH_SIZE": "1",
        "CELERY_VISIBILITY_TIMEOUT": "2",
        "CONSOLIDATION_LEASE_SECONDS": "3",
    }
    worker = start_worker(**small_batches)

    pending = client.send_task("patterns.tasks.consolidate_agent", args=[killed_agent])
    deadline = time.monotonic() + 60
    while not any(r.status == "running" and r.decisions_counted > 0 for r in runs_of(killed_agent)):
        assert worker.poll() is None, "the worker stopped: " + worker_log(tmp_path)
        assert time.monotonic() < deadline, "the run never started: " + worker_log(tmp_path)
        time.sleep(0.02)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    interrupted = max(r.decisions_counted for r in runs_of(killed_agent))
    assert 0 < interrupted < len(outcomes), "the worker was not killed mid-run"

    start_worker(**small_batches)
    result = pending.get(timeout=90)
    consolidation.consolidate_agent(clean_agent)
    # With a 2 s visibility timeout the task may be handed out once more while it runs (harmless:
    # the lease and the batch marks make it a no-op); let such a copy finish before counting runs.
    settle = time.monotonic() + 30
    while any(r.status == "running" for r in runs_of(killed_agent)) and time.monotonic() < settle:
        time.sleep(0.1)

    assert result["status"] == "succeeded"
    killed, clean = (repo.state_find(pattern.id, agent).state for agent in (killed_agent, clean_agent))
    assert killed.support == clean.support == len(outcomes)
    assert killed.as_of == clean.as_of
    assert killed.hits == pytest.approx(clean.hits, rel=1e-12)
    assert killed.misses == pytest.approx(clean.misses, rel=1e-12)
    statuses = sorted(r.status for r in runs_of(killed_agent))
    # The redelivered task may first find the dead run's lease still held: skipped, retried.
    assert statuses.count("interrupted") == 1
    assert statuses.count("succeeded") >= 1  # a copy handed out again meanwhile succeeds too, counting nothing
    assert set(statuses) <= {"interrupted", "skipped", "succeeded"}
