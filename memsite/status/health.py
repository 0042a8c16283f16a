"""Health endpoints for load balancers and orchestrators: no login, no page, small JSON.

/health/live   the process answers (restart it if not)
/health/ready  it can serve: the decisions table answers (503 if not). Redis (used by the web
               only to queue work) and the worker heartbeat are reported, and make the answer
               "degraded", but a web process serves without them.

A probe never waits long: one DynamoDB call with one try and a one-second timeout, Redis with
half a second, and the answer is reused for a few seconds, so probes cannot tie up the workers.
Details that name hosts stay in the logs; the public answer says only what is ok.
"""

import logging
import threading
import time

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from memsite import storage
from memsite.status.selectors import redis_status, worker_status
from memsite.storage.tables import AGENT_DECISIONS

logger = logging.getLogger(__name__)
CACHE_SECONDS = 5.0
_cache: dict[str, object] = {"at": 0.0, "answer": None}
_cache_lock = threading.Lock()


@never_cache
@require_safe
def live(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def ready(request: HttpRequest) -> JsonResponse:
    with _cache_lock:
        if time.monotonic() - float(_cache["at"]) < CACHE_SECONDS and _cache["answer"] is not None:
            body, status = _cache["answer"]
            return JsonResponse(body, status=status)
    body, status = _checks()
    with _cache_lock:
        _cache["at"], _cache["answer"] = time.monotonic(), (body, status)
    return JsonResponse(body, status=status)


def _storage_ok() -> bool:
    gateway = storage.gateway("probe")
    try:
        table = gateway.call("DescribeTable", TableName=AGENT_DECISIONS.physical_name(gateway.config.table_prefix))
    except storage.StorageError as error:
        logger.warning("readiness: storage check failed: %s", error)
        return False
    # UPDATING (an index being added) still serves reads and writes.
    return table["Table"]["TableStatus"] in ("ACTIVE", "UPDATING")


def _checks() -> tuple[dict, int]:
    stored, queue, worker = _storage_ok(), redis_status(), worker_status()
    if not queue.reachable:
        logger.warning("readiness: Redis check failed: %s", queue.detail)
    checks = {
        "storage": {"ok": stored},
        "redis": {"ok": queue.reachable},
        "worker": {"ok": worker.alive, "last_heartbeat_age_seconds": worker.last_heartbeat_age_seconds},
    }
    status = "unavailable" if not stored else "ok" if queue.reachable and worker.alive else "degraded"
    return {"status": status, "checks": checks}, 200 if stored else 503
