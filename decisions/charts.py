"""Plotly figures of the decision log, built from selector output only (no I/O here), so their
data can be asserted in tests without a browser."""

import zlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import plotly.graph_objects as go

from decisions.schemas import Decision
from decisions.selectors import HourlyCounts

# One colour per decision type, stable across pages; other types (new agents' decision types,
# signal types) take spare colours by name (type_colour).
TYPE_COLOURS = {
    "SOURCE_SELECTION": "#4e79a7",
    "QUERY_EXECUTION": "#f28e2b",
    "SIGNAL_GENERATION": "#59a14f",
    "RISK_ASSESSMENT": "#e15759",
    "TRADE_EXECUTION": "#76b7b2",
}
SPARE_COLOURS = ["#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#499894"]  # none near the grey of links and axes
TIMELINE_HOVER = "<b>%{customdata[1]}</b> · %{customdata[2]}<br>%{x}<br>%{customdata[3]}<extra>%{y}</extra>"
OUTCOME_SYMBOLS = {"SUCCESS": "circle", "FAILURE": "x", "PENDING": "circle-open"}


def type_colour(decision_type: str, known: Sequence[str] = ()) -> str:
    """Other types take a spare colour chosen by their name, so a type keeps its colour from one
    chart and time window to the next; two that would share one in the same chart (`known`) are
    told apart by giving the later name (in sort order) the next free colour."""
    if decision_type in TYPE_COLOURS:
        return TYPE_COLOURS[decision_type]
    taken: set[str] = set()
    for other in sorted({*known, decision_type} - TYPE_COLOURS.keys()):
        slot = zlib.crc32(other.encode()) % len(SPARE_COLOURS)
        while SPARE_COLOURS[slot] in taken and len(taken) < len(SPARE_COLOURS):
            slot = (slot + 1) % len(SPARE_COLOURS)
        taken.add(SPARE_COLOURS[slot])
        if other == decision_type:
            return SPARE_COLOURS[slot]
    raise AssertionError("unreachable: decision_type is among the names walked")


def chart_layout(title: str, **extra: Any) -> dict[str, Any]:
    return {
        "title": {"text": title, "x": 0, "font": {"size": 15}},
        "margin": {"l": 60, "r": 20, "t": 70, "b": 50},
        "height": 340,
        # Above the plot, right-aligned: below it, the legend would cover the date under the x axis.
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "right", "x": 1},
        "showlegend": True,  # also for a single agent or type: the name matters
        "plot_bgcolor": "#fff",
        "paper_bgcolor": "#fff",
        "xaxis": {"gridcolor": "#eef0f3"},
        "yaxis": {"gridcolor": "#eef0f3"},
        **extra,
    }


def decisions_per_hour(counts: HourlyCounts) -> go.Figure:
    """Stacked bars: decisions per hour, one colour per type."""
    figure = go.Figure()
    for decision_type in sorted(counts.by_type):
        figure.add_bar(
            name=decision_type,
            x=[f"{hour}:00" for hour in counts.hours],
            y=counts.by_type[decision_type],
            marker_color=type_colour(decision_type, list(counts.by_type)),
            hovertemplate="%{x}<br>" + decision_type + ": %{y}<extra></extra>",
        )
    figure.update_layout(
        chart_layout("Decisions per hour, by type", barmode="stack", yaxis_title="decisions", xaxis=_hours_axis(counts))
    )
    return figure


def _hours_axis(counts: HourlyCounts) -> dict[str, Any]:
    """The same x range for every chart of the same hours (bar edges included), so the charts
    stacked on a page line up hour for hour."""
    axis = {"gridcolor": "#eef0f3"}
    if not counts.hours:
        return axis
    first, last = (datetime.fromisoformat(f"{hour}:00") for hour in (counts.hours[0], counts.hours[-1]))
    half = timedelta(minutes=30)
    return axis | {"range": [(first - half).isoformat(), (last + half).isoformat()]}


def success_rate(counts: HourlyCounts) -> go.Figure:
    """One line per agent: the share of its reported decisions that succeeded, hour by hour.
    Hours without any reported outcome are gaps, not zeros."""
    figure = go.Figure()
    for agent in counts.agents:
        outcomes = counts.by_agent_outcome[agent]
        zeros = [0] * len(counts.hours)
        successes, failures = outcomes.get("SUCCESS", zeros), outcomes.get("FAILURE", zeros)
        rates = [s / (s + f) if s + f else None for s, f in zip(successes, failures, strict=True)]
        reported = [s + f for s, f in zip(successes, failures, strict=True)]
        figure.add_scatter(
            name=agent,
            x=[f"{hour}:00" for hour in counts.hours],
            y=rates,
            customdata=reported,
            mode="lines+markers",
            connectgaps=False,
            hovertemplate=agent + "<br>%{x}<br>success %{y:.0%} of %{customdata} reported<extra></extra>",
        )
    figure.update_layout(
        chart_layout(
            "Success rate per agent (of reported outcomes)",
            yaxis={"range": [0, 1.05], "tickformat": ".0%"},
            xaxis=_hours_axis(counts),
        )
    )
    return figure


def reasoning_summary(decision: Decision, limit: int = 140) -> str:
    """A one-line account of why: the agent's own summary if it gave one, else its first fields."""
    reasoning = decision.reasoning
    text = reasoning.get("summary") or reasoning.get("why") or reasoning.get("reason")
    if not isinstance(text, str):
        text = ", ".join(f"{key}={value}" for key, value in list(reasoning.items())[:4]) or "(no reasoning given)"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def timeline(decisions: Sequence[Decision]) -> go.Figure:
    """Each decision a marker: time across, agent down, colour by type, symbol by outcome."""
    figure = go.Figure()
    types = sorted({d.type for d in decisions})
    for decision_type in types:
        shown_in_legend = False
        for status, symbol in OUTCOME_SYMBOLS.items():
            chosen = [d for d in decisions if d.type == decision_type and d.outcome_status == status]
            if not chosen:
                continue
            # One legend entry per type (colour); the page explains the symbols once.
            figure.add_scatter(
                name=decision_type,
                legendgroup=decision_type,
                showlegend=not shown_in_legend,
                x=[d.timestamp for d in chosen],
                y=[d.agent_id for d in chosen],
                # Types in lanes of their own inside the agent's row: an agent's decisions of one
                # cycle share a timestamp and would otherwise hide one another.
                orientation="h",
                offsetgroup=decision_type,
                mode="markers",
                marker={
                    "color": type_colour(decision_type, types),
                    "symbol": symbol,
                    "size": 11,
                    "line": {"width": 2, "color": type_colour(decision_type, types)},
                },
                customdata=[[d.decision_id, d.type, d.outcome_status, reasoning_summary(d)] for d in chosen],
                hovertemplate=TIMELINE_HOVER,
            )
            shown_in_legend = True
    agents = sorted({d.agent_id for d in decisions})
    figure.update_layout(
        chart_layout(
            "Decision timeline",
            height=160 + 56 * len(agents),
            scattermode="group",
            scattergap=0.3,
            yaxis={"type": "category", "categoryorder": "array", "categoryarray": agents, "gridcolor": "#eef0f3"},
        )
    )
    return figure
