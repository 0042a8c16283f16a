"""Reads for the status page. Each check reports its own failure instead of raising,
so one service down still leaves a page that says what is wrong."""

import re
import time
from dataclasses import dataclass

import redis
from django.conf import settings

from memsite import storage
from memsite.storage.provision import TableStatus, describe_tables


@dataclass(frozen=True)
class StorageStatus:
    backend: str
    description: str
    table_prefix: str
    tables: list[TableStatus]
    error: str | None
    ttl_api: bool
    counts_items: bool

    @property
    def ready(self) -> bool:
        return self.error is None and all(table.exists and table.status == "ACTIVE" for table in self.tables)


@dataclass(frozen=True)
class RedisStatus:
    url: str
    reachable: bool
    detail: str


def storage_status() -> StorageStatus:
    gateway = storage.gateway("request")
    config = gateway.config
    try:
        tables, error = describe_tables(gateway, storage.ALL_TABLES), None
    except storage.StorageError as exc:
        tables, error = [], str(exc)
    return StorageStatus(
        backend=config.backend,
        description=config.description,
        table_prefix=config.table_prefix,
        tables=tables,
        error=error,
        # dynalite answers DescribeTimeToLive (always DISABLED) but cannot enable TTL.
        ttl_api=config.backend != "embedded",
        # dynalite reports ItemCount 0 forever; AWS refreshes it about every six hours.
        counts_items=config.backend != "embedded",
    )


def redis_status() -> RedisStatus:
    url = settings.REDIS_URL
    shown = re.sub(r"://[^@/]*@", "://***@", url)  # never show a password
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        info = client.info("server")
        return RedisStatus(url=shown, reachable=True, detail=f"Redis {info.get('redis_version', '?')}")
    except redis.RedisError as exc:
        return RedisStatus(url=shown, reachable=False, detail=str(exc))


@dataclass(frozen=True)
class WorkerStatus:
    alive: bool
    last_heartbeat_age_seconds: float | None
    detail: str


def worker_status() -> WorkerStatus:
    """How long ago a worker last ran the heartbeat task that beat sends every 30 seconds."""
    from memsite.tasks import HEARTBEAT_KEY, HEARTBEAT_TTL_SECONDS

    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=0.5, socket_timeout=0.5)
        stamp = client.get(HEARTBEAT_KEY)
    except redis.RedisError as exc:
        return WorkerStatus(alive=False, last_heartbeat_age_seconds=None, detail=f"Redis: {exc}")
    if stamp is None:
        return WorkerStatus(
            alive=False,
            last_heartbeat_age_seconds=None,
            detail=f"no worker heartbeat in the last {HEARTBEAT_TTL_SECONDS} s: are the worker and beat running?",
        )
    try:
        age = max(time.time() - float(stamp), 0.0)
    except ValueError:
        return WorkerStatus(alive=False, last_heartbeat_age_seconds=None, detail="the heartbeat key holds no time")
    return WorkerStatus(alive=True, last_heartbeat_age_seconds=round(age, 1), detail=f"last heartbeat {age:.0f} s ago")
