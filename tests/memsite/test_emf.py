"""CloudWatch Embedded Metric Format lines (METRICS_EMF): their shape, when they are written, and
that writing them never fails the work they measure."""

import importlib
import io
import json
import logging
import os
import subprocess
import sys

import pytest

from memsite import emf, metrics, storage

gateway_module = importlib.import_module("memsite.storage.gateway")  # the package's `gateway` is a function

UNITS = {"Count", "Milliseconds"}


@pytest.fixture
def emf_lines():
    """What the memsite.emf logger writes, one parsed object per line (each line must be JSON)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("memsite.emf")
    logger.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)


@pytest.fixture
def emf_on(settings):
    settings.METRICS_EMF = True
    settings.METRICS_EMF_NAMESPACE = "memsite-test"


def assert_emf(line: dict) -> None:
    """The specification's shape: _aws with an integer Timestamp in milliseconds and metric
    directives; every dimension a string member; every metric a numeric member."""
    meta = line["_aws"]
    assert isinstance(meta["Timestamp"], int)
    assert meta["Timestamp"] > 1_600_000_000_000  # milliseconds, not seconds
    assert meta["CloudWatchMetrics"]
    for directive in meta["CloudWatchMetrics"]:
        assert directive["Namespace"] == "memsite-test"
        assert directive["Dimensions"]
        for dimension_set in directive["Dimensions"]:
            assert dimension_set
            for name in dimension_set:
                assert isinstance(line[name], str)
        assert directive["Metrics"]
        for metric in directive["Metrics"]:
            assert metric["Unit"] in UNITS
            value = line[metric["Name"]]
            assert isinstance(value, int | float)
            assert not isinstance(value, bool)


def _lines_with(lines: list[dict], member: str) -> list[dict]:
    return [line for line in lines if member in line]


def test_a_request_writes_one_line_by_route_and_status_class(client, emf_on, emf_lines):
    client.get("/health/live")

    [line] = _lines_with(emf_lines(), "Route")
    assert_emf(line)
    assert line["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Route", "StatusClass"]]
    assert (line["Route"], line["StatusClass"], line["Requests"]) == ("/health/live", "2xx", 1)
    assert line["RequestLatency"] > 0


def test_storage_calls_write_latency_errors_and_capacity_by_operation(as_agent, emf_on, emf_lines):
    agent = as_agent("market-hunter")
    agent.post("/api/v1/agents/market-hunter/heartbeat/", {"spool_pending": 0}, format="json")
    agent.get("/api/v1/decisions/?limit=1")

    calls = _lines_with(emf_lines(), "Operation")
    for line in calls:
        assert_emf(line)
        assert line["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Operation"]]
        assert line["StorageCalls"] == 1
        assert line["StorageLatency"] > 0
    operations = {line["Operation"] for line in calls}
    assert {"UpdateItem", "Query"} <= operations
    [heartbeat] = [line for line in calls if line["Operation"] == "UpdateItem"]
    assert (heartbeat["StorageErrors"], "Error" in heartbeat) == (0, False)
    assert heartbeat["StorageCapacityUnits"] > 0  # the units DynamoDB reported for the write


def test_a_failed_storage_call_counts_an_error_and_names_it(emf_on, emf_lines):
    with pytest.raises(storage.TableMissing):
        storage.gateway("worker").call("GetItem", TableName="no_such_table", Key={"pk": {"S": "x"}})

    [line] = [line for line in emf_lines() if line.get("Operation") == "GetItem"]
    assert_emf(line)
    assert line["StorageErrors"] == 1
    assert line["Error"] == "ResourceNotFoundException"  # a property: searchable, not a dimension
    assert "Error" not in line["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]


def test_a_consolidation_run_writes_a_line_by_status(emf_on, emf_lines):
    metrics.consolidation_run("succeeded", 7)

    [line] = emf_lines()
    assert_emf(line)
    assert (line["Status"], line["ConsolidationRuns"], line["DecisionsCounted"]) == ("succeeded", 1, 7)


def test_nothing_is_written_when_it_is_off(client, as_agent, settings, emf_lines):
    settings.METRICS_EMF = False

    client.get("/health/live")
    as_agent("market-hunter").get("/api/v1/decisions/?limit=1")
    metrics.consolidation_run("succeeded", 1)

    assert emf_lines() == []


def test_a_failing_writer_fails_neither_the_request_nor_the_storage_call(as_agent, emf_on, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise OSError("stdout is gone")

    monkeypatch.setattr(emf.logger, "info", broken)

    response = as_agent("market-hunter").get("/api/v1/decisions/?limit=1")

    assert response.status_code == 200
    assert "could not write a CloudWatch metric line" in caplog.text


def test_an_observer_that_raises_never_changes_a_storage_call(monkeypatch, caplog):
    seen = []

    def broken(*args):
        raise RuntimeError("observer bug")

    monkeypatch.setattr(gateway_module, "_observers", [broken, lambda *args: seen.append(args[0])])

    answer = storage.gateway("worker").call("ListTables", Limit=1)
    with pytest.raises(storage.TableMissing):  # the call's own error, not the observer's
        storage.gateway("worker").call("GetItem", TableName="no_such_table", Key={"pk": {"S": "x"}})

    assert "TableNames" in answer
    assert seen == ["ListTables", "GetItem"]  # the next observer still ran
    assert "storage observer" in caplog.text


def test_lines_go_to_stdout_as_bare_json_whatever_the_log_format():
    """In a fresh process with the project's LOGGING: one raw object per line on stdout, nothing
    about it on stderr (where the JSON logger writes)."""
    code = (
        "import django; django.setup(); from memsite import emf; "
        "emf.request('/api/v1/decisions/', 404, 0.012); emf.consolidation_run('failed', 0)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("METRICS_EMF", "LOG_"))}
    env |= {
        "DJANGO_SETTINGS_MODULE": "memsite.settings",
        "PYTHONPATH": os.getcwd(),
        "SECRET_KEY": "x",
        "DEBUG": "0",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "ERROR",
        "METRICS_EMF": "true",
        "METRICS_EMF_NAMESPACE": "memsite-test",
    }

    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)

    request_line, run_line = (json.loads(line) for line in result.stdout.splitlines())
    assert_emf(request_line)
    assert_emf(run_line)
    assert (request_line["Route"], request_line["StatusClass"]) == ("/api/v1/decisions/", "4xx")
    assert request_line["RequestLatency"] == pytest.approx(12)
    assert "_aws" not in result.stderr
