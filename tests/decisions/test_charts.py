"""Figures built from selector output, checked without a browser."""

from datetime import UTC, datetime

from decisions import charts
from decisions.schemas import Decision, Outcome
from decisions.selectors import HourlyCounts

HOURS = ["2026-11-27T10", "2026-11-27T11", "2026-11-27T12"]


def _counts() -> HourlyCounts:
    return HourlyCounts(
        hours=HOURS,
        by_type={"TRADE_EXECUTION": [1, 0, 4], "RISK_ASSESSMENT": [2, 2, 0]},
        by_agent_outcome={
            "risk-manager": {"SUCCESS": [1, 0, 3], "FAILURE": [1, 0, 1], "PENDING": [0, 2, 0]},
            "trade-executor": {"PENDING": [1, 0, 0]},
        },
        agents=["risk-manager", "trade-executor"],
    )


def _decision(agent: str, kind: str, status: str | None, summary: str = "why") -> Decision:
    now = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    outcome = Outcome(status=status, reported_at=now, reported_by="agent:x") if status else None
    return Decision(
        decision_id=f"01J{agent[:3].upper()}{kind[:3]}{status or 'P'}".ljust(26, "0")[:26],
        agent_id=agent,
        type=kind,
        timestamp=now,
        reasoning={"summary": summary},
        outcome=outcome,
        recorded_at=now,
    )


def test_decisions_per_hour_stacks_one_bar_trace_per_type():
    figure = charts.decisions_per_hour(_counts())

    traces = {trace.name: trace for trace in figure.data}
    assert figure.layout.barmode == "stack"
    assert list(traces) == ["RISK_ASSESSMENT", "TRADE_EXECUTION"]
    assert list(traces["TRADE_EXECUTION"].y) == [1, 0, 4]
    assert traces["TRADE_EXECUTION"].marker.color == charts.TYPE_COLOURS["TRADE_EXECUTION"]
    assert list(traces["RISK_ASSESSMENT"].x) == ["2026-11-27T10:00", "2026-11-27T11:00", "2026-11-27T12:00"]


def test_success_rate_is_the_share_of_reported_outcomes_with_gaps_where_none_were_reported():
    figure = charts.success_rate(_counts())

    traces = {trace.name: trace for trace in figure.data}
    assert list(traces["risk-manager"].y) == [0.5, None, 0.75]
    assert list(traces["risk-manager"].customdata) == [2, 0, 4]
    assert list(traces["trade-executor"].y) == [None, None, None]


def test_the_timeline_puts_agents_down_colours_types_and_marks_outcomes():
    decisions = [
        _decision("risk-manager", "RISK_ASSESSMENT", "SUCCESS", summary="funding flipped"),
        _decision("risk-manager", "RISK_ASSESSMENT", "FAILURE"),
        _decision("trade-executor", "TRADE_EXECUTION", None),
        _decision("market-hunter", "NEW_AGENT_TYPE", "SUCCESS"),
    ]

    figure = charts.timeline(decisions)

    by_symbol = {(trace.name, trace.marker.symbol): trace for trace in figure.data}
    assert set(by_symbol) == {
        ("RISK_ASSESSMENT", "circle"),
        ("RISK_ASSESSMENT", "x"),
        ("TRADE_EXECUTION", "circle-open"),
        ("NEW_AGENT_TYPE", "circle"),
    }
    success = by_symbol[("RISK_ASSESSMENT", "circle")]
    assert list(success.y) == ["risk-manager"]
    assert success.customdata[0][3] == "funding flipped"
    assert [t.showlegend for t in figure.data if t.name == "RISK_ASSESSMENT"].count(True) == 1
    assert list(figure.layout.yaxis.categoryarray) == ["market-hunter", "risk-manager", "trade-executor"]
    assert by_symbol[("NEW_AGENT_TYPE", "circle")].marker.color in charts.SPARE_COLOURS


def test_a_reasoning_summary_falls_back_to_the_first_fields_and_is_cut_to_length():
    decision = _decision("a", "X_TYPE", None)
    decision.reasoning = {"score": 0.8, "selected": ["glassnode"], "note": "n" * 300}

    assert charts.reasoning_summary(decision).startswith("score=0.8, selected=['glassnode']")
    assert len(charts.reasoning_summary(decision)) == 140


def test_a_new_type_keeps_its_colour_whatever_else_is_charted():
    alone = charts.type_colour("WHALE_ACTIVITY", ["WHALE_ACTIVITY"])
    among_others = charts.type_colour("WHALE_ACTIVITY", ["FUNDING_SPIKE", "VOLUME_SPIKE", "WHALE_ACTIVITY"])

    assert alone == among_others
    names = ["A_TYPE", "B_TYPE", "C_TYPE", "D_TYPE", "E_TYPE"]
    assert len({charts.type_colour(name, names) for name in names}) == 5, "no two share a colour in one chart"


def test_the_overview_figures_from_stored_decisions_count_every_one(own_tables, as_agent):
    """End to end without a browser: decisions stored over the API, rollups read by the selector,
    figures built from them: every bar and success rate matches what was stored."""
    from datetime import timedelta

    from decisions.selectors import decision_counts_hourly
    from tests.decisions.test_api import URL, a_decision

    now = datetime.now(UTC)
    stored = []
    for agent, kinds in (
        ("chart-a", ["SIGNAL_GENERATION"] * 5 + ["TRADE_EXECUTION"] * 2),
        ("chart-b", ["RISK_ASSESSMENT"] * 4),
    ):
        batch = [
            a_decision(agent, type=kind, timestamp=(now - timedelta(minutes=20 * n)).isoformat())
            for n, kind in enumerate(kinds)
        ]
        for n, decision in enumerate(batch):
            if n % 2 == 0:
                decision["outcome"] = {"status": "SUCCESS" if n % 4 == 0 else "FAILURE"}
        assert as_agent(agent).post(URL, batch, format="json").status_code == 200
        stored += batch
    hunter = as_agent("chart-a")
    hunter.post(f"{URL}{stored[1]['decision_id']}/outcome/", {"status": "SUCCESS"}, format="json")  # a later report

    counts = decision_counts_hourly(since=now - timedelta(hours=23), until=now)
    bars = {trace.name: sum(trace.y) for trace in charts.decisions_per_hour(counts).data}
    rates = charts.success_rate(counts)

    assert bars == {"SIGNAL_GENERATION": 5, "TRADE_EXECUTION": 2, "RISK_ASSESSMENT": 4}
    assert counts.total == len(stored)
    for agent in ("chart-a", "chart-b"):
        mine = [d for d in stored if d["agent_id"] == agent]
        reported = [d for d in mine if "outcome" in d] + ([stored[1]] if agent == "chart-a" else [])
        [line] = [trace for trace in rates.data if trace.name == agent]
        assert sum(line.customdata) == len(reported)


def test_the_overview_charts_share_their_hours_axis():
    bars, lines = charts.decisions_per_hour(_counts()), charts.success_rate(_counts())

    assert bars.layout.xaxis.range == lines.layout.xaxis.range
    assert bars.layout.xaxis.range[0] < f"{HOURS[0]}:00" < f"{HOURS[-1]}:00" < bars.layout.xaxis.range[1]


def test_rows_of_ten_minutes_written_by_earlier_versions_count_beside_the_hourly_ones(own_tables, as_agent):
    from datetime import timedelta

    from decisions.selectors import decision_counts_hourly
    from memsite import storage
    from memsite.storage.tables import AGENT_DECISIONS
    from tests.decisions.test_api import URL, a_decision

    now = datetime.now(UTC)
    as_agent("chart-old").post(URL, a_decision("chart-old", type="RISK_ASSESSMENT"), format="json")
    storage.table(AGENT_DECISIONS).put(
        {
            "pk": f"rollup#{now:%Y-%m-%d}",
            "sk": f"{now:%H}:0#chart-old",
            "agent_id": "chart-old",
            "hour": f"{now:%Y-%m-%dT%H}",
            "total": 2,
            "t_RISK_ASSESSMENT": 2,
            "o_PENDING": 2,
            "applied": {"c:old1", "c:old2"},
        }
    )

    counts = decision_counts_hourly(since=now - timedelta(hours=1), until=now)

    assert sum(counts.by_type["RISK_ASSESSMENT"]) == 3
    assert sum(counts.by_agent_outcome["chart-old"]["PENDING"]) == 3
