from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from memsite.status.selectors import redis_status, storage_status


def status_page(request: HttpRequest) -> HttpResponse:
    return render(request, "status.html", {"storage": storage_status(), "redis": redis_status()})
