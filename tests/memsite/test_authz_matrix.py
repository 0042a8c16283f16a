"""Who may do what, on every route of the project: the whole policy as one table.

MATRIX has a row per route and method and a column per persona, with the expected outcome in each
cell. The routes are checked against Django's URL resolver, so a new route (or a new method on an
API view) without a row fails here before it ships unchecked.

Personas: anonymous; charlie, logged in with no role; bob a viewer; alice an operator; carol an
admin; agent A with its token; agent B with its own token, acting on A (A's paths, A's decisions);
and a revoked token of agent A. Requests go through Django's test client to the real views and
the real dynalite, on tables of this module's own.

Outcomes: ok (2xx); done (a page's POST was taken and redirects back to the page); login (a
redirect to the login page: pages take a session, not a token); 401; 403. A refused request must
not show any of A's data either.
"""

import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from rest_framework.views import APIView
from ulid import ULID

from agents import config
from agents import services as agent_services
from agents.models import AgentToken
from decisions import services as decision_services
from memsite import storage
from memsite.storage.provision import create_tables
from patterns import consolidation, tasks
from patterns import selectors as pattern_selectors
from patterns.schemas import PatternDefinitionIn
from signals import services as signal_services
from tests.decisions.test_api import a_decision
from tests.patterns.helpers import define, log

pytestmark = pytest.mark.django_db

PERSONAS = ("anon", "norole", "viewer", "oper", "admin", "agentA", "agentB", "revoked")
OUTCOMES = {"ok", "done", "login", "401", "403"}

# {A}: agent A. {decision}, {signal}, {pattern} (a definition with learned states), {checkpoint}
# and {key} (A's short-term memory) exist before the first request; {new_key} and {new_pattern}
# are made for each request, for the writes that delete them.
MATRIX = """
method path                                                       anon  norole viewer oper  admin agentA agentB revoked

# Pages: any role reads them, operators and admins change things, tokens do not open them.
GET    /                                                          login 403    ok     ok    ok    login  login  login
GET    /decisions/                                                login 403    ok     ok    ok    login  login  login
GET    /decisions/export.csv                                      login 403    ok     ok    ok    login  login  login
GET    /decisions/export.jsonl                                    login 403    ok     ok    ok    login  login  login
GET    /decisions/{decision}/                                     login 403    ok     ok    ok    login  login  login
GET    /agents/                                                   login 403    ok     ok    ok    login  login  login
GET    /agents/{A}/                                               login 403    ok     ok    ok    login  login  login
GET    /agents/{A}/config/                                        login 403    ok     ok    ok    login  login  login
POST   /agents/{A}/config/                                        login 403    403    done  done  login  login  login
GET    /signals/                                                  login 403    ok     ok    ok    login  login  login
GET    /signals/feed/                                             login 403    ok     ok    ok    login  login  login
GET    /signals/{signal}/                                         login 403    ok     ok    ok    login  login  login
GET    /patterns/                                                 login 403    ok     ok    ok    login  login  login
GET    /patterns/definitions/                                     login 403    ok     ok    ok    login  login  login
GET    /patterns/definitions/{pattern}/                           login 403    ok     ok    ok    login  login  login
POST   /patterns/definitions/{pattern}/                           login 403    403    done  done  login  login  login
GET    /patterns/strategies/                                      login 403    ok     ok    ok    login  login  login
GET    /patterns/archetypes/                                      login 403    ok     ok    ok    login  login  login
GET    /patterns/{pattern}/                                       login 403    ok     ok    ok    login  login  login
POST   /patterns/{pattern}/                                       login 403    403    done  done  login  login  login
GET    /status/                                                   login 403    ok     ok    ok    login  login  login
GET    /ops/                                                      login 403    ok     ok    ok    login  login  login
POST   /ops/                                                      login 403    403    done  done  login  login  login
GET    /api/docs/                                                 login 403    ok     ok    ok    login  login  login

# Probes are for load balancers; metrics for the scraper (its own token) and admins.
GET    /health/live                                               ok    ok     ok     ok    ok    ok     ok     ok
GET    /health/ready                                              ok    ok     ok     ok    ok    ok     ok     ok
GET    /metrics                                                   403   403    403    403   ok    403    403    403

# Logging in is open; logging out ends up on the login page, whoever asks.
GET    /accounts/login/                                           ok    ok     ok     ok    ok    ok     ok     ok
POST   /accounts/logout/                                          login login  login  login login login  login  login

# The API: the team reads; agents write only as themselves; operators and admins edit configs and
# pattern definitions, correct outcomes and restore checkpoints; people do not log or publish.
# agentB acts on A's paths and logs A's decision; where nothing names A (publish, inbox, ack),
# it acts as itself, as its token says.
GET    /api/schema/                                               401   403    ok     ok    ok    ok     ok     401
GET    /api/v1/decisions/                                         401   403    ok     ok    ok    ok     ok     401
POST   /api/v1/decisions/                                         401   403    403    403   403   ok     403    401
GET    /api/v1/decisions/{decision}/                              401   403    ok     ok    ok    ok     ok     401
POST   /api/v1/decisions/{decision}/outcome/                      401   403    403    ok    ok    ok     403    401
GET    /api/v1/agents/                                            401   403    ok     ok    ok    ok     ok     401
GET    /api/v1/agents/{A}/                                        401   403    ok     ok    ok    ok     ok     401
POST   /api/v1/agents/{A}/heartbeat/                              401   403    403    403   403   ok     403    401
GET    /api/v1/agents/{A}/state/checkpoints/                      401   403    ok     ok    ok    ok     ok     401
GET    /api/v1/agents/{A}/state/checkpoints/{checkpoint}/         401   403    ok     ok    ok    ok     ok     401
PUT    /api/v1/agents/{A}/state/checkpoints/{checkpoint}/         401   403    403    403   403   ok     403    401
POST   /api/v1/agents/{A}/state/checkpoints/{checkpoint}/restore/ 401   403    403    ok    ok    ok     403    401
GET    /api/v1/agents/{A}/state/CURRENT/                          401   403    ok     ok    ok    ok     ok     401
PUT    /api/v1/agents/{A}/state/CURRENT/                          401   403    403    403   403   ok     403    401
GET    /api/v1/agents/{A}/state/BACKUP/                           401   403    ok     ok    ok    ok     ok     401
PUT    /api/v1/agents/{A}/state/BACKUP/                           401   403    403    403   403   ok     403    401
GET    /api/v1/agents/{A}/memory/                                 401   403    ok     ok    ok    ok     ok     401
GET    /api/v1/agents/{A}/memory/{key}/                           401   403    ok     ok    ok    ok     ok     401
PUT    /api/v1/agents/{A}/memory/{key}/                           401   403    403    403   403   ok     403    401
DELETE /api/v1/agents/{A}/memory/{new_key}/                       401   403    403    403   403   ok     403    401
GET    /api/v1/agents/{A}/config/                                 401   403    ok     ok    ok    ok     ok     401
PUT    /api/v1/agents/{A}/config/                                 401   403    403    ok    ok    403    403    401
GET    /api/v1/agents/{A}/config/versions/                        401   403    ok     ok    ok    ok     ok     401
POST   /api/v1/agents/{A}/config/rollback/                        401   403    403    ok    ok    403    403    401
GET    /api/v1/agents/{A}/ratelimits/                             401   403    ok     ok    ok    ok     ok     401
POST   /api/v1/agents/{A}/ratelimits/feed/consume/                401   403    403    403   403   ok     403    401
GET    /api/v1/signals/                                           401   403    ok     ok    ok    ok     ok     401
POST   /api/v1/signals/                                           401   403    403    403   403   ok     ok     401
GET    /api/v1/signals/inbox/                                     401   403    403    403   403   ok     ok     401
POST   /api/v1/signals/ack/                                       401   403    403    403   403   ok     ok     401
GET    /api/v1/signals/{signal}/                                  401   403    ok     ok    ok    ok     ok     401
GET    /api/v1/pattern-definitions/                               401   403    ok     ok    ok    ok     ok     401
POST   /api/v1/pattern-definitions/                               401   403    403    ok    ok    403    403    401
GET    /api/v1/pattern-definitions/{pattern}/                     401   403    ok     ok    ok    ok     ok     401
PUT    /api/v1/pattern-definitions/{pattern}/                     401   403    403    ok    ok    403    403    401
DELETE /api/v1/pattern-definitions/{new_pattern}/                 401   403    403    ok    ok    403    403    401
GET    /api/v1/patterns/                                          401   403    ok     ok    ok    ok     ok     401
GET    /api/v1/patterns/{pattern}/                                401   403    ok     ok    ok    ok     ok     401
GET    /api/v1/patterns/{pattern}/versions/                       401   403    ok     ok    ok    ok     ok     401
PUT    /api/v1/patterns/{pattern}/override/                       401   403    403    ok    ok    403    403    401
GET    /api/v1/strategies/                                        401   403    ok     ok    ok    ok     ok     401
GET    /api/v1/consolidation/runs/                                401   403    ok     ok    ok    ok     ok     401
POST   /api/v1/situations/similar/                                401   403    ok     ok    ok    ok     ok     401
GET    /api/v1/archetypes/                                        401   403    ok     ok    ok    ok     ok     401
"""

# Routes without a row, and why.
EXCLUDED = {
    "admin/": "Django admin checks is_staff itself: test_django_admin_opens_only_for_staff_admins",
}


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    expected: dict[str, str]

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _rows(table: str) -> list[Row]:
    lines = [line.split() for line in table.strip().splitlines() if line.strip() and not line.startswith("#")]
    header, *body = lines
    assert header[2:] == list(PERSONAS)
    rows = [Row(method, path, dict(zip(PERSONAS, cells, strict=True))) for method, path, *cells in body]
    for row in rows:
        assert set(row.expected.values()) <= OUTCOMES, row
    routes = [(row.method, row.path) for row in rows]
    assert len(routes) == len(set(routes)), "a route and method has two rows"
    return rows


ROWS = _rows(MATRIX)


@dataclass
class World:
    """What the rows act on, made once for the module: agents A and B with their tokens, and A's
    decision, signal, pattern, state and memory. `secret` is in A's decision, signal, state and
    memory: a refusal must never show it."""

    secret: str
    A: str
    B: str
    token_a: str
    token_b: str
    revoked_token: str
    decision: str
    signal: str
    pattern: str
    checkpoint: str = "authz"
    key: str = "authz"

    def new_key(self) -> str:
        key = f"authz-{ULID()}"
        agent_services.memory_put(agent_id=self.A, key=key, raw={"value": 1}, writer=_as(self.A))
        return key

    def new_pattern(self) -> str:
        return define(_pattern_id(), "authz_unused").id


def _as(agent_id: str) -> agent_services.Writer:
    return agent_services.Writer(label=f"agent:{agent_id}", agent_id=agent_id)


def _pattern_id() -> str:
    return f"p-authz-{str(ULID())[-10:].lower()}"


def _build_world(suffix: str) -> World:
    a, b = f"authz-a-{suffix}", f"authz-b-{suffix}"
    token_a = agent_services.agent_create(agent_id=a).token
    token_b = agent_services.agent_create(agent_id=b).token
    revoked = agent_services.agent_token_issue(agent_id=a)
    agent_services.agent_token_revoke(agent_id=a, prefix=revoked.prefix)

    marker = f"authz_{suffix}"
    pattern = define(f"p-{suffix}", marker, min_support=3).id
    for status in ("SUCCESS", "SUCCESS", "SUCCESS", "FAILURE"):
        log(a, marker, outcome=status)
    consolidation.consolidate_agent(a)

    secret = f"secret-{ULID()}"
    actor = decision_services.Actor(label=f"agent:{a}", agent_id=a)
    _, decision = decision_services.decision_record(raw=a_decision(a, reasoning={"summary": secret}), actor=actor)
    _, signal = signal_services.signal_publish(
        raw={"type": "WHALE_ACTIVITY", "confidence": 0.8, "payload": {"note": secret}, "target_agents": [b]},
        source_agent=a,
    )
    for slot in ("CURRENT", "BACKUP", agent_services.checkpoint_slot("authz")):
        agent_services.state_put(agent_id=a, slot=slot, raw={"note": secret}, writer=_as(a))
    agent_services.memory_put(agent_id=a, key="authz", raw={"value": secret}, writer=_as(a))
    return World(secret, a, b, token_a, token_b, revoked.token, decision.decision_id, signal.signal_id, pattern)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> Iterator[World]:
    """Tables of the module's own (the pages read across every agent: other modules' items would
    slow them and make them differ from run to run), and the world in them. The agents' tokens are
    committed for the module and deleted after it."""
    previous_prefix = settings.DYNAMODB_TABLE_PREFIX
    suffix = str(ULID())[-8:].lower()
    settings.DYNAMODB_TABLE_PREFIX = f"authz{suffix}_"
    storage.reset()
    create_tables(storage.gateway("worker"), storage.ALL_TABLES)
    with django_db_blocker.unblock():
        built = _build_world(suffix)
    yield built
    with django_db_blocker.unblock():
        AgentToken.objects.filter(agent_id__in=(built.A, built.B)).delete()
    settings.DYNAMODB_TABLE_PREFIX = previous_prefix
    storage.reset()


@pytest.fixture
def queued(monkeypatch) -> list[str]:
    """The ops page queues consolidation on Celery; queuing for real would leave the task in the
    Redis that `make run` uses. What was queued is recorded instead."""
    calls: list[str] = []
    monkeypatch.setattr(tasks.consolidate_all, "delay", lambda: calls.append("consolidate_all"))
    return calls


@pytest.fixture
def clients(world, alice, bob, carol, charlie, settings) -> dict[str, Client]:
    # Throttle counters are keyed by user id, which every test's alice shares, in a Redis other
    # test runs share too: a 429 here would be about them, not about who may do what.
    settings.API_THROTTLE_RATES = {"agent": "100000/min", "person": "100000/min"}

    def person(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    def bearer(token: str) -> Client:
        return Client(headers={"Authorization": f"Bearer {token}"})

    return {
        "anon": Client(),
        "norole": person(charlie),
        "viewer": person(bob),
        "oper": person(alice),
        "admin": person(carol),
        "agentA": bearer(world.token_a),
        "agentB": bearer(world.token_b),
        "revoked": bearer(world.revoked_token),
    }


# Bodies of the writes: valid, so that a refusal can only be about who asks. Each is made for its
# request (a fresh decision id; the version current at that moment).


def _config_save(w: World) -> dict[str, Any]:
    current = config.config_current(agent_id=w.A)
    return {"document": current.document, "note": "authz matrix", "expected_version": current.version}


def _config_page_save(w: World) -> dict[str, Any]:
    body = _config_save(w)
    return body | {"action": "save", "document": json.dumps(body["document"])}


def _config_rollback(w: World) -> dict[str, Any]:
    current = config.config_current(agent_id=w.A)
    if current.version == 0:
        editor = config.Editor(label="user:authz", may_edit=True)
        current = config.config_save(agent_id=w.A, raw=_config_save(w), editor=editor)
    return {"to_version": 0, "note": "authz matrix", "expected_version": current.version}


def _definition_fields(w: World) -> tuple[dict[str, Any], int]:
    current = pattern_selectors.definition_get(pattern_id=w.pattern)
    fields = current.model_dump(mode="json", include=set(PatternDefinitionIn.model_fields), exclude_none=True)
    return fields, current.version


def _definition_update(w: World) -> dict[str, Any]:
    fields, version = _definition_fields(w)
    return fields | {"expected_version": version}


def _definition_page_save(w: World) -> dict[str, Any]:
    fields, version = _definition_fields(w)
    return {"definition": yaml.safe_dump(fields), "expected_version": version}


def _definition_new(w: World) -> dict[str, Any]:
    condition = {"path": "context.authz_unused", "op": "eq", "value": True}
    return {"id": _pattern_id(), "name": "authz", "decision_type": "SIGNAL_GENERATION", "conditions": [condition]}


BODIES: dict[str, Callable[[World], Any]] = {
    "POST /agents/{A}/config/": _config_page_save,
    "POST /patterns/definitions/{pattern}/": _definition_page_save,
    "POST /patterns/{pattern}/": lambda w: {"override": "pinned", "reason": "authz matrix"},
    "POST /api/v1/decisions/": lambda w: a_decision(w.A),
    "POST /api/v1/decisions/{decision}/outcome/": lambda w: {"status": "SUCCESS"},
    "POST /api/v1/agents/{A}/heartbeat/": lambda w: {"status": "authz"},
    "PUT /api/v1/agents/{A}/state/checkpoints/{checkpoint}/": lambda w: {"step": 1},
    "PUT /api/v1/agents/{A}/state/CURRENT/": lambda w: {"step": 1},
    "PUT /api/v1/agents/{A}/state/BACKUP/": lambda w: {"step": 1},
    "PUT /api/v1/agents/{A}/memory/{key}/": lambda w: {"value": 1},
    "PUT /api/v1/agents/{A}/config/": _config_save,
    "POST /api/v1/agents/{A}/config/rollback/": _config_rollback,
    "POST /api/v1/agents/{A}/ratelimits/feed/consume/": lambda w: {"limit": 10**6, "window_seconds": 60},
    "POST /api/v1/signals/": lambda w: {"type": "WHALE_ACTIVITY", "confidence": 0.5, "target_agents": [w.A, w.B]},
    "POST /api/v1/signals/ack/": lambda w: {"signal_ids": [w.signal]},
    "POST /api/v1/pattern-definitions/": _definition_new,
    "PUT /api/v1/pattern-definitions/{pattern}/": _definition_update,
    "PUT /api/v1/patterns/{pattern}/override/": lambda w: {"agent_id": w.A, "override": "pinned", "reason": "authz"},
    "POST /api/v1/situations/similar/": lambda w: {"context": {"regime": "trend"}},
}


class _Ids(dict):
    """str.format_map over the world: {new_key} and {new_pattern} are made when asked for."""

    def __init__(self, world: World) -> None:
        super().__init__()
        self.world = world

    def __missing__(self, name: str) -> str:
        value = getattr(self.world, name)
        return value() if callable(value) else value


def send(client: Client, row: Row, world: World):
    path = row.path.format_map(_Ids(world))
    body = BODIES.get(str(row), lambda w: None)(world)
    if row.method == "GET":
        return client.get(path)
    if path.startswith("/api/"):
        data = json.dumps(body) if body is not None else ""
        return client.generic(row.method, path, data, content_type="application/json")
    return client.post(path, body or {})


def outcome(response) -> str:
    if response.status_code in (301, 302, 303):
        target = urlparse(response["Location"]).path
        return "login" if target == reverse("login") else "done"
    if 200 <= response.status_code < 300:
        return "ok"
    return str(response.status_code)


@pytest.mark.usefixtures("queued")
@pytest.mark.parametrize("row", ROWS, ids=str)
def test_each_persona_gets_the_expected_outcome(row, world, clients):
    responses = {persona: send(client, row, world) for persona, client in clients.items()}

    assert {persona: outcome(response) for persona, response in responses.items()} == row.expected
    for persona, response in responses.items():
        if outcome(response) in ("401", "403", "login"):
            assert world.secret not in response.content.decode(), f"{persona} was refused, and shown A's data"


def _project_routes(patterns=None, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _project_routes(entry.url_patterns, route)
        else:
            yield route, entry


class _Sample(dict):
    """Any value fills a placeholder when only the route matters."""

    def __missing__(self, name: str) -> str:
        return "x1"


def test_every_route_has_a_row():
    routes = {route for route, _ in _project_routes() if not route.startswith(tuple(EXCLUDED))}
    covered = {resolve(row.path.format_map(_Sample())).route for row in ROWS}

    assert routes - covered == set(), "routes without a row in MATRIX"
    assert covered - routes == set(), "rows of MATRIX that match no route"


def test_every_method_of_every_api_view_has_a_row():
    rows = {(resolve(row.path.format_map(_Sample())).route, row.method) for row in ROWS}
    for route, pattern in _project_routes():
        view = getattr(pattern.callback, "view_class", None)
        if view is None or not issubclass(view, APIView):
            continue
        methods = {m.upper() for m in ("get", "post", "put", "patch", "delete") if hasattr(view, m)}
        assert {(route, m) for m in methods} <= rows, f"{route}: a method without a row in MATRIX"


EDIT_FORMS = [
    ("/agents/{A}/config/", 'value="save"'),
    ("/patterns/definitions/", "New definition"),
    ("/patterns/definitions/{pattern}/", "Save as version"),
    ("/patterns/{pattern}/", 'class="override"'),
    ("/ops/", "Run consolidation now"),
]


@pytest.mark.parametrize(("path", "form"), EDIT_FORMS)
def test_only_operators_and_admins_see_edit_forms(world, clients, path, form):
    pages = {persona: clients[persona].get(path.format_map(_Ids(world))) for persona in ("viewer", "oper", "admin")}

    assert {persona: form in page.content.decode() for persona, page in pages.items()} == {
        "viewer": False,
        "oper": True,
        "admin": True,
    }


def test_only_operators_and_admins_run_consolidation_from_the_ops_page(clients, queued):
    for persona in ("viewer", "oper", "admin"):
        clients[persona].post("/ops/")

    assert queued == ["consolidate_all", "consolidate_all"]


@pytest.mark.parametrize(("method", "path"), [("PUT", "/api/v1/agents/{A}/config/"), ("POST", "/agents/{A}/config/")])
def test_a_session_write_without_the_csrf_token_is_refused(world, alice, method, path):
    """A page on another site could make an operator's browser send it: the token tells them apart."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)

    response = send(browser, Row(method, path, {}), world)

    assert response.status_code == 403
    assert "CSRF" in response.content.decode()


def test_an_agent_acknowledges_only_its_own_inbox(world, clients):
    _, signal = signal_services.signal_publish(
        raw={"type": "WHALE_ACTIVITY", "confidence": 0.8, "target_agents": [world.B]}, source_agent=world.A
    )

    acked = clients["agentA"].post("/api/v1/signals/ack/", {"signal_ids": [signal.signal_id]}, "application/json")

    assert acked.json()["results"] == [{"signal_id": signal.signal_id, "status": "not_in_inbox"}]
    inbox = clients["agentB"].get("/api/v1/signals/inbox/?limit=500").json()["results"]
    assert signal.signal_id in [s["signal_id"] for s in inbox]


@pytest.fixture
def staff_admin(db):
    """An admin as `manage.py user_create --role admin` makes one: staff and superuser too."""
    call_command("user_create", "dana", role="admin", password="correct horse battery 42", stdout=io.StringIO())
    return get_user_model().objects.get(username="dana")


def _admin_outcome(response) -> str:
    """Django admin sends whom it refuses to its own login page (the middleware sends those not
    logged in at all to the site's, on most admin pages)."""
    if response.status_code == 302 and urlparse(response["Location"]).path == reverse("admin:login"):
        return "login"
    return outcome(response)


@pytest.mark.parametrize("path", ["/admin/", "/admin/auth/user/", "/admin/agents/agenttoken/"])
def test_django_admin_opens_only_for_staff_admins(clients, staff_admin, path):
    clients["staff"] = Client()
    clients["staff"].force_login(staff_admin)

    reached = {persona: _admin_outcome(client.get(path)) for persona, client in clients.items()}

    # carol holds the admin role through her group alone, which does not make her staff: Django
    # admin asks for is_staff, and user_create --role admin sets it.
    assert reached == dict.fromkeys(PERSONAS, "login") | {"staff": "ok"}
