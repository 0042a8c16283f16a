"""The ops page's cost projection: counted request units extended to a month at on-demand prices."""

import time

import pytest

from memsite.metrics import Activity, CapacityUsage
from memsite.status.bill import monthly_bill
from memsite.status.selectors import SECONDS_PER_MONTH, cost_projection


def test_a_million_of_each_over_a_month_costs_the_two_prices(settings):
    month_ago = time.time() - SECONDS_PER_MONTH
    usage = CapacityUsage(read_units=1_000_000, write_units=1_000_000, since=month_ago)

    projection = cost_projection(usage)

    prices = settings.DYNAMODB_PRICES
    expected = prices["read_request_units_per_million"] + prices["write_request_units_per_million"]
    assert projection.monthly_usd == pytest.approx(expected, rel=1e-3)
    assert projection.budget_share == pytest.approx(expected / 3.50, rel=1e-3)


def test_a_day_of_traffic_is_extended_to_thirty(settings):
    usage = CapacityUsage(read_units=0, write_units=100_000, since=time.time() - 86400)

    projection = cost_projection(usage)

    assert projection.monthly_usd == pytest.approx(
        30 * 0.1 * settings.DYNAMODB_PRICES["write_request_units_per_million"], rel=1e-3
    )


def test_a_short_window_is_not_projected():
    assert not cost_projection(CapacityUsage(read_units=1e6, write_units=1e6, since=time.time() - 600)).projectable
    assert cost_projection(CapacityUsage(read_units=1e6, write_units=1e6, since=time.time() - 3700)).projectable


def test_the_ops_page_shows_units_and_waits_to_project(client, carol, as_agent):
    as_agent("market-hunter").post("/api/v1/agents/market-hunter/heartbeat/", {}, format="json")
    client.force_login(carol)

    page = client.get("/ops/").content.decode()

    assert "write units" in page
    assert "measuring" in page  # the test session has counted for less than an hour
    assert "Budget: $3.50" in page
    assert "base tables only" in page  # a local emulator's caveat


def test_the_bill_adds_storage_and_cloudwatch_estimates_to_the_measured_requests(settings):
    settings.METRICS_EMF = True
    month_ago = time.time() - SECONDS_PER_MONTH
    usage = CapacityUsage(read_units=1_000_000, write_units=2_000_000, since=month_ago, index_write_units=500_000)
    activity = Activity(
        requests=100_000,
        storage_calls=1_000_000,
        consolidation_runs=10_000,
        request_series=10,
        operations=6,
        run_statuses=2,
    )

    bill = monthly_bill(agents=3, usage=usage, activity=activity, stored_bytes=None)

    requests, stored, cloudwatch = bill.lines
    assert (requests.basis, stored.basis, cloudwatch.basis) == ("measured", "estimated", "estimated")
    assert "index units counted" in requests.how
    assert stored.usd == pytest.approx(3 * settings.STORAGE_GB_PER_AGENT_90_DAYS * 0.25)
    log_gb = (100_000 * (300 + 330) + 1_000_000 * 400 + 10_000 * 260) / 1e9
    metrics = 2 * 10 + 4 * 6 + 2 * 2
    assert cloudwatch.usd == pytest.approx(log_gb * 0.53 + metrics * 0.30, rel=1e-3)
    assert bill.total_usd == pytest.approx(requests.usd + stored.usd + cloudwatch.usd)
    assert bill.budget_usd == 3.50


def test_storage_is_measured_where_dynamodb_reports_sizes():
    usage = CapacityUsage(read_units=0, write_units=0, since=time.time() - SECONDS_PER_MONTH)

    bill = monthly_bill(agents=3, usage=usage, activity=Activity(), stored_bytes=2 * 10**9)

    assert bill.lines[1].basis == "measured"
    assert bill.lines[1].usd == pytest.approx(0.50)
