"""MemClient: what an agent calls. Decisions and outcomes are spooled and sent in the background;
everything else is a synchronous request, retried on transient failures.

See docs/client.md for the quickstart and the delivery guarantees.
"""

import json
import logging
import threading
import time
from datetime import datetime
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx
from ulid import ULID

from memclient import models
from memclient.sender import Sender
from memclient.spool import DeadLetter, Spool
from memclient.transport import ApiError, Transport

logger = logging.getLogger("memclient")

# The API refuses a decision over 64 KiB of JSON; refusing it here tells the agent at the call.
MAX_DECISION_BYTES = 64 * 1024
MAX_ACK = 100


class FlushTimeout(TimeoutError):
    """flush() could not send everything in time; what is left stays spooled and is sent later."""


def _segment(value: str) -> str:
    """One URL path segment: memory keys and checkpoint names may hold characters like ':'."""
    return quote(value, safe="")


class DecisionScope:
    """`with client.decision(...) as d:` times the block and logs the decision when it ends.

    Fill `d.reasoning` (and `d.outcome`, `d.links` if known) inside the block. On exit the
    decision is logged with reasoning["duration_ms"]; when the block raises, with a FAILURE outcome
    whose note is the exception's repr, and the exception goes on.
    """

    def __init__(
        self, client: "MemClient", type: str, context: dict[str, Any] | None, cycle: int | None, links: dict | None
    ) -> None:
        self._client = client
        self.type = type
        self.context = context if context is not None else {}
        self.cycle = cycle
        self.links = links
        self.reasoning: dict[str, Any] = {}
        self.outcome: dict[str, Any] | None = None
        # Made now, so the decision's time (the time inside its id) is when it started.
        self.decision_id = str(ULID())
        self._started = 0.0

    def __enter__(self) -> Self:
        self._started = time.perf_counter()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.reasoning["duration_ms"] = round((time.perf_counter() - self._started) * 1000, 3)
        if isinstance(error, Exception):
            metrics = (self.outcome or {}).get("metrics") or {}
            self.outcome = {"status": "FAILURE", "metrics": metrics, "note": repr(error)[:2000]}
        self._client.log_decision(
            self.type,
            context=self.context,
            reasoning=self.reasoning,
            cycle=self.cycle,
            outcome=self.outcome,
            links=self.links,
            decision_id=self.decision_id,
        )


class MemClient:
    """One agent's connection to memsite. Thread-safe; one client per spool file."""

    def __init__(
        self,
        base_url: str,
        token: str,
        agent_id: str,
        *,
        spool_path: str | None = None,
        batch_size: int = 100,
        flush_interval: float = 2.0,
        max_spool: int = 100_000,
        timeout: float = 10.0,
        max_retry_wait: float = 60.0,
    ) -> None:
        self.agent_id = agent_id
        self._timeout = timeout
        self._spool = Spool(spool_path or f"memclient-{agent_id}.sqlite3", max_items=max_spool)
        self._http = Transport(base_url, token, timeout=timeout, max_retry_wait=max_retry_wait)
        # The sender has its own connection pool: its long retries never hold up the agent's calls.
        self._sender = Sender(
            self._spool,
            Transport(base_url, token, timeout=timeout, max_retry_wait=max_retry_wait),
            batch_size=batch_size,
            flush_interval=flush_interval,
        )
        self._batch_size = batch_size
        self._config: models.Config | None = None
        self._config_etag: str | None = None
        self._config_lock = threading.Lock()
        self._closed = False
        self._sender.start()
        if self._spool.pending():
            logger.info("replaying %d spooled operations from %s", self._spool.pending(), self._spool.path)
            self._sender.nudge()

    # Decisions and outcomes: spooled, sent in the background.

    def log_decision(
        self,
        type: str,
        context: dict[str, Any] | None = None,
        reasoning: dict[str, Any] | None = None,
        cycle: int | None = None,
        timestamp: datetime | None = None,
        outcome: dict[str, Any] | None = None,
        links: dict[str, Any] | None = None,
        decision_id: str | None = None,
    ) -> str:
        """Spool a decision and return its id at once. The id is made here (a ULID, from
        `timestamp` when given) so that a replay of the spool is idempotent."""
        if decision_id is None:
            decision_id = str(ULID.from_datetime(timestamp) if timestamp else ULID())
        decision = models.DecisionIn(
            decision_id=decision_id.upper(),
            agent_id=self.agent_id,
            type=type,
            timestamp=timestamp,
            cycle=cycle,
            context=context or {},
            reasoning=reasoning or {},
            outcome=outcome,
            links=links,
        )
        body = decision.to_json()
        size = len(json.dumps(body, separators=(",", ":")).encode())
        if size > MAX_DECISION_BYTES:
            raise ValueError(f"decision {decision.decision_id} is {size} bytes of JSON; the API takes 64 KiB at most")
        self._open()
        self._spool.append("decision", decision.decision_id, body)
        if self._spool.pending() >= self._batch_size:
            self._sender.nudge()
        return decision.decision_id

    def decision(
        self, type: str, context: dict[str, Any] | None = None, *, cycle: int | None = None, links: dict | None = None
    ) -> DecisionScope:
        return DecisionScope(self, type, context, cycle, links)

    def report_outcome(
        self,
        decision_id: str,
        status: str = "SUCCESS",
        metrics: dict[str, Any] | None = None,
        quality_score: float | None = None,
        note: str | None = None,
    ) -> None:
        """Spool an outcome; it is sent after everything spooled before it (its decision too)."""
        outcome = models.OutcomeIn(status=status, metrics=metrics or {}, quality_score=quality_score, note=note)
        self._open()
        self._spool.append("outcome", decision_id.upper(), outcome.to_json())

    def flush(self, timeout: float = 30.0) -> int:
        """Send everything spooled now; returns how many operations the API stored meanwhile.
        Raises FlushTimeout when some are still spooled after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        delivered_before = self._sender.delivered
        self._sender.hurry()
        while self._spool.pending() and (left := deadline - time.monotonic()) > 0:
            self._sender.wait_for_progress(min(left, 0.1))
        if self._spool.pending():
            raise FlushTimeout(
                f"{self._spool.pending()} operations still spooled after {timeout} s; "
                "they stay in the spool and are sent when the API answers"
            )
        return self._sender.delivered - delivered_before

    def pending(self) -> int:
        return self._spool.pending()

    def dead_letters(self) -> list[DeadLetter]:
        """What the API refused for good (a conflicting decision id, invalid content, an outcome
        for an unknown decision), with the reason. Kept in the spool file; never resent."""
        return self._spool.dead_letters()

    def _open(self) -> None:
        if self._closed:
            raise RuntimeError(f"this MemClient ({self.agent_id}) is closed: make a new one to log more")

    def close(self, timeout: float = 10.0) -> None:
        """Flush for at most `timeout` seconds, then stop the sender. What could not be sent stays
        in the spool for the next client on the same spool_path. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        try:
            self.flush(timeout)
        except FlushTimeout:
            logger.warning("closing with %d operations spooled in %s", self._spool.pending(), self._spool.path)
        if self._sender.stop(self._timeout + 1):
            self._spool.close()
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # Signals.

    def publish_signal(
        self,
        type: str,
        confidence: float,
        target_agents: list[str],
        payload: dict[str, Any] | None = None,
        ttl_seconds: int | None = None,
        decision_id: str | None = None,
    ) -> models.Signal:
        """Publish now (retried; the signal id is made here, so a retry is the same signal)."""
        signal = models.SignalIn(
            type=type,
            confidence=confidence,
            target_agents=target_agents,
            payload=payload or {},
            ttl_seconds=ttl_seconds,
            signal_id=str(ULID()),
            decision_id=decision_id,
        )
        response = self._http.call("POST", "/api/v1/signals/", json=signal.to_json())
        return models.Signal.model_validate(response.json())

    def get_my_signals(self, limit: int = 50) -> list[models.Signal]:
        """This agent's unacknowledged signals, oldest first; they come back until ack()ed."""
        response = self._http.call("GET", "/api/v1/signals/inbox/", params={"limit": limit})
        return models.InboxPage.model_validate(response.json()).results

    def ack(self, signal_ids: list[str]) -> dict[str, str]:
        """Acknowledge signals: id -> "acknowledged" or "not_in_inbox"."""
        statuses: dict[str, str] = {}
        for start in range(0, len(signal_ids), MAX_ACK):
            body = models.AckIn(signal_ids=signal_ids[start : start + MAX_ACK]).to_json()
            response = self._http.call("POST", "/api/v1/signals/ack/", json=body)
            statuses |= {r.signal_id: r.status for r in models.AckOut.model_validate(response.json()).results}
        return statuses

    # Short-term memory and rate limits.

    def _agent_path(self, *rest: str) -> str:
        return "/".join(["/api/v1/agents", _segment(self.agent_id), *map(_segment, rest)]) + "/"

    def remember(self, key: str, value: Any, ttl_seconds: int = 86400) -> models.MemoryEntry:
        body = models.MemoryIn(value=value, ttl_seconds=ttl_seconds).model_dump(mode="json")
        response = self._http.call("PUT", self._agent_path("memory", key), json=body)
        return models.MemoryEntry.model_validate(response.json())

    def recall(self, key: str) -> Any:
        """The remembered value, or None once it has expired (or was never set)."""
        try:
            response = self._http.call("GET", self._agent_path("memory", key))
        except ApiError as error:
            if error.status == 404:
                return None
            raise
        return models.MemoryEntry.model_validate(response.json()).value

    def forget(self, key: str) -> None:
        try:
            self._http.call("DELETE", self._agent_path("memory", key))
        except ApiError as error:
            if error.status != 404:
                raise

    def consume_rate_limit(
        self, source: str, cost: int = 1, limit: int = 60, window_seconds: int = 3600
    ) -> models.RateLimit:
        """Take `cost` from this source's window. An exhausted window is an answer
        (allowed=False, reset_at), not an error, and is not retried."""
        body = models.ConsumeIn(cost=cost, limit=limit, window_seconds=window_seconds).to_json()
        response = self._http.call(
            "POST",
            self._agent_path("ratelimits", source, "consume"),
            json=body,
            answer_if=_window_exhausted,
            # Only when the server answered that it did not serve the call: after a lost reply the
            # units may have been taken already, and a retry would charge them twice. The API's own
            # throttle (a 429 without the window) refuses before the call is served.
            retry_if=lambda error: isinstance(error, ApiError) and error.status in (429, 502, 503, 504),
        )
        return models.RateLimit.model_validate(response.json())

    # Configuration, patterns, situations.

    def get_config(self) -> models.Config:
        """The agent's current configuration; unchanged since the last call costs a 304."""
        with self._config_lock:  # the cached config and its ETag change together
            cached, etag = self._config, self._config_etag
        headers = {"If-None-Match": etag} if etag and cached is not None else None
        response = self._http.call("GET", self._agent_path("config"), headers=headers)
        if response.status_code == 304 and cached is not None:
            return cached
        config = models.Config.model_validate(response.json())
        with self._config_lock:
            self._config, self._config_etag = config, response.headers.get("ETag")
        return config

    def patterns(
        self,
        status: str | None = None,
        min_confidence: float | None = None,
        shared: bool | None = None,
        agent: str | None = None,
    ) -> list[models.Pattern]:
        """Learned patterns, highest confidence first (acting agents ask for status="active")."""
        params: dict[str, Any] = {"status": status, "min_confidence": min_confidence, "agent": agent}
        if shared is not None:
            params["shared"] = "true" if shared else "false"
        params = {name: value for name, value in params.items() if value is not None}
        response = self._http.call("GET", "/api/v1/patterns/", params=params)
        return models.PatternList.model_validate(response.json()).results

    def similar_situations(
        self, context: dict[str, Any], type: str | None = None, limit: int = 10
    ) -> models.SimilarSituations:
        body = models.SimilarIn(context=context, type=type, limit=limit).to_json()
        response = self._http.call("POST", "/api/v1/situations/similar/", json=body)
        return models.SimilarSituations.model_validate(response.json())

    # Liveness and state.

    def heartbeat(self, interval_seconds: int | None = None, status: str | None = None) -> models.Heartbeat:
        # The spool's backlog rides along, so operators see an agent that cannot deliver.
        body = models.HeartbeatIn(
            interval_seconds=interval_seconds, status=status, spool_pending=self.pending()
        ).to_json()
        response = self._http.call("POST", self._agent_path("heartbeat"), json=body)
        return models.Heartbeat.model_validate(response.json())

    def save_state(self, state: dict[str, Any]) -> models.StateSlot:
        """Replace the CURRENT state (last writer wins)."""
        response = self._http.call("PUT", self._agent_path("state", "CURRENT"), json=state)
        return models.StateSlot.model_validate(response.json())

    def checkpoint(self, name: str, state: dict[str, Any]) -> models.StateSlot:
        response = self._http.call("PUT", self._agent_path("state", "checkpoints", name), json=state)
        return models.StateSlot.model_validate(response.json())


def _window_exhausted(response: httpx.Response) -> bool:
    """consume's 429 that answers: the source's window, used up (not the API throttle's 429)."""
    if response.status_code != 429:
        return False
    try:
        return "allowed" in response.json()
    except ValueError:
        return False
