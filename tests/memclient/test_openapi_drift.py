"""memclient's pydantic models against the server's OpenAPI schema, so the two cannot drift.

Requests: every field the client sends exists in the operation's request body with a type the
API accepts, and every field the API requires is always sent. Responses: every field the client
requires is in the operation's answer, the API's types are ones the client accepts, and no model
declares a field that none of the answers it reads has (a typo there would stay None forever).
Operations are found by path and method in the generated schema, never by component name.
"""

from collections import defaultdict
from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator
from pydantic import BaseModel

from memclient import models

AGENT = "/api/v1/agents/{agent_id}"
REQUESTS: list[tuple[type[BaseModel], str, str]] = [
    (models.DecisionIn, "post", "/api/v1/decisions/"),
    (models.OutcomeIn, "post", "/api/v1/decisions/{decision_id}/outcome/"),
    (models.SignalIn, "post", "/api/v1/signals/"),
    (models.AckIn, "post", "/api/v1/signals/ack/"),
    (models.MemoryIn, "put", f"{AGENT}/memory/{{key}}/"),
    (models.ConsumeIn, "post", f"{AGENT}/ratelimits/{{source}}/consume/"),
    (models.HeartbeatIn, "post", f"{AGENT}/heartbeat/"),
    (models.SimilarIn, "post", "/api/v1/situations/similar/"),
]
RESPONSES: list[tuple[type[BaseModel], str, str, str]] = [
    (models.BatchOut, "post", "/api/v1/decisions/", "200"),
    (models.BatchOut, "post", "/api/v1/decisions/", "207"),
    (models.Signal, "post", "/api/v1/signals/", "201"),
    (models.Signal, "post", "/api/v1/signals/", "200"),
    (models.InboxPage, "get", "/api/v1/signals/inbox/", "200"),
    (models.AckOut, "post", "/api/v1/signals/ack/", "200"),
    (models.MemoryEntry, "get", f"{AGENT}/memory/{{key}}/", "200"),
    (models.MemoryEntry, "put", f"{AGENT}/memory/{{key}}/", "200"),
    (models.RateLimit, "post", f"{AGENT}/ratelimits/{{source}}/consume/", "200"),
    (models.RateLimit, "post", f"{AGENT}/ratelimits/{{source}}/consume/", "429"),
    (models.Config, "get", f"{AGENT}/config/", "200"),
    (models.PatternList, "get", "/api/v1/patterns/", "200"),
    (models.SimilarSituations, "post", "/api/v1/situations/similar/", "200"),
    (models.Heartbeat, "post", f"{AGENT}/heartbeat/", "200"),
    (models.StateSlot, "put", f"{AGENT}/state/CURRENT/", "200"),
    (models.StateSlot, "put", f"{AGENT}/state/checkpoints/{{name}}/", "200"),
]


def follow(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """`node` with its $ref (and one-element allOf, as pydantic writes enums) followed."""
    while True:
        if "$ref" in node:
            target: Any = doc
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        elif len(node.get("allOf", [])) == 1:
            node = node["allOf"][0]
        else:
            return node


def alternatives(doc: dict[str, Any], node: dict[str, Any]) -> list[dict[str, Any]]:
    """The non-null shapes a value may take."""
    node = follow(doc, node)
    options = node.get("anyOf") or node.get("oneOf")
    if options is None:
        return [] if node.get("type") == "null" else [node]
    return [shape for option in options for shape in alternatives(doc, option)]


def json_types(doc: dict[str, Any], node: dict[str, Any]) -> set[str] | None:
    """The JSON types a schema allows; None for any. An integer is a number too."""
    node = follow(doc, node)
    options = node.get("anyOf") or node.get("oneOf")
    if options is not None:
        found = [json_types(doc, option) for option in options]
        return None if None in found else set().union(*found)
    if "enum" in node or "const" in node:
        values = node.get("enum", [node.get("const")])
        types = {type(value).__name__ for value in values}
        return {{"str": "string", "bool": "boolean", "int": "integer", "float": "number"}.get(t, t) for t in types}
    if "type" not in node:
        return None
    types = set(node["type"]) if isinstance(node["type"], list) else {node["type"]}
    return types | {"integer"} if "number" in types else types


def enum_values(doc: dict[str, Any], node: dict[str, Any]) -> set[Any] | None:
    shapes = alternatives(doc, node)
    if not shapes or any("enum" not in shape for shape in shapes):
        return None
    return {value for shape in shapes for value in shape["enum"]}


class Checker:
    """Compares a model's schema (`model`) with the API's (`api`), recursing into nested objects
    and arrays; collects problems and, per model, which API properties were seen."""

    def __init__(self, api: dict[str, Any], model: dict[str, Any], sending: bool) -> None:
        self.api, self.model, self.sending = api, model, sending
        self.problems: list[str] = []
        self.seen: dict[str, set[str]] = defaultdict(set)
        self.declared: dict[str, set[str]] = {}

    def objects(self, model_node: dict[str, Any], api_node: dict[str, Any], where: str) -> None:
        mine, theirs = follow(self.model, model_node), follow(self.api, api_node)
        mine_props, their_props = mine.get("properties", {}), theirs.get("properties", {})
        title = mine.get("title", where)
        self.declared[title] = set(mine_props)
        self.seen[title] |= set(their_props)
        for name, field in mine_props.items():
            if name in their_props:
                self.value(field, their_props[name], f"{where}.{name}")
            elif self.sending:
                self.problems.append(f"{where}.{name}: the client sends it, the API does not take it")
            elif name in mine.get("required", []):
                self.problems.append(f"{where}.{name}: the client requires it, the API's answer does not have it")
        if self.sending:
            always_sent = set(mine.get("required", [])) | {
                n for n, f in mine_props.items() if f.get("default") is not None
            }
            for name in set(theirs.get("required", [])) - always_sent:
                self.problems.append(f"{where}.{name}: the API requires it, the client does not always send it")

    def value(self, model_node: dict[str, Any], api_node: dict[str, Any], where: str) -> None:
        sent, taken = (model_node, api_node) if self.sending else (api_node, model_node)
        sent_doc, taken_doc = (self.model, self.api) if self.sending else (self.api, self.model)
        sent_types, taken_types = json_types(sent_doc, sent), json_types(taken_doc, taken)
        if self.sending and sent_types is not None:
            sent_types -= {"null"}  # the client leaves None out of what it sends
        if taken_types is not None and (sent_types is None or not sent_types <= taken_types):
            self.problems.append(f"{where}: {sorted(sent_types or ['any'])} sent, only {sorted(taken_types)} taken")
        sent_enum, taken_enum = enum_values(sent_doc, sent), enum_values(taken_doc, taken)
        if taken_enum is not None and (sent_enum is None or not sent_enum <= taken_enum):
            self.problems.append(f"{where}: values {sent_enum or 'any'} sent, only {sorted(taken_enum)} taken")
        self.nested(model_node, api_node, where)

    def nested(self, model_node: dict[str, Any], api_node: dict[str, Any], where: str) -> None:
        mine = [s for s in alternatives(self.model, model_node) if "properties" in s or "items" in s]
        theirs = [s for s in alternatives(self.api, api_node) if "properties" in s or "items" in s]
        if len(mine) != 1 or len(theirs) != 1:
            return
        if "properties" in mine[0] and "properties" in theirs[0]:
            self.objects(mine[0], theirs[0], where)
        elif "items" in mine[0] and "items" in theirs[0]:
            self.value(mine[0]["items"], theirs[0]["items"], f"{where}[]")


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def operation(openapi: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    assert path in openapi["paths"], f"{path} is not in the API's schema"
    assert method in openapi["paths"][path], f"{method.upper()} {path} is not in the API's schema"
    return openapi["paths"][path][method]


def request_shapes(openapi: dict[str, Any], method: str, path: str) -> list[dict[str, Any]]:
    """The object shapes the request body may take: a decision, or the items of a batch."""
    body = operation(openapi, method, path)["requestBody"]["content"]["application/json"]["schema"]
    shapes = alternatives(openapi, body)
    return [follow(openapi, s["items"]) if s.get("type") == "array" else s for s in shapes]


@pytest.mark.parametrize(("model", "method", "path"), REQUESTS, ids=lambda v: getattr(v, "__name__", ""))
def test_what_the_client_sends_is_what_the_api_takes(openapi, model, method, path):
    problems = []
    for shape in request_shapes(openapi, method, path):
        checker = Checker(openapi, model.model_json_schema(mode="serialization"), sending=True)
        checker.objects(checker.model, shape, model.__name__)
        problems.append(checker.problems)
    assert [] in problems, f"{model.__name__} vs {method.upper()} {path}: {min(problems, key=len)}"


def test_what_the_client_reads_is_what_the_api_answers(openapi):
    problems: list[str] = []
    seen: dict[str, set[str]] = defaultdict(set)
    declared: dict[str, set[str]] = {}
    for model, method, path, status in RESPONSES:
        response = operation(openapi, method, path)["responses"][status]
        schema = response["content"]["application/json"]["schema"]
        outcomes = []
        for shape in alternatives(openapi, schema):
            checker = Checker(openapi, model.model_json_schema(mode="validation"), sending=False)
            checker.objects(checker.model, shape, f"{model.__name__} ({method.upper()} {path} {status})")
            outcomes.append(checker)
        best = min(outcomes, key=lambda c: len(c.problems))
        problems += best.problems
        declared |= best.declared
        for title, names in best.seen.items():
            seen[title] |= names

    assert problems == []
    never_answered = {title: sorted(names - seen[title]) for title, names in declared.items() if names - seen[title]}
    assert never_answered == {}, "fields no answer of the API has"


def test_the_checker_notices_drift(openapi):
    """The checker itself: a made-up field, a wrong type and a missing required one are caught."""

    class Drifted(BaseModel):
        decision_id: str
        agent_id: int
        tpye: str

    checker = Checker(openapi, Drifted.model_json_schema(mode="serialization"), sending=True)
    checker.objects(checker.model, request_shapes(openapi, "post", "/api/v1/decisions/")[0], "Drifted")

    assert any("tpye" in problem for problem in checker.problems)
    assert any("agent_id" in problem and "integer" in problem for problem in checker.problems)
    assert any(problem.startswith("Drifted.type:") for problem in checker.problems)
