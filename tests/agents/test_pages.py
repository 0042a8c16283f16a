"""The agent pages through Django's test client: registry, detail, configuration editor."""

import json

import pytest

from agents import config
from agents.models import ConfigChange


@pytest.fixture
def hunter(unique, db) -> str:
    from agents.services import agent_create

    agent_id = f"page-{unique[-8:].lower()}"
    agent_create(agent_id=agent_id, kind="market-hunter")
    return agent_id


@pytest.fixture
def operator(client, alice):
    client.force_login(alice)
    return client


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


def test_the_registry_lists_agents_with_their_liveness(operator, hunter, as_agent):
    as_agent(hunter).post(f"/api/v1/agents/{hunter}/heartbeat/", {"status": "cycle 7"}, format="json")

    html = page(operator, "/agents/")

    row = html.split(f"<strong>{hunter}</strong>")[1].split("</tr>")[0]
    assert "live-online" in row
    assert "cycle 7" in row


def test_the_detail_shows_state_memory_rate_limits_and_config_changes(operator, hunter, as_agent):
    agent = as_agent(hunter)
    agent.put(f"/api/v1/agents/{hunter}/state/CURRENT/", {"cycle": 42, "positions": {"BTC": 0.5}}, format="json")
    agent.put(f"/api/v1/agents/{hunter}/memory/last_whale/", {"value": {"size_btc": 900}}, format="json")
    agent.post(
        f"/api/v1/agents/{hunter}/ratelimits/glassnode/consume/",
        {"cost": 3, "limit": 10, "window_seconds": 3600},
        format="json",
    )
    editor = config.Editor(label="user:alice", may_edit=True)
    config.config_save(
        agent_id=hunter,
        raw={"document": {"whale_threshold_btc": 700}, "note": "calmer", "expected_version": 0},
        editor=editor,
    )

    html = page(operator, f"/agents/{hunter}/")

    assert "<dt>Cycle</dt><dd>42</dd>" in html
    assert "last_whale" in html
    assert "3 / 10" in html
    assert 'style="width: 30%"' in html
    assert "<code>whale_threshold_btc</code>: 500 → 700" in html
    assert "calmer" in html


def test_a_viewer_sees_the_config_read_only(client, bob, hunter):
    client.force_login(bob)

    html = page(client, f"/agents/{hunter}/config/")

    assert "readonly" in html
    assert 'value="save"' not in html


def test_preview_shows_the_diff_against_the_edited_version(operator, hunter):
    document = config.config_current(agent_id=hunter).document | {"whale_threshold_btc": 750}

    response = operator.post(
        f"/agents/{hunter}/config/", {"action": "preview", "document": json.dumps(document), "expected_version": 0}
    )

    html = response.content.decode()
    assert '<span class="d-add">+  &quot;whale_threshold_btc&quot;: 750</span>' in html
    assert ConfigChange.objects.filter(agent_id=hunter).count() == 0


def test_a_preview_says_when_someone_saved_since_the_edit_began(operator, hunter):
    editor = config.Editor(label="user:carol", may_edit=True)
    config.config_save(
        agent_id=hunter, raw={"document": {"cycle_minutes": 5}, "note": "faster", "expected_version": 0}, editor=editor
    )

    html = operator.post(
        f"/agents/{hunter}/config/",
        {"action": "preview", "document": json.dumps({"whale_threshold_btc": 650}), "expected_version": 0},
    ).content.decode()

    assert "Version 1 was saved by user:carol" in html
    assert "this preview is against version 0" in html
    assert 'name="expected_version" value="0"' in html, "the save that follows still meets the conflict check"


def test_invalid_json_is_shown_inline_and_the_text_is_kept(operator, hunter):
    text = '{"whale_threshold_btc": 750,,}'

    html = operator.post(
        f"/agents/{hunter}/config/", {"action": "save", "document": text, "note": "x", "expected_version": 0}
    ).content.decode()

    assert "not valid JSON" in html
    assert "line 1, column 29" in html
    assert "{&quot;whale_threshold_btc&quot;: 750,,}" in html


def test_schema_errors_are_shown_inline_naming_the_field(operator, hunter):
    text = json.dumps({"whale_threshold_btc": -1})

    html = operator.post(
        f"/agents/{hunter}/config/", {"action": "save", "document": text, "note": "x", "expected_version": 0}
    ).content.decode()

    assert "<code>document.whale_threshold_btc</code>" in html
    assert "greater than 0" in html


def test_saving_writes_a_version_and_redirects_with_a_message(operator, hunter):
    text = json.dumps({"whale_threshold_btc": 650})

    response = operator.post(
        f"/agents/{hunter}/config/",
        {"action": "save", "document": text, "note": "tune", "expected_version": 0},
        follow=True,
    )

    assert "Saved version 1." in response.content.decode()
    assert config.config_current(agent_id=hunter).document["whale_threshold_btc"] == 650


def test_a_conflicting_save_names_the_version_in_between_and_keeps_the_text(operator, hunter):
    editor = config.Editor(label="user:carol", may_edit=True)
    config.config_save(
        agent_id=hunter, raw={"document": {"cycle_minutes": 5}, "note": "faster", "expected_version": 0}, editor=editor
    )
    mine = json.dumps({"whale_threshold_btc": 650})

    html = operator.post(
        f"/agents/{hunter}/config/", {"action": "save", "document": mine, "note": "mine", "expected_version": 0}
    ).content.decode()

    assert "version 1 of" in html
    assert "user:carol" in html
    assert "{&quot;whale_threshold_btc&quot;: 650}" in html
    assert 'name="expected_version" value="1"' in html
    assert "Save over version 1" in html
    assert config.config_current(agent_id=hunter).document["cycle_minutes"] == 5


def test_rollback_from_the_page_writes_a_new_version(operator, hunter):
    editor = config.Editor(label="user:alice", may_edit=True)
    for n, threshold in enumerate((600, 900)):
        config.config_save(
            agent_id=hunter,
            raw={"document": {"whale_threshold_btc": threshold}, "note": "n", "expected_version": n},
            editor=editor,
        )

    response = operator.post(
        f"/agents/{hunter}/config/",
        {"action": "rollback", "to_version": 1, "rollback_note": "900 was wrong", "expected_version": 2},
        follow=True,
    )

    assert "version 3 holds version 1" in response.content.decode()
    assert config.config_current(agent_id=hunter).document["whale_threshold_btc"] == 600


def test_history_compares_any_two_versions(operator, hunter):
    editor = config.Editor(label="user:alice", may_edit=True)
    for n, threshold in enumerate((600, 700, 800)):
        config.config_save(
            agent_id=hunter,
            raw={"document": {"whale_threshold_btc": threshold}, "note": "n", "expected_version": n},
            editor=editor,
        )

    html = page(operator, f"/agents/{hunter}/config/?from=1&to=3")

    assert "Version 1 → version 3" in html
    assert "&quot;whale_threshold_btc&quot;: 600" in html
    assert "&quot;whale_threshold_btc&quot;: 800" in html


def test_an_unknown_agent_page_is_a_friendly_404(operator, db):
    response = operator.get("/agents/nobody-here/")

    assert response.status_code == 404


def test_odd_form_input_is_a_message_not_a_crash(operator, hunter):
    response = operator.post(
        f"/agents/{hunter}/config/", {"action": "save", "document": "{}", "note": "n", "expected_version": "abc"}
    )

    assert response.status_code == 200
    assert "no configuration version -1" in response.content.decode()
    assert config.config_current(agent_id=hunter).version == 0


def test_a_rollback_from_a_stale_page_is_refused(operator, hunter):
    editor = config.Editor(label="user:carol", may_edit=True)
    for n in range(2):
        config.config_save(
            agent_id=hunter,
            raw={"document": {"cycle_minutes": 5 + n}, "note": "n", "expected_version": n},
            editor=editor,
        )

    html = operator.post(
        f"/agents/{hunter}/config/",
        {"action": "rollback", "to_version": 1, "rollback_note": "undo", "expected_version": 1},
    ).content.decode()

    assert "Rollback not done" in html
    assert config.config_current(agent_id=hunter).version == 2


def test_a_viewer_cannot_save_by_posting_the_form(client, bob, hunter):
    client.force_login(bob)

    html = client.post(
        f"/agents/{hunter}/config/", {"action": "save", "document": "{}", "note": "n", "expected_version": 0}
    ).content.decode()

    assert "only operators and admins" in html
    assert config.config_current(agent_id=hunter).version == 0


@pytest.mark.parametrize("to_version", [1, 7])
def test_a_viewer_rolling_back_by_posting_the_form_is_forbidden(client, bob, hunter, to_version):
    editor = config.Editor(label="user:alice", may_edit=True)
    for n in range(2):
        config.config_save(
            agent_id=hunter,
            raw={"document": {"cycle_minutes": 5 + n}, "note": "n", "expected_version": n},
            editor=editor,
        )
    client.force_login(bob)

    response = client.post(
        f"/agents/{hunter}/config/",
        {"action": "rollback", "to_version": to_version, "rollback_note": "undo", "expected_version": 2},
    )

    assert response.status_code == 403
    assert config.config_current(agent_id=hunter).version == 2
