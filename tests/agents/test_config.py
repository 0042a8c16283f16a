"""Configuration: validated, versioned, diffable, reversible, audited; safe under concurrent edits."""

import threading

import pytest
from rest_framework.test import APIClient

from agents import config
from agents.models import ConfigChange


@pytest.fixture
def hunter(agent_token, unique) -> str:
    from agents.services import agent_create

    agent_id = f"cfg-{unique[-8:].lower()}"
    agent_create(agent_id=agent_id, kind="market-hunter")
    return agent_id


def url(agent_id: str, rest: str = "") -> str:
    return f"/api/v1/agents/{agent_id}/config/{rest}"


def save(client, agent_id, document, expected, note="tuning"):
    return client.put(url(agent_id), {"document": document, "note": note, "expected_version": expected}, format="json")


def test_before_any_save_the_config_is_version_0_with_the_kind_defaults(as_person, bob, hunter):
    response = as_person(bob).get(url(hunter))

    assert response.status_code == 200
    assert response["ETag"].startswith('"v0-')
    assert response.json()["version"] == 0
    assert response.json()["document"]["whale_threshold_btc"] == 500


def test_an_operator_saves_versions_that_record_author_time_and_note(as_person, alice, hunter):
    operator = as_person(alice)
    current = operator.get(url(hunter)).json()["document"]

    first = save(operator, hunter, current | {"whale_threshold_btc": 800}, 0, note="fewer false whales")
    second = save(operator, hunter, current | {"whale_threshold_btc": 900}, 1)

    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json()["author"] == "user:alice"
    assert first.json()["note"] == "fewer false whales"
    assert second["ETag"].startswith('"v2-')
    versions = operator.get(url(hunter, "versions/")).json()["results"]
    assert [v["version"] for v in versions] == [2, 1]
    audit = list(ConfigChange.objects.filter(agent_id=hunter).values_list("version", "actor", "changes"))
    assert audit[0] == (2, "user:alice", [["whale_threshold_btc", 800, 900]])


def test_an_etag_answers_not_modified(as_agent, as_person, alice, hunter):
    save(as_person(alice), hunter, {}, 0)
    agent = as_agent(hunter)
    etag = agent.get(url(hunter))["ETag"]

    assert agent.get(url(hunter), HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert etag.startswith('"v1-')


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"whale_threshold_btc": -5}, "document.whale_threshold_btc"),
        ({"sources": {"binance": 2}}, "document.sources.binance"),
        ({"unknown_knob": 1}, "document.unknown_knob"),
        ([1, 2], "document"),
    ],
)
def test_an_invalid_config_is_refused_naming_the_field(as_person, alice, hunter, document, field):
    response = save(as_person(alice), hunter, document, 0)

    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert response.json()["detail"].startswith(field)


def test_a_generic_agent_accepts_any_object(as_person, alice, agent_token, unique):
    from agents.services import agent_create

    agent_id = f"gen-{unique[-8:].lower()}"
    agent_create(agent_id=agent_id)

    assert save(as_person(alice), agent_id, {"anything": {"goes": [1, 2]}}, 0).status_code == 200


def test_a_note_is_required(as_person, alice, hunter):
    response = as_person(alice).put(url(hunter), {"document": {}, "expected_version": 0}, format="json")

    assert response.status_code == 400
    assert response.json()["detail"].startswith("note")


def test_the_second_of_two_concurrent_saves_gets_a_conflict_naming_the_version_in_between(
    as_person, alice, carol, hunter
):
    first = save(as_person(alice), hunter, {"whale_threshold_btc": 700}, 0)

    second = save(as_person(carol), hunter, {"whale_threshold_btc": 650}, 0)

    assert first.status_code == 200
    assert second.status_code == 409
    body = second.json()
    assert body["code"] == "stale_version"
    assert "version 1" in body["detail"]
    assert "user:alice" in body["detail"]
    assert config.config_current(agent_id=hunter).document["whale_threshold_btc"] == 700


@pytest.mark.django_db(transaction=True)
def test_racing_saves_of_the_same_version_store_exactly_one(hunter):
    editors = [config.Editor(label=f"user:op{n}", may_edit=True) for n in range(6)]
    outcomes: list[str] = []
    barrier = threading.Barrier(len(editors))

    def edit(editor):
        barrier.wait()
        try:
            config.config_save(
                agent_id=hunter,
                raw={"document": {"cycle_minutes": 5}, "note": editor.label, "expected_version": 0},
                editor=editor,
            )
            outcomes.append("saved")
        except Exception as error:
            outcomes.append(type(error).__name__)

    threads = [threading.Thread(target=edit, args=(e,)) for e in editors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["AlreadyExists"] * 5 + ["saved"]
    assert [v.version for v in config.config_versions(agent_id=hunter)] == [1]
    assert ConfigChange.objects.filter(agent_id=hunter).count() == 1


def test_rollback_writes_a_new_version_with_the_old_document(as_person, alice, hunter):
    operator = as_person(alice)
    save(operator, hunter, {"whale_threshold_btc": 600}, 0)
    save(operator, hunter, {"whale_threshold_btc": 999}, 1)

    response = operator.post(
        url(hunter, "rollback/"), {"to_version": 1, "note": "999 was too high", "expected_version": 2}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["version"] == 3
    assert response.json()["document"]["whale_threshold_btc"] == 600
    assert ConfigChange.objects.get(agent_id=hunter, version=3).rollback_of == 1


def test_only_operators_and_admins_write(as_agent, as_person, bob, carol, hunter):
    assert save(as_person(bob), hunter, {}, 0).status_code == 403
    assert save(as_agent(hunter), hunter, {}, 0).status_code == 403
    assert save(as_person(carol), hunter, {}, 0).status_code == 200
    assert as_agent(hunter).get(url(hunter)).status_code == 200


def test_if_match_can_carry_the_expected_version(as_person, alice, hunter):
    response = as_person(alice).put(
        url(hunter), {"document": {}, "note": "via header"}, format="json", HTTP_IF_MATCH='"v0"'
    )

    assert response.status_code == 200


def test_a_diff_shows_the_changed_lines():
    lines = config.config_diff({"a": 1, "b": {"c": 2}}, {"a": 1, "b": {"c": 3}}, before_label="v1", after_label="v2")

    assert ("remove", '-    "c": 2') in lines
    assert ("add", '+    "c": 3') in lines
    assert config.config_diff({"a": 1}, {"a": 1}, before_label="v1", after_label="v2") == []
    assert config.changed_paths({"a": 1, "b": {"c": 2}}, {"b": {"c": 3}, "d": True}) == [
        ("a", 1, None),
        ("b.c", 2, 3),
        ("d", None, True),
    ]


def test_an_unknown_agent_has_no_config(as_person, bob, db):
    assert as_person(bob).get(url("nobody-here")).status_code == 404


def test_the_config_api_needs_a_team_member(db, hunter):
    assert APIClient().get(url(hunter)).status_code == 401


def test_a_retried_save_returns_its_version_and_completes_the_audit(hunter, db):
    editor = config.Editor(label="user:alice", may_edit=True)
    raw = {"document": {"whale_threshold_btc": 640}, "note": "retry me", "expected_version": 0}
    first = config.config_save(agent_id=hunter, raw=raw, editor=editor)
    ConfigChange.objects.filter(agent_id=hunter).delete()  # the first attempt died before its audit row

    again = config.config_save(agent_id=hunter, raw=raw, editor=editor)

    assert again.version == first.version == 1
    assert [v.version for v in config.config_versions(agent_id=hunter)] == [1]
    assert ConfigChange.objects.get(agent_id=hunter).note == "retry me"


def test_an_expected_version_ahead_of_the_current_one_is_a_400(as_person, alice, hunter):
    response = save(as_person(alice), hunter, {}, 7)

    assert response.status_code == 400
    assert "current version is 0" in response.json()["detail"]


def test_a_number_too_large_to_store_is_refused_not_nulled(as_person, alice, agent_token, unique):
    from agents.services import agent_create

    agent_id = f"gen-{unique[-8:].lower()}"
    agent_create(agent_id=agent_id)

    response = as_person(alice).put(
        url(agent_id), '{"document": {"x": 1e400}, "note": "n", "expected_version": 0}', content_type="application/json"
    )

    assert response.status_code == 400
    assert config.config_current(agent_id=agent_id).version == 0


def test_rollback_to_the_defaults_is_version_0(as_person, alice, hunter):
    save(as_person(alice), hunter, {"whale_threshold_btc": 999}, 0)

    response = as_person(alice).post(
        url(hunter, "rollback/"), {"to_version": 0, "note": "back to defaults", "expected_version": 1}, format="json"
    )

    assert response.json()["document"]["whale_threshold_btc"] == 500
    assert response.json()["version"] == 2


def test_an_expected_version_must_be_an_integer(as_person, alice, hunter):
    response = as_person(alice).put(
        url(hunter), {"document": {}, "note": "n", "expected_version": "zero"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["detail"].startswith("expected_version")


def test_a_viewer_rolling_back_is_refused_before_the_version_is_looked_up(as_person, bob, hunter):
    rollback = {"to_version": 7, "note": "undo", "expected_version": 1}

    response = as_person(bob).post(url(hunter, "rollback/"), rollback, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
