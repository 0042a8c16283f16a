"""The archetypes figure, built from selector output only (no I/O here), so its data can be
asserted in tests without a browser."""

import plotly.graph_objects as go

from patterns.archetype_schemas import Archetype

HOVER = "<b>%{x}</b><br>success %{y:.0%} (90%: %{customdata[0]:.0%} to %{customdata[1]:.0%})<br>%{customdata[2]}"


def archetype_name(archetype: Archetype) -> str:
    return f"#{archetype.number} {archetype.label}"


def success_by_archetype(archetypes: list[Archetype]) -> go.Figure:
    """Per archetype, the Beta posterior mean of its success rate with the 90% interval as
    error bars: a wide bar says "few outcomes yet", not "bad"."""
    stats = [archetype.stats for archetype in archetypes]
    figure = go.Figure()
    figure.add_scatter(
        name="success rate",
        x=[archetype_name(archetype) for archetype in archetypes],
        y=[s.success_rate for s in stats],
        error_y={
            "type": "data",
            "symmetric": False,
            "array": [round(s.high - s.success_rate, 4) for s in stats],
            "arrayminus": [round(s.success_rate - s.low, 4) for s in stats],
        },
        mode="markers",
        marker={"size": 12, "color": "#4e79a7"},
        customdata=[
            [s.low, s.high, f"{s.successes} succeeded, {s.failures} failed, {s.pending} pending of {s.decisions}"]
            for s in stats
        ],
        hovertemplate=HOVER + "<extra></extra>",
    )
    figure.update_layout(
        title={"text": "Success rate per archetype, with 90% credible interval", "x": 0, "font": {"size": 15}},
        margin={"l": 60, "r": 20, "t": 60, "b": 40},
        height=340,
        showlegend=False,
        plot_bgcolor="#fff",
        paper_bgcolor="#fff",
        xaxis={"gridcolor": "#eef0f3", "type": "category", "automargin": True},
        yaxis={"range": [-0.03, 1.03], "tickformat": ".0%", "gridcolor": "#eef0f3", "title": "success rate"},
    )
    return figure
