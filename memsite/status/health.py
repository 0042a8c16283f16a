"""Health endpoints for load balancers and orchestrators: no login, no page, small JSON.

/health/live   the process answers (restart it if not)
/health/ready  it can serve: DynamoDB tables answer and Redis answers (503 if not); the worker
               heartbeat is reported too, but a web process can serve without workers, so it
               does not make the web unready
"""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from memsite.status.selectors import redis_status, storage_status, worker_status


@never_cache
@require_GET
def live(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def ready(request: HttpRequest) -> JsonResponse:
    stored, queue, worker = storage_status(), redis_status(), worker_status()
    checks = {
        "storage": {"ok": stored.ready, "detail": stored.error or f"{len(stored.tables)} tables"},
        "redis": {"ok": queue.reachable, "detail": queue.detail},
        "worker": {
            "ok": worker.alive,
            "last_heartbeat_age_seconds": worker.last_heartbeat_age_seconds,
            "detail": worker.detail,
        },
    }
    serving = stored.ready and queue.reachable
    status = "ok" if serving and worker.alive else "degraded" if serving else "unavailable"
    return JsonResponse({"status": status, "checks": checks}, status=200 if serving else 503)
