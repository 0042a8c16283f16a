"""Pages of the signal bus: the flow between agents, a live feed, and one signal with its deliveries."""

from datetime import UTC, datetime

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from decisions.views import figure_data
from signals import charts, selectors

WINDOWS = {"1": "last day", "7": "last 7 days", "30": "last 30 days"}


def signal_flow_page(request: HttpRequest) -> HttpResponse:
    days = request.GET.get("days", "1")
    days = days if days in WINDOWS else "1"
    flows = selectors.signal_flows(days=int(days))
    context = {
        "days": days,
        "windows": WINDOWS,
        "flows": flows,
        "total": sum(flows.values()),
        "sankey": figure_data(charts.flow_sankey(flows)) if flows else None,
        **_feed_context(),
    }
    return render(request, "signals/flow.html", context)


def signal_feed_partial(request: HttpRequest) -> HttpResponse:
    """The live feed alone, for htmx to swap in every few seconds."""
    return render(request, "signals/_feed.html", _feed_context())


def signal_detail_page(request: HttpRequest, signal_id: str) -> HttpResponse:
    """One signal: what was sent, by whom, for which decision, and how far each target got."""
    context = {"signal": selectors.signal_get(signal_id=signal_id), "now": datetime.now(UTC)}
    return render(request, "signals/detail.html", context)


def _feed_context() -> dict:
    now = datetime.now(UTC)
    return {"feed": selectors.signal_feed(limit=25), "now": now}
