"""make bench keeps working: its smallest size runs end to end (its own dynalite and gunicorn)
and writes every measure. Times are not asserted (shared machines are noisy); counts are."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(600)
def test_the_smoke_bench_measures_everything_and_counts_what_it_can(tmp_path):
    out = tmp_path / "results.json"

    done = subprocess.run(
        [sys.executable, "-m", "bench", "--size", "smoke", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert out.exists(), done.stdout + done.stderr
    result = json.loads(out.read_text())
    rows = {row["measure"]: row for row in result["targets"]}
    assert len(rows) == 14
    assert all(isinstance(row["value"], float | int) and row["value"] > 0 for row in rows.values())
    assert rows["timeline: storage calls per request"]["value"] <= 2
    assert rows["inbox read: storage reads per request"]["value"] == 1
    figures = result["figures"]
    assert figures["ingest_api"]["decisions"] == figures["ingest_raw"]["decisions"] == 600
    counted = figures["consolidation_new"]
    assert counted["large_counted"] == counted["large_with_outcome"] > 150  # each decision with an outcome, once
    assert counted["small_counted"] == counted["small_with_outcome"] > 150
    assert "API batch ingest rate / raw BatchWriteItem" in done.stdout  # the table is printed
