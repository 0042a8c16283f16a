"""The background thread that drains the spool to the API, oldest operation first.

Consecutive decisions go as one batch (POST /api/v1/decisions/ with an array), an outcome goes
alone (POST /api/v1/decisions/<id>/outcome/) and only after everything spooled before it, so an
outcome never arrives before its decision. A row leaves the spool only when the API has answered
for it: stored (created/exists/200), or refused for good (conflict, invalid, 404...) and moved
to the dead letters. Transient failures are retried until they pass or the client closes; they
never drop anything.
"""

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from itertools import takewhile

from memclient.spool import Op, Spool
from memclient.transport import ApiError, Transport, is_transient

logger = logging.getLogger("memclient")

DECISIONS_PATH = "/api/v1/decisions/"
# The API takes at most this many decisions in one request.
MAX_BATCH = 100
# A decision just stored is found by its id through an index, which on AWS follows its table by a
# moment: an outcome for a decision this client stored that recently is retried on a 404 meanwhile.
JUST_STORED_SECONDS = 60.0
JUST_STORED_KEPT = 10_000


def _is_verdict(error: BaseException) -> bool:
    """An answer from the API itself about this request: its JSON error body carries a code. A
    proxy's error page, a wrong base URL or a server that is not memsite says nothing about the
    operation, so it is never a reason to give one up."""
    return isinstance(error, ApiError) and error.code != "error" and 400 <= error.status < 500


def _retry_batch(error: BaseException) -> bool:
    """The API judges each decision of a batch in its answer (207), so a refusal of the whole
    request is about the request: a wrong or revoked token (401/403), a wrong URL, a proxy. Keep
    the batch and retry; dropping it would lose the log, and a client restarted with the right
    settings sends it. Only a 413 (too large together) is final: the batch is split."""
    if is_transient(error):
        return True
    return isinstance(error, ApiError) and not (error.status == 413 and _is_verdict(error))


def _retry_outcome(error: BaseException) -> bool:
    """Final only when the API itself refused this outcome (not your decision, no such decision,
    invalid); 401 as for batches; stale_version means concurrent reports raced: try again."""
    if is_transient(error) or not _is_verdict(error):
        return True
    return error.status == 401 or error.code == "stale_version"


class Sender:
    def __init__(self, spool: Spool, transport: Transport, *, batch_size: int, flush_interval: float) -> None:
        self._spool = spool
        self._transport = transport
        self._batch_size = max(1, min(batch_size, MAX_BATCH))
        self._flush_interval = flush_interval
        self._wake = threading.Event()  # work is waiting: a full batch, a flush, a close
        self._hurry = threading.Event()  # cut a retry's backoff short (flush, close)
        self._stopping = threading.Event()
        self._progress = threading.Condition()
        self.delivered = 0  # operations the API has stored since this client started
        self._stored_at: OrderedDict[str, float] = OrderedDict()  # decision id -> when the API stored it
        self._thread = threading.Thread(target=self._run, name="memclient-sender", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def nudge(self) -> None:
        self._wake.set()

    def hurry(self) -> None:
        self._hurry.set()
        self._wake.set()

    def wait_for_progress(self, timeout: float) -> None:
        with self._progress:
            self._progress.wait(timeout)

    def stop(self, timeout: float) -> bool:
        """Stop after the request in flight; True when the thread has ended."""
        self._stopping.set()
        self.hurry()
        self._thread.join(timeout)
        if self._thread.is_alive():
            return False
        self._transport.close()
        return True

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(self._flush_interval)
            self._wake.clear()
            try:
                self._drain()
            except Exception as error:
                if self._stopping.is_set():
                    return  # closing: what is left stays in the spool for the next client
                logger.exception("memclient sender: unexpected %s; trying again shortly", type(error).__name__)
                self._stopping.wait(1.0)

    def _drain(self) -> None:
        while not self._stopping.is_set():
            ops = self._spool.head(self._batch_size)
            if not ops:
                return
            if ops[0].kind == "decision":
                self._send_decisions(list(takewhile(lambda op: op.kind == "decision", ops)))
            else:
                self._send_outcome(ops[0])
            with self._progress:
                self._progress.notify_all()

    def _call(self, retry_if: Callable[[BaseException], bool], method: str, path: str, **request):
        return self._transport.call(
            method, path, stop=self._stopping.is_set, retry_if=retry_if, sleep=self._sleep, **request
        )

    def _sleep(self, seconds: float, server_asked: bool) -> None:
        """A flush cuts our own backoff short, never the server's Retry-After; closing cuts both."""
        if server_asked:
            self._stopping.wait(seconds)
        elif self._hurry.wait(seconds):
            self._hurry.clear()

    def _send_decisions(self, batch: list[Op]) -> None:
        try:
            response = self._call(_retry_batch, "POST", DECISIONS_PATH, json=[op.body for op in batch])
        except ApiError as error:
            if self._stopping.is_set():
                raise
            self._refused_whole(batch, error)
            return
        results = response.json().get("results", [])
        if len(results) != len(batch):
            raise RuntimeError(f"the API answered {len(results)} results for a batch of {len(batch)}")
        stored = [
            op.seq for op, result in zip(batch, results, strict=True) if result["status"] in ("created", "exists")
        ]
        self._spool.remove(stored)
        self.delivered += len(stored)
        self._remember_stored([op.key for op, r in zip(batch, results, strict=True) if r["status"] == "created"])
        for op, result in zip(batch, results, strict=True):
            if result["status"] not in ("created", "exists"):
                self._bury(op, f"{result['status']}: {result.get('detail', '')}")

    def _refused_whole(self, batch: list[Op], error: ApiError) -> None:
        """A 4xx for the request as a whole (not per item): find the culprit by sending each alone."""
        if len(batch) == 1:
            self._bury(batch[0], f"{error.status} {error.code}: {error.detail}")
            return
        for op in batch:
            self._send_decisions([op])

    def _send_outcome(self, op: Op) -> None:
        # Its decision was refused: the id may belong to another decision, which must not get it.
        if self._spool.is_dead("decision", op.key):
            self._bury(op, "its decision is in the dead letters")
            return
        stored_at = self._stored_at.get(op.key)

        def retry_if(error: BaseException) -> bool:
            just_stored = stored_at is not None and time.monotonic() - stored_at < JUST_STORED_SECONDS
            return (just_stored and isinstance(error, ApiError) and error.status == 404) or _retry_outcome(error)

        try:
            self._call(retry_if, "POST", f"{DECISIONS_PATH}{op.key}/outcome/", json=op.body)
        except ApiError as error:
            if self._stopping.is_set():
                raise
            self._bury(op, f"{error.status} {error.code}: {error.detail}")
            return
        self._spool.remove([op.seq])
        self.delivered += 1

    def _remember_stored(self, decision_ids: list[str]) -> None:
        now = time.monotonic()
        for decision_id in decision_ids:
            self._stored_at[decision_id] = now
        while len(self._stored_at) > JUST_STORED_KEPT:
            self._stored_at.popitem(last=False)

    def _bury(self, op: Op, reason: str) -> None:
        logger.warning("the API refused %s %s for good (%s); moved to the dead letters", op.kind, op.key, reason)
        self._spool.bury(op.seq, reason)
