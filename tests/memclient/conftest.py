"""Fixtures for memclient against a real memsite: pytest-django's live server (backed by the
session's dynalite), agents with real tokens, and a small scripted HTTP server in front of the
live server to play outages, 503s and 429s."""

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from memclient import MemClient

FORWARDED_REQUEST_HEADERS = ("Authorization", "Content-Type", "If-None-Match", "Accept")
FORWARDED_RESPONSE_HEADERS = ("Content-Type", "ETag", "Retry-After")


@dataclass
class Agent:
    agent_id: str
    token: str


@pytest.fixture
def team(agent_token, unique) -> dict[str, Agent]:
    """market-hunter, risk-manager, trade-executor, with this test's suffix so that what one test
    stores in the session's tables never shows up in another's."""
    suffix = unique[-6:].lower()
    names = {role: f"{role}-{suffix}" for role in ("market-hunter", "risk-manager", "trade-executor")}
    return {role: Agent(name, agent_token(name)) for role, name in names.items()}


@pytest.fixture
def make_client(tmp_path: Path, live_server) -> Iterator[Callable[..., MemClient]]:
    """make_client(agent, base_url=live server, spool="name", **options): a MemClient with a spool
    in this test's tmp_path and a short flush interval; closed after the test."""
    made: list[MemClient] = []

    def make(agent: Agent, *, base_url: str | None = None, spool: str | None = None, **options) -> MemClient:
        options = {"flush_interval": 0.05, "max_retry_wait": 2.0, "timeout": 5.0} | options
        client = MemClient(
            base_url=base_url or live_server.url,
            token=agent.token,
            agent_id=agent.agent_id,
            spool_path=str(tmp_path / f"{spool or agent.agent_id}.sqlite3"),
            **options,
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.close(timeout=0.5)


@pytest.fixture
def api(live_server) -> Callable[..., httpx.Response]:
    """api(agent, "GET", "/api/v1/...", **httpx options): a plain request to the live server."""

    def call(agent: Agent, method: str, path: str, **options) -> httpx.Response:
        headers = {"Authorization": f"Bearer {agent.token}"}
        return httpx.request(method, live_server.url + path, headers=headers, timeout=10, **options)

    return call


@pytest.fixture
def stored_decisions(api) -> Callable[[Agent], list[dict]]:
    """Every decision the API holds for the agent, newest first (following the cursor)."""

    def read(agent: Agent) -> list[dict]:
        decisions: list[dict] = []
        params = {"agent": agent.agent_id, "limit": 500}
        while True:
            page = api(agent, "GET", "/api/v1/decisions/", params=params).json()
            decisions += page["results"]
            if not page["next_cursor"]:
                return decisions
            params["cursor"] = page["next_cursor"]

    return read


@pytest.fixture
def dead_url() -> str:
    """The address of a port nobody listens on: every connection is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@dataclass
class Scripted:
    """One scripted answer: `status` with `headers`; with forward=True the request reaches the
    live server first (its answer is then lost, as when a connection drops on the way back)."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    forward: bool = False
    body: bytes = b'{"detail": "scripted", "code": "unavailable", "fields": {}}'
    content_type: str = "application/json"


@dataclass
class Seen:
    at: float
    method: str
    path: str
    status: int


class ScriptedProxy:
    """A tiny HTTP server in front of the live server. While `down`, it drops every connection
    without an answer; else it plays `script` first, then forwards each request as it is."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.down = False
        self.script: list[Scripted] = []
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def requests(self, method: str, path_start: str) -> list[Seen]:
        return [seen for seen in self.seen if seen.method == method and seen.path.startswith(path_start)]

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        with self._lock:
            down = self.down
            scripted = self.script.pop(0) if self.script and not down else None
        if down:
            self._record(handler, 0)
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)
            return
        if scripted and scripted.forward:
            self._forward(handler, body)
        if scripted:
            headers = scripted.headers | {"Content-Type": scripted.content_type}
            self._reply(handler, scripted.status, headers, scripted.body)
            return
        status, headers, payload = self._forward(handler, body)
        self._reply(handler, status, headers, payload)

    def _forward(self, handler: BaseHTTPRequestHandler, body: bytes) -> tuple[int, dict[str, str], bytes]:
        headers = {name: handler.headers[name] for name in FORWARDED_REQUEST_HEADERS if handler.headers[name]}
        response = httpx.request(handler.command, self.upstream + handler.path, headers=headers, content=body)
        kept = {name: response.headers[name] for name in FORWARDED_RESPONSE_HEADERS if name in response.headers}
        return response.status_code, kept, response.content

    def _reply(self, handler: BaseHTTPRequestHandler, status: int, headers: dict[str, str], payload: bytes) -> None:
        self._record(handler, status)
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    def _record(self, handler: BaseHTTPRequestHandler, status: int) -> None:
        with self._lock:
            self.seen.append(Seen(time.monotonic(), handler.command, handler.path, status))

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                proxy.answer(self)

            do_POST = do_PUT = do_DELETE = do_GET

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: the test reads proxy.seen instead."""

        return Handler


@pytest.fixture
def proxy(live_server) -> Iterator[ScriptedProxy]:
    server = ScriptedProxy(live_server.url)
    yield server
    server.stop()
