"""API throttles: one budget per agent token and one per person. (Anonymous calls never reach
them: every endpoint needs a login or a token, and DRF checks that before throttles.)

Each budget is a fixed window: one Redis counter per caller and window, taken with an atomic
INCR, so concurrent requests count exactly and a request costs two small Redis calls (DRF's own
throttles keep a list of every request's time per caller and rewrite it each time, about 27 KB
at 3000/min, and lose counts under concurrency). A burst may reach twice the rate across a window
edge; that is the fixed window's price. Rates come from settings.API_THROTTLE_RATES, read on every
request. When Redis is unreachable the cache answers nothing and the request is let through."""

import hashlib
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _rate(scope: str) -> tuple[int, int]:
    """ "3000/min" -> (3000, 60): requests per window, window in seconds (checked at start-up)."""
    count, period = settings.API_THROTTLE_RATES[scope].split("/")
    return int(count), _SECONDS[period[0]]


class _FixedWindowThrottle(BaseThrottle):
    scope: str

    def caller(self, request) -> str | None:
        """Who is counted, or None when this throttle does not apply to the request."""
        raise NotImplementedError

    def allow_request(self, request, view) -> bool:
        caller = self.caller(request)
        if caller is None:
            return True
        allowed, seconds = _rate(self.scope)
        now = time.time()
        window = int(now // seconds)
        self.retry_in = seconds - now % seconds
        key = f"throttle:{self.scope}:{caller}:{window}"
        cache.add(key, 0, timeout=seconds + 1)
        try:
            used = cache.incr(key)
        except ValueError:  # the counter expired between add and incr: a new window began
            return True
        return used is None or used <= allowed  # None: Redis is gone, and the throttle with it

    def wait(self) -> float:
        return self.retry_in


class AgentTokenThrottle(_FixedWindowThrottle):
    """Per token, not per agent: a rotated-out token that still works (until revoked) has its own."""

    scope = "agent"

    def caller(self, request) -> str | None:
        if not getattr(request.user, "is_agent", False):
            return None
        # The token itself never goes into Redis, only a digest of it.
        return hashlib.sha256(str(request.auth).encode()).hexdigest()[:32]


class PersonThrottle(_FixedWindowThrottle):
    scope = "person"

    def caller(self, request) -> str | None:
        user = request.user
        if getattr(user, "is_agent", False) or not user.is_authenticated:
            return None
        return str(user.pk)
