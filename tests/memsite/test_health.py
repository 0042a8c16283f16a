"""Health endpoints: no login, quick, and readiness says which part is not ok."""

import time

import pytest
import redis

from memsite.status import health
from memsite.tasks import HEARTBEAT_KEY, worker_heartbeat

REDIS = "redis://127.0.0.1:6379/13"


@pytest.fixture(autouse=True)
def fresh_answer():
    """Readiness reuses its answer for a few seconds; each test asks anew."""
    health._cache["answer"] = None
    yield
    health._cache["answer"] = None


@pytest.fixture
def own_redis(settings):
    settings.REDIS_URL = REDIS
    client = redis.Redis.from_url(REDIS)
    client.delete(HEARTBEAT_KEY)
    yield client
    client.delete(HEARTBEAT_KEY)


def test_liveness_needs_no_login(client):
    response = client.get("/health/live")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert client.head("/health/live").status_code == 200


def test_ready_without_a_worker_is_degraded_but_serving(client, own_redis, db):
    response = client.get("/health/ready")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"] == {
        "storage": {"ok": True},
        "redis": {"ok": True},
        "worker": {"ok": False, "last_heartbeat_age_seconds": None},
    }


def test_a_worker_heartbeat_makes_it_fully_ready(client, own_redis, db):
    worker_heartbeat()  # what a worker runs when beat sends it

    body = client.get("/health/ready").json()

    assert body["status"] == "ok"
    assert 0 <= body["checks"]["worker"]["last_heartbeat_age_seconds"] < 5
    assert float(own_redis.get(HEARTBEAT_KEY)) <= time.time()


def test_storage_down_is_503_without_naming_hosts(client, own_redis, storage_settings, db):
    storage_settings(DYNAMODB_ENDPOINT_URL="http://127.0.0.1:9", DYNAMODB_BACKEND="endpoint")

    started = time.monotonic()
    response = client.get("/health/ready")

    assert time.monotonic() - started < 3  # one try, one second
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["checks"]["storage"] == {"ok": False}
    assert "127.0.0.1" not in response.content.decode()


def test_redis_down_degrades_but_the_web_still_serves(client, settings, db):
    settings.REDIS_URL = "redis://127.0.0.1:9/0"

    response = client.get("/health/ready")

    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["redis"] == {"ok": False}
