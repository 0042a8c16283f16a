"""Fixtures of the fault tests: the simulated team, each agent with a memclient pointed at the
live server and a record of everything it asked to be stored, so a test can count what the store
holds of it afterwards.

Each test keeps its data apart: `store` gives it tables of its own (a module may override it, as
the outage test does with a DynamoDB of its own)."""

import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from agents.services import agent_create
from memclient import ApiError, MemClient
from simulator.team import TEAM


class RecordingClient:
    """A MemClient that remembers what its agent logged, reported and published, and what status
    each decision should end up with. Everything else goes to the client as it is."""

    def __init__(self, client: MemClient) -> None:
        self.client = client
        self.expected: dict[str, str] = {}  # decision id -> the outcome status it should have
        self.reported: dict[str, dict[str, Any]] = {}  # decision id -> the last outcome reported
        self.published: list[Any] = []  # the signals the API confirmed
        self._lock = threading.Lock()

    @property
    def agent_id(self) -> str:
        return self.client.agent_id

    def log_decision(self, **fields: Any) -> str:
        decision_id = self.client.log_decision(**fields)
        with self._lock:
            self.expected[decision_id] = (fields.get("outcome") or {}).get("status", "PENDING")
        return decision_id

    def report_outcome(self, decision_id: str, **fields: Any) -> None:
        self.client.report_outcome(decision_id, **fields)
        with self._lock:
            self.expected[decision_id] = fields.get("status", "SUCCESS")
            self.reported[decision_id] = fields

    def publish_signal(self, **fields: Any) -> Any:
        signal = self.client.publish_signal(**fields)
        with self._lock:
            self.published.append(signal)
        return signal

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


@pytest.fixture
def store(own_tables) -> None:
    """Where the test's data goes: tables of its own on the session's dynalite."""


@pytest.fixture
def team(store, live_server, tmp_path) -> Iterator[dict[str, RecordingClient]]:
    """Market Hunter, Risk Manager and Trade Executor, registered, each with a recording memclient
    (spool in tmp_path, quick to flush, retries at most 2 s apart); closed after the test."""
    clients = {
        agent_id: RecordingClient(
            MemClient(
                base_url=live_server.url,
                token=agent_create(agent_id=agent_id, name=name).token,
                agent_id=agent_id,
                spool_path=str(tmp_path / f"{agent_id}.sqlite3"),
                flush_interval=0.2,
                max_retry_wait=2.0,
            )
        )
        for agent_id, name in TEAM.items()
    }
    yield clients
    for recording in clients.values():
        recording.client.close(timeout=1.0)


class ApiErrorsSeen(logging.Handler):
    """The API errors memclient retried, read from its retry warnings (the error is an argument
    of the log record): what the agents were told while the fault lasted."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.errors: list[ApiError] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.errors += [arg for arg in record.args or () if isinstance(arg, ApiError)]


@pytest.fixture
def api_errors_seen() -> Iterator[ApiErrorsSeen]:
    handler = ApiErrorsSeen()
    logger = logging.getLogger("memclient")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)
