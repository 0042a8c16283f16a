"""Health endpoints: no login; readiness names what is wrong."""

import time

import pytest
import redis

from memsite.tasks import HEARTBEAT_KEY, worker_heartbeat

REDIS = "redis://127.0.0.1:6379/13"


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


def test_ready_without_a_worker_is_degraded_but_serving(client, own_redis, db):
    response = client.get("/health/ready")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["storage"]["ok"] is True
    assert body["checks"]["redis"]["ok"] is True
    assert "are the worker and beat running" in body["checks"]["worker"]["detail"]


def test_a_worker_heartbeat_makes_it_fully_ready(client, own_redis, db):
    worker_heartbeat()  # what a worker runs when beat sends it

    body = client.get("/health/ready").json()

    assert body["status"] == "ok"
    assert 0 <= body["checks"]["worker"]["last_heartbeat_age_seconds"] < 5
    assert float(own_redis.get(HEARTBEAT_KEY)) <= time.time()


def test_storage_down_is_503_naming_it(client, own_redis, storage_settings, db):
    storage_settings(DYNAMODB_ENDPOINT_URL="http://127.0.0.1:9", DYNAMODB_BACKEND="endpoint")

    response = client.get("/health/ready")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["storage"]["ok"] is False
    assert body["checks"]["redis"]["ok"] is True


def test_redis_down_is_503_naming_it(client, settings, db):
    settings.REDIS_URL = "redis://127.0.0.1:9/0"

    body = client.get("/health/ready").json()

    assert body["status"] == "unavailable"
    assert body["checks"]["redis"]["ok"] is False
    assert body["checks"]["worker"]["ok"] is False
