"""Plotly figures of long-term memory, built from selector output only (no I/O), so their data can
be asserted in tests without a browser."""

import plotly.graph_objects as go

from decisions.charts import chart_layout
from patterns.learner import Evidence, confidence
from patterns.memory_schemas import CalibrationBin, PatternVersion
from patterns.memory_selectors import PatternSummary

STATUS_COLOURS = {
    "active": "#59a14f",
    "candidate": "#4e79a7",
    "retired": "#bab0ac",
    "pinned": "#b07aa1",
    "suspended": "#e15759",
}


def scope_label(agent_id: str | None) -> str:
    return agent_id or "all agents"


def confidence_bars(patterns: list[PatternSummary]) -> go.Figure:
    """Each pattern's confidence with its 90% interval as error bars, highest at the top; one
    colour per status, and the bar it must clear to become active."""
    ordered = sorted(patterns, key=lambda p: p.confidence)
    labels = [f"{p.name} · {scope_label(p.agent_id)}" for p in ordered]
    figure = go.Figure()
    for status, colour in STATUS_COLOURS.items():
        rows = [(label, p) for label, p in zip(labels, ordered, strict=True) if p.status == status]
        if not rows:
            continue
        figure.add_scatter(
            name=status,
            mode="markers",
            x=[p.confidence for _, p in rows],
            y=[label for label, _ in rows],
            marker={"color": colour, "size": 10},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": [p.high - p.confidence for _, p in rows],
                "arrayminus": [p.confidence - p.low for _, p in rows],
                "color": colour,
                "thickness": 2,
            },
            customdata=[[p.low, p.high, p.support] for _, p in rows],
            hovertemplate="%{y}<br>confidence %{x:.2f} (90%: %{customdata[0]:.2f} to %{customdata[1]:.2f})"
            "<br>support %{customdata[2]}<extra>" + status + "</extra>",
        )
    figure.add_scatter(
        name="activates at",
        mode="markers",
        x=[p.activate_at for p in ordered],
        y=labels,
        marker={"symbol": "line-ns-open", "size": 14, "color": "#333"},
        hovertemplate="activates when the lower bound reaches %{x}<extra></extra>",
    )
    figure.update_layout(
        chart_layout(
            "Confidence with 90% credible interval",
            height=max(260, 90 + 34 * len(ordered)),
            xaxis={"range": [0, 1], "title": "confidence (Beta posterior mean)", "gridcolor": "#eef0f3"},
            yaxis={"categoryorder": "array", "categoryarray": labels, "automargin": True},
        )
    )
    return figure


def calibration_chart(bins: list[CalibrationBin]) -> go.Figure:
    """Predicted confidence (tenths) against the hit rate later outcomes realised, with the 90%
    interval of that rate: points on the diagonal mean the confidences were honest."""
    shown = [b for b in bins if b.decisions]
    realised = [confidence(Evidence(hits=b.hits, misses=b.decisions - b.hits, support=b.decisions)) for b in shown]
    rates = [b.hits / b.decisions for b in shown]
    figure = go.Figure()
    figure.add_scatter(
        name="perfect calibration",
        mode="lines",
        x=[0, 1],
        y=[0, 1],
        line={"dash": "dot", "color": "#999"},
        hoverinfo="skip",
    )
    figure.add_scatter(
        name="realised hit rate",
        mode="markers+text",
        x=[b.low + 0.05 for b in shown],
        y=rates,
        text=[f"n={b.decisions}" for b in shown],
        textposition="middle right",
        marker={"size": 10, "color": "#4e79a7"},
        error_y={
            "type": "data",
            "symmetric": False,
            "array": [max(c.high - r, 0) for c, r in zip(realised, rates, strict=True)],
            "arrayminus": [max(r - c.low, 0) for c, r in zip(realised, rates, strict=True)],
        },
        hovertemplate="predicted %{x:.2f}<br>realised %{y:.2f} (%{text})<extra></extra>",
    )
    figure.update_layout(
        chart_layout(
            "Calibration: predicted confidence vs realised hit rate",
            xaxis={"range": [0, 1], "title": "confidence when the outcome was counted", "gridcolor": "#eef0f3"},
            yaxis={"range": [0, 1.05], "title": "share of those decisions that hit", "gridcolor": "#eef0f3"},
        )
    )
    return figure


def evolution_chart(versions: list[PatternVersion], *, activate_at: float) -> go.Figure:
    """Confidence over time with its 90% interval as a band, from the pattern's versions."""
    times = [v.at for v in versions]
    figure = go.Figure()
    figure.add_scatter(
        name="90% interval",
        mode="lines",
        x=times + times[::-1],
        y=[v.high for v in versions] + [v.low for v in versions][::-1],
        fill="toself",
        fillcolor="rgba(78,121,167,0.18)",
        line={"width": 0},
        hoverinfo="skip",
    )
    figure.add_scatter(
        name="confidence",
        mode="lines+markers",
        x=times,
        y=[v.confidence for v in versions],
        line={"color": "#4e79a7", "width": 2},
        customdata=[[v.low, v.high, v.support, v.status] for v in versions],
        hovertemplate="%{x}<br>confidence %{y:.2f} (%{customdata[0]:.2f} to %{customdata[1]:.2f})"
        "<br>support %{customdata[2]} · %{customdata[3]}<extra></extra>",
    )
    if times:
        figure.add_scatter(
            name=f"activates at {activate_at}",
            mode="lines",
            x=[times[0], times[-1]],
            y=[activate_at, activate_at],
            line={"dash": "dash", "color": "#59a14f"},
            hoverinfo="skip",
        )
    figure.update_layout(chart_layout("Confidence over time", yaxis={"range": [0, 1], "title": "confidence"}))
    return figure


SUPPORT_TRACES = (
    ("support (decisions counted)", "support", {"shape": "hv", "color": "#f28e2b"}),
    ("decayed hits", "hits", {"color": "#59a14f", "dash": "dot"}),
    ("decayed misses", "misses", {"color": "#e15759", "dash": "dot"}),
)


def support_chart(versions: list[PatternVersion]) -> go.Figure:
    figure = go.Figure()
    times = [v.at for v in versions]
    for name, field, line in SUPPORT_TRACES:
        figure.add_scatter(name=name, mode="lines", line=line, x=times, y=[getattr(v, field) for v in versions])
    figure.update_layout(chart_layout("Support and decayed counts", height=280, yaxis={"title": "decisions"}))
    return figure
