"""Throttling: API requests per agent token and per person, and login attempts per username
and address.

The API counters live in Redis (the default cache). When Redis is down they fail open: the cache
ignores connection errors (and logs them), so decisions and signals keep flowing; only the
throttle is off until Redis returns. Login attempts are counted in the database (django-axes), so
login throttling holds even then."""

from datetime import timedelta

from memsite.env import env_int, env_rate, env_str
from memsite.settings.tasks import REDIS_URL

CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "memsite"),
        "OPTIONS": {
            # A request must not wait on a Redis that is gone: a fifth of a second, then fail open.
            "SOCKET_CONNECT_TIMEOUT": 0.2,
            "SOCKET_TIMEOUT": 0.2,
            "IGNORE_EXCEPTIONS": True,
        },
    }
}
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True

# Agents: a live team makes a few dozen calls per agent and cycle; a backfill sends batches of
# 100 decisions. People: the API docs and scripts (pages are not API calls).
API_THROTTLE_RATES = {
    "agent": env_rate("API_THROTTLE_AGENT", "3000/min"),
    "person": env_rate("API_THROTTLE_PERSON", "600/min"),
}

# Login: after LOGIN_FAILURE_LIMIT wrong passwords for one username from one address, that pair
# is refused (429) for LOGIN_COOLOFF_MINUTES; a successful login resets the count.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
# Behind a proxy (or a load balancer) every request comes from its address: say how many proxies
# append to X-Forwarded-For, so logins are counted per client, not per proxy.
TRUSTED_PROXIES = env_int("TRUSTED_PROXIES", 0, minimum=0, maximum=10)
AXES_CLIENT_IP_CALLABLE = "memsite.client_ip.client_ip"
