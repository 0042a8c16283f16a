"""Reads for the status page. Each check reports its own failure instead of raising,
so one service down still leaves a page that says what is wrong."""

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import redis
from django.conf import settings

from memsite import storage
from memsite.storage.provision import TableStatus, describe_tables

if TYPE_CHECKING:
    from memsite.metrics import CapacityUsage


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


SECONDS_PER_MONTH = 30 * 86400
# A shorter window would extend a burst (a backfill, a test run) to a whole month.
MIN_PROJECTION_SECONDS = 3600


@dataclass(frozen=True)
class CostProjection:
    read_units: float
    write_units: float
    since: float
    seconds: float
    monthly_usd: float
    budget_usd: float
    prices_taken: str
    backend: str
    index_write_units: float = 0.0

    @property
    def budget_share(self) -> float:
        return self.monthly_usd / self.budget_usd if self.budget_usd else 0.0

    @property
    def since_at(self) -> datetime:
        return datetime.fromtimestamp(self.since, UTC)

    @property
    def projectable(self) -> bool:
        return self.seconds >= MIN_PROJECTION_SECONDS

    @property
    def minutes_to_wait(self) -> int:
        return max(int((MIN_PROJECTION_SECONDS - self.seconds) / 60) + 1, 0)


def cost_projection(usage: "CapacityUsage | None" = None) -> CostProjection:
    """Request units counted since the processes started, extended to a 30-day month at
    on-demand prices: what the current traffic would cost in throughput (storage comes on top)."""
    from memsite import metrics

    usage = usage or metrics.capacity_usage()
    prices = settings.DYNAMODB_PRICES
    per_month = SECONDS_PER_MONTH / usage.seconds
    monthly = (
        per_month
        * (
            usage.read_units * prices["read_request_units_per_million"]
            + usage.write_units * prices["write_request_units_per_million"]
        )
        / 1_000_000
    )
    return CostProjection(
        read_units=usage.read_units,
        write_units=usage.write_units,
        since=usage.since,
        seconds=usage.seconds,
        monthly_usd=monthly,
        budget_usd=settings.MONTHLY_BUDGET_USD,
        prices_taken=prices["taken"],
        backend=settings.DYNAMODB_BACKEND,
        index_write_units=usage.index_write_units,
    )
