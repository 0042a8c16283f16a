"""API throttles: one budget per agent token and one per person. (Anonymous calls never reach
them: every endpoint needs a login or a token, and DRF checks that before throttles.)

Rates come from settings.API_THROTTLE_RATES (read on every request, so a test or an operator's
override takes effect without a restart of the class). Counters live in the default cache
(Redis); when it is unreachable the cache answers nothing and the request is let through."""

import hashlib

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class _ConfiguredRateThrottle(SimpleRateThrottle):
    def get_rate(self) -> str:
        return settings.API_THROTTLE_RATES[self.scope]


class AgentTokenThrottle(_ConfiguredRateThrottle):
    """Per token, not per agent: a rotated-out token that still works (until revoked) has its own."""

    scope = "agent"

    def get_cache_key(self, request, view) -> str | None:
        if not getattr(request.user, "is_agent", False):
            return None
        # The token itself never goes into Redis, only a digest of it.
        digest = hashlib.sha256(str(request.auth).encode()).hexdigest()[:32]
        return self.cache_format % {"scope": self.scope, "ident": digest}


class PersonThrottle(_ConfiguredRateThrottle):
    scope = "person"

    def get_cache_key(self, request, view) -> str | None:
        user = request.user
        if getattr(user, "is_agent", False) or not user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": user.pk}
