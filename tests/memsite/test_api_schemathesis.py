"""schemathesis over the API's own OpenAPI schema, as an agent, an operator and a viewer: no
server errors, every status code documented, and every answer as the schema says (content type,
body, headers).

The schema is the one the app serves at /api/schema/ to that caller, and every request goes in
process to Django's WSGI handler, which stores in the session's dynalite (in tables of this test's
own: the fuzzer writes pattern definitions and signals that other tests' listings must not see).
Generated path parameters are sometimes swapped for ids that exist (the agent, a stored decision,
signal, definition, memory key, checkpoint) and generated bodies for ones naming the agent and a
valid type, so the happy paths run as well as the refusals.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import hypothesis
import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.test import Client
from django.utils.crypto import get_random_string
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from ulid import ULID

AGENT = "fuzzed-agent"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
# Per operation and caller. The three callers' ~2000 requests take 1-1.5 min on two idle cores.
MAX_EXAMPLES = 15
# The caller's own credentials go with every request, not generated ones.
CONFIG = schemathesis.Config.from_dict({"generation": {"with-security-parameters": False}})
# Body fields whose valid values the schema cannot describe (a pattern checked in code, an agent
# that exists), and a value that passes.
VALID_BODY_VALUES = {
    "agent_id": AGENT,
    "target_agents": [AGENT],
    "type": "TRADE_EXECUTION",
    "decision_type": "TRADE_EXECUTION",
    "id": "fuzz-made",
}


@dataclass(frozen=True)
class Caller:
    headers: dict[str, str]
    cookies: dict[str, str]


@pytest.fixture
def wsgi_app() -> Iterator[WSGIHandler]:
    """Django's WSGI handler inside the test's transaction: as in Django's own test client, the
    handler must not close the database connection at the start and end of each request."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield WSGIHandler()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def unthrottled(settings) -> None:
    """The API throttles have tests of their own; a person's budget would run out here."""
    settings.API_THROTTLE_RATES = {"agent": "100000/min", "person": "100000/min"}


@pytest.fixture
def known(own_tables, as_agent, as_person, alice) -> dict[str, str]:
    """Ids that exist, by path parameter name: what the agent and an operator stored."""
    agent = as_agent(AGENT)
    decision = {"decision_id": str(ULID()), "agent_id": AGENT, "type": "TRADE_EXECUTION", "context": {"a": 1}}
    assert agent.post("/api/v1/decisions/", decision, format="json").status_code == 201
    signal = agent.post(
        "/api/v1/signals/", {"type": "WHALE_ACTIVITY", "confidence": 0.7, "target_agents": [AGENT]}, format="json"
    )
    assert signal.status_code == 201
    assert agent.put(f"/api/v1/agents/{AGENT}/memory/seen/", {"value": 1}, format="json").status_code == 200
    assert agent.put(f"/api/v1/agents/{AGENT}/state/checkpoints/daily/", {"n": 1}, format="json").status_code == 200
    definition = {"id": "fuzz-def", "name": "fuzz", "decision_type": "TRADE_EXECUTION"}
    assert as_person(alice).post("/api/v1/pattern-definitions/", definition, format="json").status_code == 201
    return {
        "agent_id": AGENT,
        "decision_id": decision["decision_id"],
        "signal_id": signal.json()["signal_id"],
        "pattern_id": "fuzz-def",
        "key": "seen",
        "name": "daily",
        "source": "exchange",
    }


def session_of(user) -> Caller:
    """A logged-in browser's cookies, and the CSRF token DRF asks of a session's writes."""
    client = Client()
    client.force_login(user)
    csrf = get_random_string(32)
    cookies = {
        django_settings.SESSION_COOKIE_NAME: client.cookies[django_settings.SESSION_COOKIE_NAME].value,
        django_settings.CSRF_COOKIE_NAME: csrf,
    }
    return Caller(headers={"X-CSRFToken": csrf}, cookies=cookies)


@pytest.fixture(params=["agent", "operator", "viewer"])
def caller(request, known, agent_token, alice, bob) -> Caller:
    if request.param == "agent":
        return Caller(headers={"Authorization": f"Bearer {agent_token(AGENT)}"}, cookies={})
    return session_of(alice if request.param == "operator" else bob)


def sometimes_known(values: dict[str, Any] | None, known: dict[str, str]) -> st.SearchStrategy:
    """The generated path parameters, or the same with each one that has a known id set to it."""
    if not values:
        return st.just(values)
    return st.sampled_from([values, values | {name: known[name] for name in values if name in known}])


def sometimes_valid(body: Any) -> st.SearchStrategy:
    """The generated body (or each item of a batch), or the same with VALID_BODY_VALUES put in."""

    def made_valid(item: Any) -> Any:
        if not isinstance(item, dict):
            return item
        return item | {name: value for name, value in VALID_BODY_VALUES.items() if name in item}

    swapped = [made_valid(item) for item in body] if isinstance(body, list) else made_valid(body)
    return st.sampled_from([body, swapped])


@pytest.fixture
def api_schema(caller, known, unthrottled) -> schemathesis.BaseSchema:
    """The schema as the app serves it to this caller, with the hooks that bring in known values."""
    client = Client(headers=caller.headers)
    for name, value in caller.cookies.items():
        client.cookies[name] = value
    served = client.get("/api/schema/", {"format": "json"})
    assert served.status_code == 200, served.content
    loaded = schemathesis.openapi.from_dict(served.json(), config=CONFIG)
    loaded.hook("flatmap_path_parameters")(lambda context, values: sometimes_known(values, known))
    loaded.hook("flatmap_body")(lambda context, body: sometimes_valid(body))
    return loaded


def fuzz(operation: schemathesis.APIOperation, caller: Caller, app: WSGIHandler) -> None:
    """Valid and invalid requests to one operation; the first failure is raised, shrunk."""
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))

    @hypothesis.settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    @hypothesis.given(case=cases)
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=caller.headers, cookies=caller.cookies, checks=CHECKS, app=app)

    run()


def test_the_api_answers_as_its_schema_says(api_schema, caller, wsgi_app, subtests):
    # schemathesis's own pytest integration (from_fixture) fails on pytest 9 (it reads a node's
    # `_nodeid`, which pytest 9 removed), so each operation runs here as a subtest of its own.
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 40
    for operation in operations:
        with subtests.test(operation.label):
            fuzz(operation, caller, wsgi_app)
