"""API throttles per agent token and per person (counters in Redis, failing open when Redis is
gone) and login throttling per username and address (counted in the database)."""

import pytest
from django.core.cache import cache

DECISIONS = "/api/v1/decisions/"


@pytest.fixture
def low_rates(settings):
    settings.API_THROTTLE_RATES = {"agent": "3/min", "person": "2/min"}
    # Counters of earlier tests of this process (the key prefix is the process's own; never
    # cache.clear(): that empties the whole Redis database, Celery's queues included).
    cache.delete_pattern("throttle:*")


def test_an_agent_token_gets_429_with_retry_after_past_its_rate(low_rates, as_agent, unique):
    hunter = as_agent(f"hunter-{unique.lower()}")
    assert [hunter.get(DECISIONS).status_code for _ in range(3)] == [200, 200, 200]

    refused = hunter.get(DECISIONS)

    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert refused.json()["code"] == "throttled"
    assert "throttled" in refused.json()["detail"]


def test_each_token_has_its_own_budget(low_rates, as_agent, unique):
    first = as_agent(f"hunter-{unique.lower()}")
    for _ in range(3):
        first.get(DECISIONS)
    assert first.get(DECISIONS).status_code == 429

    assert as_agent(f"risk-{unique.lower()}").get(DECISIONS).status_code == 200
    assert as_agent(f"hunter-{unique.lower()}").get(DECISIONS).status_code == 200  # a new token of the same agent


def test_the_counters_in_redis_never_hold_a_token(low_rates, agent_token, unique):
    from rest_framework.test import APIClient

    token = agent_token(f"hunter-{unique.lower()}")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    client.get(DECISIONS)

    keys = cache.keys("*")
    assert keys, "the throttle wrote its counter to Redis"
    assert not [key for key in keys if token in key]


def test_concurrent_requests_are_counted_exactly(low_rates, settings, unique):
    """Eight threads at once: the counter is one atomic INCR per request, so exactly the rate
    gets through (the throttle itself, without the database, which in-memory SQLite serializes)."""
    from concurrent.futures import ThreadPoolExecutor
    from types import SimpleNamespace

    from memsite.api.authentication import AgentPrincipal
    from memsite.api.throttling import AgentTokenThrottle

    settings.API_THROTTLE_RATES = {"agent": "20/hour", "person": "2/min"}
    request = SimpleNamespace(user=AgentPrincipal(agent_id="hunter"), auth=f"token-{unique}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        allowed = list(pool.map(lambda _: AgentTokenThrottle().allow_request(request, None), range(30)))

    assert allowed.count(True) == 20


def test_people_are_throttled_one_by_one(low_rates, as_person, alice, bob):
    operator = as_person(alice)
    assert [operator.get(DECISIONS).status_code for _ in range(3)] == [200, 200, 429]

    assert as_person(bob).get(DECISIONS).status_code == 200


def test_with_redis_gone_the_api_keeps_answering(settings, as_agent, unique):
    """Fail open: the throttle is off until Redis returns, decisions still flow."""
    settings.API_THROTTLE_RATES = {"agent": "1/min", "person": "1/min"}
    settings.CACHES = {
        "default": settings.CACHES["default"] | {"LOCATION": "redis://127.0.0.1:1/0"},
    }
    hunter = as_agent(f"hunter-{unique.lower()}")

    answers = [hunter.get(DECISIONS).status_code for _ in range(3)]

    assert answers == [200, 200, 200]


LOGIN = "/accounts/login/"


def _attempt(client, username: str, password: str):
    return client.post(LOGIN, {"username": username, "password": password})


@pytest.mark.django_db
def test_wrong_passwords_pause_logins_for_that_username_with_a_clear_page(client, settings, alice, bob):
    settings.AXES_FAILURE_LIMIT = 3
    assert [_attempt(client, "alice", "wrong").status_code for _ in range(2)] == [200, 200]  # the form again

    locked = _attempt(client, "alice", "wrong")
    assert locked.status_code == 429
    assert b"Too many failed logins" in locked.content
    assert b"15 minutes" in locked.content
    assert _attempt(client, "alice", "correct horse battery").status_code == 429, "even the right password"

    welcome = _attempt(client, "bob", "correct horse battery")
    assert welcome.status_code == 302, "another username logs in as before"


@pytest.mark.django_db
def test_a_successful_login_resets_the_count(client, settings, alice):
    settings.AXES_FAILURE_LIMIT = 3
    _attempt(client, "alice", "wrong")
    _attempt(client, "alice", "wrong")
    assert _attempt(client, "alice", "correct horse battery").status_code == 302
    client.logout()

    assert [_attempt(client, "alice", "wrong").status_code for _ in range(2)] == [200, 200]


@pytest.mark.django_db
def test_behind_a_trusted_proxy_logins_are_counted_per_client(client, settings, alice):
    settings.AXES_FAILURE_LIMIT = 2
    settings.TRUSTED_PROXIES = 1
    attacker = {"HTTP_X_FORWARDED_FOR": "203.0.113.9"}
    for _ in range(2):
        client.post(LOGIN, {"username": "alice", "password": "wrong"}, **attacker)
    assert client.post(LOGIN, {"username": "alice", "password": "wrong"}, **attacker).status_code == 429

    spoofed = {"HTTP_X_FORWARDED_FOR": "198.51.100.7, 203.0.113.9"}  # the client's own entry is not believed
    assert client.post(LOGIN, {"username": "alice", "password": "correct horse battery"}, **spoofed).status_code == 429
    elsewhere = {"HTTP_X_FORWARDED_FOR": "198.51.100.7"}
    assert (
        client.post(LOGIN, {"username": "alice", "password": "correct horse battery"}, **elsewhere).status_code == 302
    )
