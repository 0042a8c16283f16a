"""Bad input over the API, swept across the write endpoints: bodies that are not JSON, not
UTF-8, of the wrong Content-Type, empty, of the wrong shape, too large for Django or for the
endpoint, nested too deeply, with huge strings, wrong types, unknown fields, or values DynamoDB
cannot hold; and page cursors that are not as they were handed out.

Each is refused with a 400, 413 or 415 whose error body names what was wrong (a field, a value's
path, "body" or "Content-Type"), never a 500, and what the endpoint would write reads back
through the API exactly as before: nothing half-written.
"""

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.conf import settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework.test import APIClient
from ulid import ULID

from decisions.api import MAX_BODY_BYTES
from tests.storage.test_properties import tampered

JSON = "application/json"
MEGABYTE = 1024 * 1024


@dataclass
class World:
    """One test's agent, its client, an operator's client, and the ids the seeds made."""

    agent: str
    me: APIClient
    operator: APIClient
    pattern: str
    ids: dict[str, str] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"/api/v1/agents/{self.agent}"

    def ok(self, client: APIClient, method: str, path: str, body: Any) -> dict:
        response = getattr(client, method)(path, body, format="json")
        assert response.status_code in (200, 201), response.content
        return response.json()

    def read(self, path: str) -> tuple[int, Any]:
        response = self.me.get(path)
        return response.status_code, response.json() if response.content else None


@pytest.fixture
def world(as_agent, as_person, alice, unique) -> World:
    agent = f"bad-{unique[-10:].lower()}"
    return World(agent=agent, me=as_agent(agent), operator=as_person(alice), pattern=f"p-{unique[-10:].lower()}")


@dataclass(frozen=True)
class Endpoint:
    """A write endpoint: a body it accepts, what it would change (read back through the API),
    and the places in its body where bad values go."""

    method: str
    path: Callable[[World], str]
    valid: Callable[[World], dict]
    read: Callable[[World], Any]
    seed: Callable[[World], None] = lambda w: None
    by_operator: bool = False
    # valid body with `value` at a free-form spot under the key "probe" (None: no such spot)
    free: Callable[[World, Any], Any] | None = None
    text: str | None = None  # a string field with a length limit
    wrong_type: tuple[str, Any] | None = None
    document: bool = False  # the body is itself a free-form document (state slots)
    empty_is_valid: bool = False  # no body means "all defaults" (heartbeat)

    def client(self, world: World) -> APIClient:
        return world.operator if self.by_operator else world.me


def _decision(world: World) -> dict:
    return {"agent_id": world.agent, "type": "SIGNAL_GENERATION", "context": {"price": 64123.5}}


def _seed_decision(world: World) -> None:
    world.ids["decision"] = str(ULID())
    world.ok(world.me, "post", "/api/v1/decisions/", _decision(world) | {"decision_id": world.ids["decision"]})


def _signal(world: World) -> dict:
    return {"type": "WHALE_ACTIVITY", "confidence": 0.7, "target_agents": [world.agent], "payload": {"btc": 600}}


def _seed_signal(world: World) -> None:
    world.ids["signal"] = world.ok(world.me, "post", "/api/v1/signals/", _signal(world))["signal_id"]


def _inbox(world: World) -> list[str]:
    return sorted(s["signal_id"] for s in world.me.get("/api/v1/signals/inbox/", {"limit": 500}).json()["results"])


def _seed_config(world: World) -> None:
    body = {"document": {"threshold": 1}, "note": "seed", "expected_version": 0}
    world.ok(world.operator, "put", f"{world.base}/config/", body)


def _definition(world: World) -> dict:
    condition = {"path": "context.whale", "op": "eq", "value": True}
    return {"id": world.pattern, "name": "whales", "decision_type": "SIGNAL_GENERATION", "conditions": [condition]}


def _with_condition_value(world: World, value: Any) -> dict:
    return _definition(world) | {"conditions": [{"path": "context.whale", "op": "eq", "value": {"probe": value}}]}


def _state_slot(path: str) -> Endpoint:
    return Endpoint(
        "put",
        lambda w: f"{w.base}/{path}/",
        valid=lambda w: {"cycle": 2, "positions": {"BTC": 0.5}},
        read=lambda w: w.read(f"{w.base}/{path}/"),
        seed=lambda w: w.ok(w.me, "put", f"{w.base}/{path}/", {"cycle": 1}),
        free=lambda w, value: {"probe": value},
        document=True,
    )


ENDPOINTS = {
    "decision": Endpoint(
        "post",
        lambda w: "/api/v1/decisions/",
        valid=_decision,
        read=lambda w: sorted(
            d["decision_id"] for d in w.me.get("/api/v1/decisions/", {"agent": w.agent, "limit": 500}).json()["results"]
        ),
        seed=_seed_decision,
        free=lambda w, value: _decision(w) | {"context": {"probe": value}},
        text="type",
        wrong_type=("cycle", "twelve"),
    ),
    "outcome": Endpoint(
        "post",
        lambda w: f"/api/v1/decisions/{w.ids['decision']}/outcome/",
        valid=lambda w: {"status": "SUCCESS", "metrics": {"pnl": 1.5}},
        read=lambda w: w.read(f"/api/v1/decisions/{w.ids['decision']}/"),
        seed=_seed_decision,
        free=lambda w, value: {"status": "SUCCESS", "metrics": {"probe": value}},
        text="note",
        wrong_type=("quality_score", "high"),
    ),
    "heartbeat": Endpoint(
        "post",
        lambda w: f"{w.base}/heartbeat/",
        valid=lambda w: {"interval_seconds": 60, "status": "cycle 2"},
        read=lambda w: w.read(f"{w.base}/")[1]["last_heartbeat"],
        seed=lambda w: w.ok(w.me, "post", f"{w.base}/heartbeat/", {"status": "cycle 1"}),
        text="status",
        wrong_type=("interval_seconds", "often"),
        empty_is_valid=True,
    ),
    "state CURRENT": _state_slot("state/CURRENT"),
    "state BACKUP": _state_slot("state/BACKUP"),
    "checkpoint": _state_slot("state/checkpoints/before-open"),
    "memory": Endpoint(
        "put",
        lambda w: f"{w.base}/memory/last-price/",
        valid=lambda w: {"value": 64123.5, "ttl_seconds": 600},
        read=lambda w: w.read(f"{w.base}/memory/"),
        seed=lambda w: w.ok(w.me, "put", f"{w.base}/memory/last-price/", {"value": 1}),
        free=lambda w, value: {"value": {"probe": value}},
        wrong_type=("ttl_seconds", "a day"),
    ),
    "rate limit": Endpoint(
        "post",
        lambda w: f"{w.base}/ratelimits/binance/consume/",
        valid=lambda w: {"limit": 10, "window_seconds": 86400},
        read=lambda w: w.read(f"{w.base}/ratelimits/"),
        seed=lambda w: w.ok(
            w.me, "post", f"{w.base}/ratelimits/binance/consume/", {"limit": 10, "window_seconds": 86400}
        ),
        wrong_type=("limit", "lots"),
    ),
    "config": Endpoint(
        "put",
        lambda w: f"{w.base}/config/",
        valid=lambda w: {"document": {"threshold": 2}, "note": "raise it", "expected_version": 1},
        read=lambda w: w.read(f"{w.base}/config/versions/"),
        seed=_seed_config,
        by_operator=True,
        free=lambda w, value: {"document": {"probe": value}, "note": "raise it", "expected_version": 1},
        text="note",
        wrong_type=("expected_version", "1"),
    ),
    "config rollback": Endpoint(
        "post",
        lambda w: f"{w.base}/config/rollback/",
        valid=lambda w: {"to_version": 0, "note": "back to defaults", "expected_version": 1},
        read=lambda w: w.read(f"{w.base}/config/versions/"),
        seed=_seed_config,
        by_operator=True,
        text="note",
        wrong_type=("to_version", "zero"),
    ),
    "signal": Endpoint(
        "post",
        lambda w: "/api/v1/signals/",
        valid=_signal,
        read=_inbox,
        seed=_seed_signal,
        free=lambda w, value: _signal(w) | {"payload": {"probe": value}},
        text="type",
        wrong_type=("confidence", "high"),
    ),
    "ack": Endpoint(
        "post",
        lambda w: "/api/v1/signals/ack/",
        valid=lambda w: {"signal_ids": [w.ids["signal"]]},
        read=_inbox,
        seed=_seed_signal,
        text="signal_ids",
        wrong_type=("signal_ids", "01JSIGNAL0000000000000000A"),
    ),
    "similar situations": Endpoint(
        "post",
        lambda w: "/api/v1/situations/similar/",
        valid=lambda w: {"context": {"funding_rate": 0.01, "whale_activity": True}},
        read=lambda w: None,  # a read: nothing to change
        free=lambda w, value: {"context": {"probe": value}},
        text="type",
        wrong_type=("limit", "ten"),
    ),
    "pattern override": Endpoint(
        "put",
        lambda w: f"/api/v1/patterns/{w.pattern}/override/",
        valid=lambda w: {"override": "pinned", "reason": "trusted"},
        read=lambda w: w.read(f"/api/v1/patterns/{w.pattern}/versions/"),
        by_operator=True,
        text="reason",
        wrong_type=("override", 5),
    ),
    "pattern definition": Endpoint(
        "post",
        lambda w: "/api/v1/pattern-definitions/",
        valid=_definition,
        read=lambda w: w.read(f"/api/v1/pattern-definitions/{w.pattern}/"),
        by_operator=True,
        free=_with_condition_value,
        text="name",
        wrong_type=("min_support", "many"),
    ),
    "pattern definition edit": Endpoint(
        "put",
        lambda w: f"/api/v1/pattern-definitions/{w.pattern}/",
        valid=lambda w: _definition(w) | {"expected_version": 1},
        read=lambda w: w.read(f"/api/v1/pattern-definitions/{w.pattern}/"),
        seed=lambda w: w.ok(w.operator, "post", "/api/v1/pattern-definitions/", _definition(w)),
        by_operator=True,
        free=lambda w, value: _with_condition_value(w, value) | {"expected_version": 1},
        text="name",
        wrong_type=("half_life_days", "long"),
    ),
}


@dataclass(frozen=True)
class Bad:
    """A bad request: its body and Content-Type, the statuses that may refuse it, and what the
    refusal must name (None: any field, as long as it names one)."""

    body: bytes
    content_type: str = JSON
    statuses: tuple[int, ...] = (400,)
    names: str | None = "body"


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


def _deep(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = {"probe": value}
    return value


def _free(endpoint: Endpoint, world: World, value: Any, statuses: tuple[int, ...] = (400,)) -> Bad | None:
    if endpoint.free is None:
        return None
    return Bad(_json(endpoint.free(world, value)), statuses=statuses, names="probe")


def _free_text(endpoint: Endpoint, world: World, number: str) -> Bad | None:
    """A number JSON can spell but Python's json module reads as infinity (1e400)."""
    if endpoint.free is None:
        return None
    return Bad(_json(endpoint.free(world, "NUMBER")).replace(b'"NUMBER"', number.encode()), names="probe")


def _with(endpoint: Endpoint, world: World, name: str | None, value: Any, **bad: Any) -> Bad | None:
    return None if name is None else Bad(_json(endpoint.valid(world) | {name: value}), names=name, **bad)


def _oversized(endpoint: Endpoint, world: World, size: int) -> Bad:
    """A body over Django's limit: the huge string in a text field, else at the free-form spot,
    else beside the valid body."""
    if endpoint.text:
        body = endpoint.valid(world) | {endpoint.text: "x" * size}
    elif endpoint.free:
        body = endpoint.free(world, "x" * size)
    else:
        body = endpoint.valid(world) | {"padding": "x" * size}
    return Bad(_json(body), statuses=(413,))


def _not_an_object(value: Any) -> Callable[[Endpoint, World], Bad | None]:
    def bad(endpoint: Endpoint, world: World) -> Bad | None:
        if isinstance(value, list) and endpoint is ENDPOINTS["decision"]:
            return None  # an array is a batch: see the batch tests below
        return Bad(_json(value))

    return bad


KINDS: dict[str, Callable[[Endpoint, World], Bad | None]] = {
    "malformed JSON": lambda e, w: Bad(b'{"status": '),
    "not UTF-8": lambda e, w: Bad('{"note": "café"}'.encode("latin-1")),
    "UTF-16": lambda e, w: Bad(json.dumps(e.valid(w)).encode("utf-16")),
    "NaN, which JSON does not have": lambda e, w: Bad(b'{"value": NaN}'),
    "an integer of 5000 digits": lambda e, w: Bad(b'{"value": ' + b"9" * 5000 + b"}"),
    "nesting too deep to parse": lambda e, w: Bad(b'{"a":' * 5000 + b"1" + b"}" * 5000),
    "text/plain": lambda e, w: Bad(_json(e.valid(w)), "text/plain", (415,), "Content-Type"),
    "a form": lambda e, w: Bad(b"limit=10", "application/x-www-form-urlencoded", (415,), "Content-Type"),
    "no Content-Type": lambda e, w: Bad(_json(e.valid(w)), "", (415,), "Content-Type"),
    "an empty body": lambda e, w: None if e.empty_is_valid else Bad(b"", names="body" if e.document else None),
    "null": _not_an_object(None),
    "a string": _not_an_object("hello"),
    "a number": _not_an_object(42),
    "false": _not_an_object(False),
    "an array": _not_an_object([1, 2]),
    "an unknown field": lambda e, w: None if e.document else _with(e, w, "surprise", 1),
    "a wrong type": lambda e, w: _with(e, w, *e.wrong_type) if e.wrong_type else None,
    "a huge string": lambda e, w: _with(e, w, e.text, "x" * MEGABYTE, statuses=(400, 413)),
    "over the endpoint's size limit": lambda e, w: _free(e, w, "x" * MEGABYTE, statuses=(413,)),
    "over DATA_UPLOAD_MAX_MEMORY_SIZE": lambda e, w: _oversized(e, w, settings.DATA_UPLOAD_MAX_MEMORY_SIZE),
    "nested deeper than DynamoDB allows": lambda e, w: _free(e, w, _deep(40)),
    "nested deeper than pydantic serializes": lambda e, w: _free(e, w, _deep(300)),
    "a number DynamoDB cannot hold": lambda e, w: _free(e, w, 1e200),
    "a number just past DynamoDB's largest": lambda e, w: _free(e, w, 5e126),
    "a number that overflows to infinity": lambda e, w: _free_text(e, w, "-1e400"),
    "a lone surrogate": lambda e, w: _free(e, w, "\ud800"),
}


def assert_refused(response, bad: Bad) -> None:
    assert response.status_code in bad.statuses, response.content[:500]
    assert response["Content-Type"].startswith(JSON), response.content[:200]
    body = response.json()
    assert set(body) == {"detail", "code", "fields"}
    detail, fields = body["detail"], body["fields"]
    if response.status_code == 413:
        assert "limit" in detail, body
        if bad.names == "body":
            assert detail.startswith("body"), body
    elif bad.names is None:
        assert any(detail.startswith(f"{name}:") for name in fields), body
    elif bad.names == "probe":
        named = [name for name in fields if "probe" in name]
        assert named, body
        assert detail.startswith(f"{named[0]}:"), body
    else:
        assert detail.startswith(f"{bad.names}:"), body
        assert bad.names in fields, body


@pytest.mark.parametrize("name", ENDPOINTS)
def test_every_kind_of_bad_input_is_refused_by_name_and_changes_nothing(world, name):
    """One endpoint, every kind of bad input in turn (one test per endpoint, not per pair: the
    seeding is the slow part); the failures of all kinds are reported together."""
    endpoint = ENDPOINTS[name]
    endpoint.seed(world)
    client = endpoint.client(world)
    client.raise_request_exception = False  # a 500 is one more failure to report, by kind
    before = endpoint.read(world)
    failures = []
    for kind, make in KINDS.items():
        bad = make(endpoint, world)
        if bad is None:
            continue
        response = client.generic(
            endpoint.method.upper(), endpoint.path(world), bad.body, content_type=bad.content_type
        )
        try:
            assert_refused(response, bad)
            assert endpoint.read(world) == before, "what the endpoint writes changed"
        except AssertionError as error:
            failures.append(f"{kind}: {error}")

    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("name", ENDPOINTS)
def test_the_valid_body_of_the_sweep_is_accepted(world, name):
    """The sweep's bad bodies differ from this one in one thing each: each refusal is for that."""
    endpoint = ENDPOINTS[name]
    endpoint.seed(world)

    response = getattr(endpoint.client(world), endpoint.method)(
        endpoint.path(world), endpoint.valid(world), format="json"
    )

    # A pattern never learned is a 404, but only once its override body was accepted.
    assert response.status_code in ((404,) if name == "pattern override" else (200, 201)), response.content[:300]


@pytest.mark.parametrize(
    ("name", "change", "named"),
    [
        ("decision", {"links": {"surprise": 1}}, "links.surprise"),
        ("decision", {"outcome": {"status": "SUCCESS", "surprise": 1}}, "outcome.surprise"),
        ("pattern definition", {"hit": {"outcome": "SUCCESS", "surprise": 1}}, "hit.surprise"),
        (
            "pattern definition edit",
            {"conditions": [{"path": "context.x", "op": "eq", "surprise": 1}]},
            "conditions.0.surprise",
        ),
    ],
)
def test_an_unknown_field_inside_the_body_is_named_by_its_path(world, name, change, named):
    endpoint = ENDPOINTS[name]
    endpoint.seed(world)
    before = endpoint.read(world)

    response = getattr(endpoint.client(world), endpoint.method)(
        endpoint.path(world), endpoint.valid(world) | change, format="json"
    )

    assert response.status_code == 400
    fields = response.json()["fields"]
    assert fields.get(named) == "Extra inputs are not permitted", fields
    assert endpoint.read(world) == before


def test_a_heartbeat_without_a_body_takes_the_defaults(world):
    response = world.me.generic("POST", f"{world.base}/heartbeat/", b"", content_type=JSON)

    assert response.status_code == 200
    assert response.json()["interval_seconds"] == 600


def test_the_decision_body_limit_is_below_djangos():
    assert MAX_BODY_BYTES < settings.DATA_UPLOAD_MAX_MEMORY_SIZE


# Batches: each item gets its own result, valid items are stored, invalid ones name their problem.

DECISIONS = "/api/v1/decisions/"


def _stored(world: World) -> list[str]:
    return ENDPOINTS["decision"].read(world)


def _batch(world: World, items: list) -> list[dict]:
    response = world.me.post(DECISIONS, items, format="json")
    assert response.status_code == 207, response.content[:300]
    return response.json()["results"]


def test_a_batch_of_things_that_are_not_decisions_stores_nothing_and_names_each(world):
    results = _batch(world, [None, 42, "hello", [1], True])

    assert [r["status"] for r in results] == ["invalid"] * 5
    assert [r["detail"] for r in results] == [f"[{i}] body: a decision must be a JSON object" for i in range(5)]
    assert _stored(world) == []


def test_in_a_batch_each_bad_decision_is_refused_by_name_and_the_good_one_is_stored(world):
    good = _decision(world) | {"decision_id": str(ULID())}
    items = [
        _decision(world) | {"surprise": 1},
        _decision(world) | {"cycle": "twelve"},
        _decision(world) | {"context": {"probe": 1e200}},
        _decision(world) | {"context": {"probe": "x" * 70_000}},
        _decision(world) | {"context": _deep(40)},
        good,
    ]

    results = _batch(world, items)

    assert [r["status"] for r in results] == ["invalid"] * 5 + ["created"]
    details = [r["detail"] for r in results[:5]]
    assert details[0].startswith("[0] surprise: Extra inputs are not permitted")
    assert details[1].startswith("[1] cycle: ")
    assert details[2].startswith("[2] context.probe: ")
    assert details[3].startswith("[3] decision is ")
    assert "limit is 65536" in details[3]
    assert details[4].startswith("[4] context.probe.probe")
    assert _stored(world) == [good["decision_id"]]


def test_a_batch_over_the_body_limit_is_413_and_stores_nothing(world):
    items = [_decision(world) | {"decision_id": str(ULID()), "context": {"blob": "x" * 64_000}} for _ in range(110)]

    response = world.me.post(DECISIONS, items, format="json")

    assert response.status_code == 413
    assert response.json()["detail"].startswith("body is ")
    assert _stored(world) == []


# Cursors over the API: anything but next_cursor exactly as it was returned is a 400 naming it.

CURSOR_EXAMPLES = hypothesis_settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def assert_cursor_refused(response) -> None:
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert "cursor" in body["fields"]
    assert body["detail"].startswith("cursor"), body


@pytest.fixture
def decision_cursor(world) -> str:
    for _ in range(3):
        world.ok(world.me, "post", DECISIONS, _decision(world))
    cursor = world.me.get(DECISIONS, {"agent": world.agent, "limit": 1}).json()["next_cursor"]
    assert cursor
    return cursor


@pytest.fixture
def inbox_cursor(world) -> str:
    for _ in range(3):
        _seed_signal(world)
    cursor = world.me.get("/api/v1/signals/inbox/", {"limit": 1}).json()["next_cursor"]
    assert cursor
    return cursor


@CURSOR_EXAMPLES
@given(st.data())
def test_a_tampered_decision_list_cursor_is_a_400_naming_it(world, decision_cursor, data):
    sent = data.draw(tampered(decision_cursor))

    assert_cursor_refused(world.me.get(DECISIONS, {"agent": world.agent, "limit": 1, "cursor": sent}))


@CURSOR_EXAMPLES
@given(st.data())
def test_a_tampered_inbox_cursor_is_a_400_naming_it(world, inbox_cursor, data):
    sent = data.draw(tampered(inbox_cursor))

    assert_cursor_refused(world.me.get("/api/v1/signals/inbox/", {"limit": 1, "cursor": sent}))


def test_the_untampered_cursors_are_accepted(world, decision_cursor, inbox_cursor):
    pages = world.me.get(DECISIONS, {"agent": world.agent, "limit": 1, "cursor": decision_cursor})
    inbox = world.me.get("/api/v1/signals/inbox/", {"limit": 1, "cursor": inbox_cursor})

    assert (pages.status_code, inbox.status_code) == (200, 200)


def test_a_cursor_is_refused_on_any_other_query(world, decision_cursor, inbox_cursor, as_agent):
    other = as_agent(f"{world.agent}-b")
    refused = [
        world.me.get(DECISIONS, {"agent": f"{world.agent}-b", "limit": 1, "cursor": decision_cursor}),
        world.me.get(DECISIONS, {"agent": world.agent, "type": "SIGNAL_GENERATION", "cursor": decision_cursor}),
        world.me.get(DECISIONS, {"agent": world.agent, "outcome": "PENDING", "cursor": decision_cursor}),
        world.me.get(DECISIONS, {"agent": world.agent, "limit": 1, "cursor": inbox_cursor}),
        world.me.get("/api/v1/signals/inbox/", {"limit": 1, "cursor": decision_cursor}),
        other.get("/api/v1/signals/inbox/", {"limit": 1, "cursor": inbox_cursor}),
    ]

    for response in refused:
        assert_cursor_refused(response)


def test_a_cursor_of_nested_brackets_is_a_400_not_a_recursion_error(world):
    deep = base64.urlsafe_b64encode(b"[" * 5000).decode().rstrip("=")

    assert_cursor_refused(world.me.get(DECISIONS, {"cursor": deep}))
