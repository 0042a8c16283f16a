"""make bench keeps working: its smallest size runs end to end (its own dynalite and gunicorn)
and writes every measure. Times are not asserted (shared machines are noisy); counts are."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory) -> tuple[dict, str]:
    """One smoke run of the bench for the tests below: its results and what it printed."""
    out = tmp_path_factory.mktemp("bench") / "results.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--size", "smoke", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.exists(), done.stdout + done.stderr
    return json.loads(out.read_text()), done.stdout


@pytest.mark.timeout(600)
def test_the_smoke_bench_measures_everything_and_counts_what_it_can(smoke):
    result, stdout = smoke

    rows = {row["measure"]: row for row in result["targets"]}
    assert len(rows) == 15
    assert all(isinstance(row["value"], float | int) and row["value"] > 0 for row in rows.values())
    assert rows["timeline: storage calls per request"]["value"] <= 2
    assert rows["inbox read: storage reads per request"]["value"] == 1
    figures = result["figures"]
    assert figures["ingest_api"]["decisions"] == figures["ingest_raw"]["decisions"] == 600
    counted = figures["consolidation_new"]
    assert counted["large_counted"] == counted["large_with_outcome"] > 150  # each decision with an outcome, once
    assert counted["small_counted"] == counted["small_with_outcome"] > 150
    assert "API batch ingest rate / raw BatchWriteItem" in stdout  # the table is printed


@pytest.mark.timeout(600)
def test_the_smoke_bench_counts_index_units_and_projects_the_teams_month(smoke):
    result, stdout = smoke
    team = result["figures"]["team"]

    for figure in (
        "total_write_units_per_agent_cycle",
        "total_read_units_per_agent_cycle",
        "index_write_units_per_agent_cycle",
        "projected_dynamodb_usd_month_3_agents",
    ):
        assert team[figure] > 0, figure
    assert team["total_write_units_per_agent_cycle"] > team["index_write_units_per_agent_cycle"]
    assert team["stored_bytes_per_decision"] > team["decision_item_bytes"]  # its index copies
    assert result["figures"]["decision_units"]["index_write_units_per_decision"] > 0
    assert result["figures"]["signal_units"]["index_write_units_per_signal"] > 0
    targets = {row["measure"]: row["target"] for row in result["targets"]}
    assert targets["team workload: write units per agent-cycle (table + indexes)"] == "<= 20"
    assert targets["team workload: read units per agent-cycle"] == "<= 40"
    assert targets["team workload: projected DynamoDB $ / month, 3 agents"] == "<= 0.5"
    assert "team workload: projected DynamoDB $ / month, 3 agents" in stdout
