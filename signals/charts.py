"""Plotly figures of the signal bus, built from selector output only."""

from collections import Counter

import plotly.graph_objects as go

from decisions.charts import type_colour


def flow_sankey(flows: Counter) -> go.Figure:
    """Who signals whom: source agent -> signal type -> target agent, link width = signals."""
    sources = sorted({source for source, _, _ in flows})
    types = sorted({kind for _, kind, _ in flows})
    targets = sorted({target for _, _, target in flows})
    labels = [f"{s} (sends)" for s in sources] + types + [f"{t} (receives)" for t in targets]
    index = {("s", s): i for i, s in enumerate(sources)}
    index |= {("k", k): len(sources) + i for i, k in enumerate(types)}
    index |= {("t", t): len(sources) + len(types) + i for i, t in enumerate(targets)}
    sent: Counter = Counter()
    received: dict[tuple[str, str], int] = {}
    for (source, kind, target), count in flows.items():
        sent[(source, kind)] += count
        received[(kind, target)] = received.get((kind, target), 0) + count
    links_from = [index[("s", s)] for s, _ in sent] + [index[("k", k)] for k, _ in received]
    links_to = [index[("k", k)] for _, k in sent] + [index[("t", t)] for _, t in received]
    values = list(sent.values()) + list(received.values())
    node_colours = ["#475467"] * len(sources) + [type_colour(k, types) for k in types] + ["#475467"] * len(targets)
    figure = go.Figure(
        go.Sankey(
            node={"label": labels, "color": node_colours, "pad": 18, "thickness": 16},
            link={"source": links_from, "target": links_to, "value": values, "color": "rgba(71, 84, 103, 0.25)"},
            valueformat="d",
            valuesuffix=" signals",
        )
    )
    figure.update_layout(
        title={"text": "Who signals whom: sender → signal type → receiver", "x": 0, "font": {"size": 15}},
        height=max(320, 60 * max(len(sources), len(types), len(targets), 1) + 120),
        margin={"l": 20, "r": 20, "t": 50, "b": 20},
        paper_bgcolor="#fff",
    )
    return figure
