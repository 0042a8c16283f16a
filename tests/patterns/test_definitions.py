"""Pattern definitions: validation, CRUD with roles and versions, YAML import and export, matching."""

import io

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from patterns import matching, repository, selectors
from patterns.schemas import PatternDefinitionIn

URL = "/api/v1/pattern-definitions/"


@pytest.fixture
def fresh_id(unique) -> str:
    return f"p-{unique[-8:].lower()}"


def a_definition(pattern_id: str, **changes) -> dict:
    return {
        "id": pattern_id,
        "name": "Whale activity → price up",
        "decision_type": "SIGNAL_GENERATION",
        "conditions": [{"path": "context.whale_activity", "op": "eq", "value": True}],
        "hit": {"outcome": "SUCCESS"},
    } | changes


def test_an_operator_creates_a_definition_with_defaults(as_person, alice, fresh_id):
    response = as_person(alice).post(URL, a_definition(fresh_id), format="json")

    assert response.status_code == 201
    body = response.json()
    assert (body["version"], body["half_life_days"], body["min_support"], body["activate_at"], body["scope"]) == (
        1,
        30,
        20,
        0.6,
        "shared",
    )
    assert body["updated_by"] == "user:alice"
    assert as_person(alice).get(f"{URL}{fresh_id}/").json()["name"] == "Whale activity → price up"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"id": "Bad Id"}, "id"),
        ({"decision_type": "signal"}, "decision_type"),
        ({"conditions": [{"path": "context.x", "op": "near", "value": 1}]}, "conditions.0.op"),
        ({"conditions": [{"path": "context.x", "op": "gt", "value": "high"}]}, "conditions.0"),
        ({"conditions": [{"path": "outcome.status", "op": "eq", "value": "SUCCESS"}]}, "conditions"),
        ({"hit": {"outcome": "SUCCESS", "metric": {"path": "outcome.metrics.pnl", "op": "gt", "value": 0}}}, "hit"),
        ({"hit": {"metric": {"path": "context.pnl", "op": "gt", "value": 0}}}, "hit"),
        ({"half_life_days": 0}, "half_life_days"),
        ({"activate_at": 1.5}, "activate_at"),
        ({"scope": "agent"}, "body"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_an_invalid_definition_is_refused_naming_the_field(as_person, alice, fresh_id, changes, field):
    response = as_person(alice).post(URL, a_definition(fresh_id, **changes), format="json")

    assert response.status_code == 400
    assert response.json()["detail"].startswith(field)


def test_a_taken_id_is_a_conflict(as_person, alice, fresh_id):
    as_person(alice).post(URL, a_definition(fresh_id), format="json")

    assert as_person(alice).post(URL, a_definition(fresh_id), format="json").status_code == 409


def test_updates_need_the_version_edited_and_stale_ones_are_refused(as_person, alice, carol, fresh_id):
    as_person(alice).post(URL, a_definition(fresh_id), format="json")

    first = as_person(alice).put(
        f"{URL}{fresh_id}/", a_definition(fresh_id, min_support=10, expected_version=1), format="json"
    )
    stale = as_person(carol).put(
        f"{URL}{fresh_id}/", a_definition(fresh_id, min_support=5, expected_version=1), format="json"
    )
    missing = as_person(alice).put(f"{URL}{fresh_id}/", a_definition(fresh_id), format="json")

    assert (first.status_code, first.json()["version"], first.json()["min_support"]) == (200, 2, 10)
    assert stale.status_code == 409
    assert "version 2, not 1" in stale.json()["detail"]
    assert missing.status_code == 400
    assert selectors.definition_get(pattern_id=fresh_id).min_support == 10


def test_viewers_and_agents_read_but_do_not_write(as_person, as_agent, alice, bob, fresh_id):
    as_person(alice).post(URL, a_definition(fresh_id), format="json")

    assert as_person(bob).get(URL).status_code == 200
    assert as_agent("market-hunter").get(f"{URL}{fresh_id}/").status_code == 200
    assert as_person(bob).post(URL, a_definition(fresh_id + "x"), format="json").status_code == 403
    assert as_agent("market-hunter").delete(f"{URL}{fresh_id}/").status_code == 403


def test_an_operator_deletes_a_definition(as_person, alice, fresh_id):
    as_person(alice).post(URL, a_definition(fresh_id), format="json")

    assert as_person(alice).delete(f"{URL}{fresh_id}/").status_code == 204
    assert as_person(alice).get(f"{URL}{fresh_id}/").status_code == 404
    assert as_person(alice).delete(f"{URL}{fresh_id}/").status_code == 404


def _import(text: str, *flags: str) -> str:
    from unittest import mock

    out = io.StringIO()
    with mock.patch("sys.stdin", io.StringIO(text)):
        call_command("patterns", "import", "-", *flags, stdout=out)
    return out.getvalue()


def test_a_file_with_one_bad_entry_imports_nothing(db, fresh_id):
    text = yaml.safe_dump({"patterns": [a_definition(fresh_id), a_definition(fresh_id + "b", activate_at=2)]})

    with pytest.raises(CommandError, match=r"patterns\[1\]\.activate_at.*nothing was imported"):
        _import(text)

    assert repository.definition_find(fresh_id) is None


def test_export_then_import_round_trips_unchanged(db, fresh_id):
    text = yaml.safe_dump({"patterns": [a_definition(fresh_id, description="d", min_support=7)]})
    assert "1 created" in _import(text)
    out = io.StringIO()
    call_command("patterns", "export", "-", stdout=out)
    exported = yaml.safe_load(out.getvalue())["patterns"]

    again = _import(out.getvalue())

    mine = next(entry for entry in exported if entry["id"] == fresh_id)
    assert PatternDefinitionIn.model_validate(mine) == PatternDefinitionIn.model_validate(
        a_definition(fresh_id, description="d", min_support=7)
    )
    assert "0 created, 0 updated" in again


def test_importing_a_changed_file_updates_and_keep_existing_leaves_alone(db, fresh_id):
    _import(yaml.safe_dump({"patterns": [a_definition(fresh_id)]}))
    changed = yaml.safe_dump({"patterns": [a_definition(fresh_id, min_support=3)]})

    assert "0 updated" in _import(changed, "--keep-existing")
    assert "1 updated" in _import(changed)
    assert selectors.definition_get(pattern_id=fresh_id).min_support == 3


def test_the_builtins_are_valid_and_import(db):
    out = io.StringIO()

    call_command("patterns", "import", "--builtins", stdout=out)

    ids = {d.id for d in selectors.definition_list()}
    assert {"whale-inflow-price-up", "negative-funding-squeeze", "high-volatility-risk-cut"} <= ids


def test_a_definition_covers_decisions_of_its_type_meeting_every_condition():
    definition = PatternDefinitionIn.model_validate(
        a_definition(
            "p",
            conditions=[
                {"path": "context.regime", "op": "in", "value": ["trend", "high_vol"]},
                {"path": "context.funding_rate", "op": "lt", "value": 0},
                {"path": "reasoning.override", "op": "exists", "value": False},
            ],
        )
    )
    decision = {"type": "SIGNAL_GENERATION", "context": {"regime": "trend", "funding_rate": -0.0001}, "reasoning": {}}

    assert matching.covers(definition, decision)
    assert not matching.covers(definition, decision | {"type": "TRADE_EXECUTION"})
    assert not matching.covers(definition, decision | {"context": {"regime": "chop", "funding_rate": -0.1}})
    assert not matching.covers(definition, decision | {"context": {"regime": "trend", "funding_rate": "n/a"}})
    assert not matching.covers(definition, decision | {"reasoning": {"override": True}})


def test_a_hit_is_a_success_or_a_metric_condition_and_pending_is_neither():
    on_success = PatternDefinitionIn.model_validate(a_definition("p"))
    on_metric = PatternDefinitionIn.model_validate(
        a_definition("p", hit={"metric": {"path": "outcome.metrics.pnl_usd", "op": "gte", "value": 0}})
    )

    assert matching.is_hit(on_success, {"outcome": {"status": "SUCCESS"}}) is True
    assert matching.is_hit(on_success, {"outcome": {"status": "FAILURE"}}) is False
    assert matching.is_hit(on_success, {"outcome": None}) is None
    assert matching.is_hit(on_metric, {"outcome": {"status": "FAILURE", "metrics": {"pnl_usd": 3}}}) is True
    assert matching.is_hit(on_metric, {"outcome": {"status": "SUCCESS", "metrics": {}}}) is False
