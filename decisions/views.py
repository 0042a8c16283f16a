"""Pages of the decision log: overview, timeline with filters, detail, exports. Thin: the
filters come from the URL, the data from selectors, the figures from charts."""

import csv
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import plotly.io
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render

from agents.selectors import agent_ids_known
from decisions import charts, selectors
from decisions.schemas import DECISION_TYPES, Decision
from decisions.selectors import DecisionFilter
from memsite.errors import ApplicationError

RANGES = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(days=7)}
TIMELINE_POINTS = 500
TABLE_ROWS = 50


def figure_data(figure) -> dict[str, Any]:
    """A figure as plain JSON data, for the page's json_script (rendered by static/js/charts.js)."""
    return json.loads(plotly.io.to_json(figure))


def page_filters(params: dict[str, str]) -> tuple[DecisionFilter, dict[str, str], str | None]:
    """The URL's filters -> a DecisionFilter, the form's state, and an error message if any."""
    state = {key: params.get(key, "") for key in ("agent", "type", "outcome", "range", "since", "until")}
    state["range"] = state["range"] if state["range"] in (*RANGES, "custom") else "day"
    query = {key: state[key] for key in ("agent", "type", "outcome")}
    if params.get("cursor"):
        pass  # a next page keeps the window its cursor was made for
    elif state["range"] == "custom":
        query |= {"since": state["since"], "until": state["until"]}
    else:
        now = datetime.now(UTC)
        query |= {"since": (now - RANGES[state["range"]]).isoformat(), "until": now.isoformat()}
    query |= {"cursor": params.get("cursor", ""), "limit": str(TABLE_ROWS)}
    try:
        return DecisionFilter.from_params(query), state, None
    except ApplicationError as error:
        return DecisionFilter(), state, error.detail


def overview(request: HttpRequest) -> HttpResponse:
    until = datetime.now(UTC)
    counts = selectors.decision_counts_hourly(since=until - timedelta(hours=23), until=until)
    latest, _ = selectors.decision_list(filters=DecisionFilter(since=until - timedelta(days=7), until=until, limit=10))
    context = {
        "counts": counts,
        "latest": latest,
        "per_hour": figure_data(charts.decisions_per_hour(counts)),
        "success": figure_data(charts.success_rate(counts)),
        "agents_known": agent_ids_known(),
    }
    return render(request, "decisions/overview.html", context)


def decision_list_page(request: HttpRequest) -> HttpResponse:
    filters, state, error = page_filters(request.GET.dict())
    rows, next_cursor, plotted = [], None, []
    if not error:  # a bad filter shows its message, not some other view's decisions
        rows, next_cursor = selectors.decision_list(filters=filters)
        first_page = filters.model_copy(update={"cursor": None, "limit": TIMELINE_POINTS})
        plotted = rows if filters.cursor else selectors.decision_list(filters=first_page)[0]
    query = request.GET.copy()
    query.pop("cursor", None)
    context = {
        "rows": rows,
        "error": error,
        "state": state,
        "filters": filters,
        "next_cursor": next_cursor,
        "query": query.urlencode(),
        "timeline": figure_data(charts.timeline(plotted)) if plotted else None,
        "plotted": len(plotted),
        "timeline_capped": len(plotted) >= TIMELINE_POINTS,
        "agents": sorted({*agent_ids_known(), state["agent"]} - {""}),
        "types": sorted({*DECISION_TYPES, state["type"]} - {""}),
    }
    return render(request, "decisions/list.html", context)


def decision_detail_page(request: HttpRequest, decision_id: str) -> HttpResponse:
    decision = selectors.decision_get(decision_id=decision_id)
    nearby = selectors.decision_list(
        filters=DecisionFilter(
            agent=decision.agent_id,
            since=decision.timestamp - timedelta(minutes=30),
            until=decision.timestamp + timedelta(minutes=30),
            limit=20,
        )
    )[0]
    context = {
        "decision": decision,
        "summary": charts.reasoning_summary(decision),
        "nearby": [d for d in nearby if d.decision_id != decision.decision_id],
    }
    return render(request, "decisions/detail.html", context)


EXPORT_COLUMNS = [
    "decision_id",
    "timestamp",
    "agent_id",
    "type",
    "cycle",
    "outcome_status",
    "quality_score",
    "reasoning_summary",
    "context",
    "reasoning",
    "outcome",
    "links",
]


def _csv_rows(decisions: Iterator[Decision]) -> Iterator[list[Any]]:
    yield EXPORT_COLUMNS
    for d in decisions:
        data = d.model_dump(mode="json")
        yield [
            d.decision_id,
            data["timestamp"],
            d.agent_id,
            d.type,
            d.cycle,
            d.outcome_status,
            d.outcome.quality_score if d.outcome else None,
            _spreadsheet_safe(charts.reasoning_summary(d, limit=500)),
            json.dumps(data["context"]),
            json.dumps(data["reasoning"]),
            json.dumps(data["outcome"]) if d.outcome else "",
            json.dumps(data["links"]),
        ]


def _spreadsheet_safe(text: str) -> str:
    """Agents' free text must not run as a formula when the CSV is opened in a spreadsheet."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def decision_export(request: HttpRequest, fmt: str) -> StreamingHttpResponse:
    """The current filter's decisions, every page of them, streamed as CSV or JSON Lines."""
    filters, _, error = page_filters({k: v for k, v in request.GET.dict().items() if k != "cursor"})
    if error:
        return HttpResponse(error, status=400, content_type="text/plain")
    decisions = selectors.decision_iter(filters=filters)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    if fmt == "csv":
        writer = csv.writer(_Echo())
        body = (writer.writerow(row) for row in _csv_rows(decisions))
        response = StreamingHttpResponse(body, content_type="text/csv; charset=utf-8")
    else:
        body = (d.model_dump_json() + "\n" for d in decisions)
        response = StreamingHttpResponse(body, content_type="application/x-ndjson")
    response["Content-Disposition"] = f'attachment; filename="decisions-{stamp}.{fmt}"'
    return response
