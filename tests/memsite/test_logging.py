"""Structured logs: every line of a request carries its request id and the agent."""

import io
import json
import logging

import pytest
from django.conf import settings
from pythonjsonlogger.json import JsonFormatter

from memsite.log_context import ContextFilter


@pytest.fixture
def json_lines():
    """The django.request logger's lines, formatted as in production (LOG_FORMAT=json)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    spec = settings.LOGGING["formatters"]["json"]
    handler.setFormatter(
        JsonFormatter(fmt=spec["fmt"], rename_fields=spec["rename_fields"], timestamp=spec["timestamp"])
    )
    handler.addFilter(ContextFilter())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)


def test_a_request_logs_its_id_and_agent_and_sends_the_id_back(as_agent, json_lines):
    client = as_agent("market-hunter")

    response = client.get("/api/v1/decisions/01ARZ3NDEKTSV4RRFFQ69G5FAV/", HTTP_X_REQUEST_ID="trace-42")

    assert response.status_code == 404
    assert response["X-Request-ID"] == "trace-42"
    [line] = json_lines()
    assert line["level"] == "WARNING"
    assert line["logger"] == "django.request"
    assert line["request_id"] == "trace-42"
    assert line["agent_id"] == "market-hunter"
    assert line["decision_id"] == "01ARZ3NDEKTSV4RRFFQ69G5FAV"


def test_an_unsafe_request_id_is_replaced(client):
    response = client.get("/health/live", HTTP_X_REQUEST_ID="bad id\nwith newline")

    assert response["X-Request-ID"] != "bad id\nwith newline"
    assert len(response["X-Request-ID"]) == 32


def test_the_json_line_carries_no_request_object(as_agent, json_lines):
    as_agent("market-hunter").get("/api/v1/decisions/01ARZ3NDEKTSV4RRFFQ69G5FAV/?secret=1")

    [line] = json_lines()
    assert "request" not in line
    assert "secret=1" not in json.dumps(line)


def test_no_token_or_password_reaches_any_log_line(agent_token, client, alice, caplog):
    from rest_framework.test import APIClient

    token = agent_token("market-hunter")
    with caplog.at_level(logging.DEBUG):
        agent = APIClient()
        agent.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        agent.get("/api/v1/decisions/01ARZ3NDEKTSV4RRFFQ69G5FAV/")
        agent.post("/api/v1/decisions/", {"agent_id": "someone-else"}, format="json")
        agent.credentials(HTTP_AUTHORIZATION=f"Bearer {token}x")  # an unknown token is refused, not logged
        agent.get("/api/v1/decisions/")
        client.post("/accounts/login/", {"username": "alice", "password": "not-her-password-42"})

    logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    assert caplog.records, "the requests were logged"
    assert token not in logged
    assert token[8:] not in logged
    assert "not-her-password-42" not in logged
