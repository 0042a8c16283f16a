"""The workers' own heartbeat: beat sends it, a worker runs it, readiness reads it. A fresh
heartbeat means beat is scheduling and at least one worker is taking tasks."""

import time

import redis
from celery import shared_task
from django.conf import settings

HEARTBEAT_KEY = "memsite:worker:heartbeat"
HEARTBEAT_TTL_SECONDS = 120  # four missed beats: the key expires and readiness says so


@shared_task(ignore_result=True, expires=60)
def worker_heartbeat() -> None:
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2)
    client.set(HEARTBEAT_KEY, f"{time.time():.3f}", ex=HEARTBEAT_TTL_SECONDS)
