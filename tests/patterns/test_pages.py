"""The pattern definitions page and its YAML editor."""

import pytest
import yaml

from patterns import selectors


@pytest.fixture
def operator(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def pattern_id(unique) -> str:
    return f"pg-{unique[-8:].lower()}"


def definition_yaml(pattern_id: str, **changes) -> str:
    return yaml.safe_dump(
        {
            "id": pattern_id,
            "name": "Whale activity → price up",
            "decision_type": "SIGNAL_GENERATION",
            "conditions": [{"path": "context.whale_activity", "op": "eq", "value": True}],
            "hit": {"outcome": "SUCCESS"},
        }
        | changes,
        allow_unicode=True,
    )


def test_an_operator_creates_then_edits_a_definition_from_yaml(operator, pattern_id):
    created = operator.post("/patterns/definitions/new/", {"definition": definition_yaml(pattern_id)}, follow=True)
    edited = operator.post(
        f"/patterns/definitions/{pattern_id}/",
        {"definition": definition_yaml(pattern_id, min_support=5), "expected_version": 1},
        follow=True,
    )

    assert f"Saved {pattern_id}, version 1." in created.content.decode()
    assert f"Saved {pattern_id}, version 2." in edited.content.decode()
    assert selectors.definition_get(pattern_id=pattern_id).min_support == 5
    assert pattern_id in operator.get("/patterns/definitions/").content.decode()


def test_errors_are_shown_inline_and_the_text_is_kept(operator, pattern_id):
    text = definition_yaml(pattern_id, activate_at=3)

    html = operator.post("/patterns/definitions/new/", {"definition": text}).content.decode()

    assert "<code>activate_at</code>" in html
    assert "activate_at: 3" in html


def test_bad_yaml_is_a_message(operator):
    html = operator.post("/patterns/definitions/new/", {"definition": "id: [unclosed"}).content.decode()

    assert "not valid YAML" in html


def test_a_stale_edit_is_refused_naming_the_version(operator, pattern_id):
    operator.post("/patterns/definitions/new/", {"definition": definition_yaml(pattern_id)})
    operator.post(
        f"/patterns/definitions/{pattern_id}/",
        {"definition": definition_yaml(pattern_id, min_support=7), "expected_version": 1},
    )

    html = operator.post(
        f"/patterns/definitions/{pattern_id}/",
        {"definition": definition_yaml(pattern_id, min_support=9), "expected_version": 1},
    ).content.decode()

    assert "is at version 2, not 1" in html
    assert "min_support: 9" in html
    assert selectors.definition_get(pattern_id=pattern_id).min_support == 7


def test_a_viewer_sees_definitions_read_only(client, bob, operator, pattern_id):
    operator.post("/patterns/definitions/new/", {"definition": definition_yaml(pattern_id)})
    client.force_login(bob)

    html = client.get(f"/patterns/definitions/{pattern_id}/").content.decode()
    refused = client.post(
        "/patterns/definitions/new/", {"definition": definition_yaml(pattern_id + "x")}
    ).content.decode()

    assert "readonly" in html
    assert "only operators and admins" in refused


def test_an_unknown_definition_is_a_friendly_404(operator, db):
    assert operator.get("/patterns/definitions/nothing-here/").status_code == 404
