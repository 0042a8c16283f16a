"""Prometheus metrics: requests, latencies, storage calls and errors, consolidation runs, and
the spool backlogs agents report with their heartbeats.

Under gunicorn and Celery several processes count; with PROMETHEUS_MULTIPROC_DIR set (make run
sets it) each writes its samples there and /metrics adds them up (prometheus_client's
multiprocess mode). With METRICS_EMF on, the same events also go out as CloudWatch metric lines
(memsite.emf)."""

import logging
import os
import time
from dataclasses import dataclass
from typing import Any

from prometheus_client import REGISTRY as DEFAULT_REGISTRY
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess

from memsite import emf, storage
from memsite.storage.capacity import WRITE_OPERATIONS, index_units

logger = logging.getLogger(__name__)
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

REQUESTS = Counter("memsite_http_requests_total", "HTTP requests answered", ["method", "route", "status"])
REQUEST_SECONDS = Histogram(
    "memsite_http_request_duration_seconds", "Time to answer a request", ["route"], buckets=LATENCY_BUCKETS
)
STORAGE_CALLS = Counter("memsite_storage_calls_total", "DynamoDB calls", ["operation"])
STORAGE_ERRORS = Counter("memsite_storage_errors_total", "DynamoDB calls that failed", ["operation", "error"])
STORAGE_SECONDS = Histogram(
    "memsite_storage_call_duration_seconds",
    "DynamoDB call time, retries included",
    ["operation"],
    buckets=LATENCY_BUCKETS,
)
CONSOLIDATION_RUNS = Counter("memsite_consolidation_runs_total", "Consolidation runs by how they ended", ["status"])
CONSOLIDATION_DECISIONS = Counter("memsite_consolidation_decisions_counted_total", "Decisions counted into patterns")
SPOOL_PENDING = Gauge(
    "memsite_client_spool_pending",
    "Operations waiting in an agent's memclient spool, as its last heartbeat said",
    ["agent_id"],
    multiprocess_mode="mostrecent",
)


CAPACITY_UNITS = Counter(
    "memsite_storage_capacity_units_total",
    "Request units DynamoDB reported consumed: read, write (table and indexes), index_write (of the write "
    "units, those in global secondary indexes; dynalite reports the base table only, so there they are "
    "counted, with DYNAMODB_COUNT_INDEX_UNITS on, or absent)",
    ["kind"],
)


def _storage_call(operation: str, seconds: float, error: str | None, consumed: Any) -> None:
    try:
        _count_storage_call(operation, seconds, error, consumed)
    except Exception:  # metrics must never fail a storage call
        logger.exception("could not count a storage call")


def _count_storage_call(operation: str, seconds: float, error: str | None, consumed: Any) -> None:
    STORAGE_CALLS.labels(operation).inc()
    STORAGE_SECONDS.labels(operation).observe(seconds)
    if error:
        STORAGE_ERRORS.labels(operation, error).inc()
    entries = consumed if isinstance(consumed, list) else [consumed] if consumed else []
    units = sum(float(entry.get("CapacityUnits", 0.0)) for entry in entries)
    if units:
        CAPACITY_UNITS.labels("write" if operation in WRITE_OPERATIONS else "read").inc(units)
    in_indexes = sum(index_units(entry) for entry in entries) if operation in WRITE_OPERATIONS else 0.0
    if in_indexes:
        CAPACITY_UNITS.labels("index_write").inc(in_indexes)


METERED_SINCE = Gauge(
    "memsite_metered_since_seconds",
    "When the earliest process still counting started (Unix time): the capacity counters' time base",
    multiprocess_mode="min",
)


def install() -> None:
    METERED_SINCE.set(time.time())
    storage.observe(_storage_call)
    storage.observe(emf.storage_call)


def consolidation_run(status: str, decisions_counted: int) -> None:
    """Counts one consolidation run by how it ended."""
    try:
        CONSOLIDATION_RUNS.labels(status).inc()
        CONSOLIDATION_DECISIONS.inc(decisions_counted)
    except Exception:  # metrics must never fail the run they count
        logger.exception("could not count a consolidation run")
    emf.consolidation_run(status, decisions_counted)


@dataclass(frozen=True)
class CapacityUsage:
    read_units: float
    write_units: float  # table and indexes
    since: float  # Unix time the counting started
    index_write_units: float = 0.0  # of write_units, those in indexes (where reported or counted)

    @property
    def seconds(self) -> float:
        return max(time.time() - self.since, 1.0)


def _registry() -> CollectorRegistry:
    """Every process's samples (multiprocess: added up), or this process's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return DEFAULT_REGISTRY


def capacity_usage() -> CapacityUsage:
    """Request units counted so far by every process (multiprocess: added up), and since when."""
    units, since = {"read": 0.0, "write": 0.0, "index_write": 0.0}, time.time()
    for family in _registry().collect():
        for sample in family.samples:
            if sample.name == "memsite_storage_capacity_units_total" and sample.labels["kind"] in units:
                units[sample.labels["kind"]] += sample.value
            elif sample.name == "memsite_metered_since_seconds" and sample.value:
                since = min(since, sample.value)
    return CapacityUsage(
        read_units=units["read"], write_units=units["write"], since=since, index_write_units=units["index_write"]
    )


@dataclass(frozen=True)
class Activity:
    """What the processes did since they started: the volume the CloudWatch estimate scales
    from, and the distinct series each CloudWatch metric would have (a metric per dimension set)."""

    requests: float = 0.0
    storage_calls: float = 0.0
    consolidation_runs: float = 0.0
    request_series: int = 0  # distinct (route, status class)
    operations: int = 0  # distinct storage operations
    run_statuses: int = 0


def activity() -> Activity:
    requests = calls = runs = 0.0
    routes, operations, statuses = set(), set(), set()
    for family in _registry().collect():
        for sample in family.samples:
            if sample.name == "memsite_http_requests_total" and sample.value:
                requests += sample.value
                routes.add((sample.labels["route"], str(sample.labels["status"])[:1]))
            elif sample.name == "memsite_storage_calls_total" and sample.value:
                calls += sample.value
                operations.add(sample.labels["operation"])
            elif sample.name == "memsite_consolidation_runs_total" and sample.value:
                runs += sample.value
                statuses.add(sample.labels["status"])
    return Activity(requests, calls, runs, len(routes), len(operations), len(statuses))


def exposition() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(DEFAULT_REGISTRY)


class RequestMetricsMiddleware:
    """Counts and times every request by its URL pattern (not its path: ids would explode the
    label space)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        try:
            match = getattr(request, "resolver_match", None)
            route = f"/{match.route}" if match and match.route else "unmatched"
            method = request.method if request.method in KNOWN_METHODS else "other"  # any word is a method
            seconds = time.perf_counter() - started
            REQUESTS.labels(method, route, str(response.status_code)).inc()
            REQUEST_SECONDS.labels(route).observe(seconds)
            emf.request(route, response.status_code, seconds)
        except Exception:  # metrics must never fail a request that was answered
            logger.exception("could not count a request")
        return response
