"""GET /metrics: Prometheus text format, for the scraper and for admins, nobody else.

The scraper sends `Authorization: Bearer <METRICS_TOKEN>`; without METRICS_TOKEN set, only a
logged-in admin can read it."""

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from memsite import metrics
from memsite.roles import has_role


def _allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    sent = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if token and sent and hmac.compare_digest(sent.encode(), token.encode()):
        return True
    return request.user.is_authenticated and has_role(request.user, "admin")


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        return JsonResponse(
            {"detail": "metrics are for the scraper (Bearer METRICS_TOKEN) and admins", "code": "forbidden"},
            status=403,
        )
    return HttpResponse(metrics.exposition(), content_type=CONTENT_TYPE_LATEST)
