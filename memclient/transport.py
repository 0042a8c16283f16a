"""HTTP to the memsite API: one request, its error mapping, and its retries.

Transient failures (network errors, 429, 5xx) are retried by tenacity with exponential backoff
and jitter, waiting at least what the server's Retry-After asks (capped at max_retry_wait);
everything else becomes an ApiError at once. The token goes in a header and is
never logged.
"""

import logging
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

logger = logging.getLogger("memclient")

USER_AGENT = "memclient/1"


class ApiError(Exception):
    """The API refused a request (status, code and detail as in its error body), or could not be
    reached at all (Unreachable). `fields` names the offending fields of a 400."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        fields: dict[str, Any] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail
        self.fields = fields or {}
        self.retry_after = retry_after


class Unreachable(ApiError):
    """No HTTP answer at all: connection refused, timeout, reset. status is 0."""

    def __init__(self, detail: str) -> None:
        super().__init__(0, "unreachable", detail)


def is_transient(error: BaseException) -> bool:
    """Worth trying again later: the server may answer differently."""
    return isinstance(error, ApiError) and (error.status in (0, 429) or error.status >= 500)


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds, from either of its forms (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


def error_from(response: httpx.Response) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {"detail": response.text[:200] or response.reason_phrase}
    return ApiError(
        status=response.status_code,
        code=str(body.get("code") or "error"),
        detail=str(body.get("detail") or response.reason_phrase),
        fields=body.get("fields") if isinstance(body.get("fields"), dict) else {},
        retry_after=retry_after_seconds(response.headers.get("Retry-After")),
    )


def _retry_after_of(state: RetryCallState) -> float | None:
    error = state.outcome.exception() if state.outcome else None
    return error.retry_after if isinstance(error, ApiError) else None


class Transport:
    def __init__(self, base_url: str, token: str, *, timeout: float, max_retry_wait: float) -> None:
        self.max_retry_wait = max_retry_wait
        self._backoff = wait_exponential_jitter(multiplier=0.5, max=max_retry_wait, jitter=0.5)
        self._http = httpx.Client(
            base_url=base_url,
            headers={"Authorization": f"Bearer {token}", "User-Agent": USER_AGENT, "Accept": "application/json"},
            timeout=timeout,
        )

    def send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        answer_if: Callable[[httpx.Response], bool] | None = None,
    ) -> httpx.Response:
        """One request. Returns the response for 2xx, 304 and those `answer_if` accepts (which the
        caller reads as an answer, like consume's 429 for an exhausted window); raises ApiError
        otherwise."""
        try:
            response = self._http.request(method, path, json=json, params=params, headers=headers)
        except httpx.TransportError as error:
            raise Unreachable(f"{method} {path}: {type(error).__name__}: {error}") from error
        if response.is_success or response.status_code == 304 or (answer_if is not None and answer_if(response)):
            return response
        raise error_from(response)

    def call(
        self,
        method: str,
        path: str,
        *,
        attempts: int = 5,
        stop: Callable[[], bool] | None = None,
        retry_if: Callable[[BaseException], bool] = is_transient,
        sleep: Callable[[float, bool], None] | None = None,
        **request: Any,
    ) -> httpx.Response:
        """send(), retried while `retry_if` says the failure is worth retrying: at most `attempts`
        tries, or, with `stop`, until stop() is true (the background sender never gives up on its
        own). The last error is raised as it was.

        `sleep(seconds, server_asked)` replaces time.sleep between tries; server_asked is true when
        the wait is the server's Retry-After, which a caller in a hurry must still respect."""
        server_asked = False

        def wait(state: RetryCallState) -> float:
            nonlocal server_asked
            retry_after = _retry_after_of(state)
            server_asked = retry_after is not None
            return self._wait(state, retry_after)

        retrying = Retrying(
            retry=retry_if_exception(retry_if),
            wait=wait,
            stop=(lambda state: stop()) if stop else stop_after_attempt(attempts),
            before_sleep=lambda state: self._log_retry(method, path, state),
            reraise=True,
            sleep=(lambda seconds: sleep(seconds, server_asked)) if sleep else time.sleep,
        )
        return retrying(self.send, method, path, **request)

    def _wait(self, state: RetryCallState, retry_after: float | None) -> float:
        """The server's Retry-After when it gave one (plus up to 10% jitter, so a team of agents
        told the same moment do not all come back at once), else exponential backoff."""
        if retry_after is not None:
            return min(retry_after * (1 + random.random() / 10), self.max_retry_wait)
        return self._backoff(state)

    def _log_retry(self, method: str, path: str, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        logger.warning("%s %s failed (%s); try %d, next in %.1f s", method, path, error, state.attempt_number, wait)

    def close(self) -> None:
        self._http.close()
