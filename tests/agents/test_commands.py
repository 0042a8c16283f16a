"""The identity commands: agents and their tokens, people and their roles."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from agents.models import AgentToken
from agents.repository import profile_find
from memsite.roles import user_role


def _run(*args) -> list[str]:
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip().splitlines()


def _works(token: str) -> bool:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.get("/api/v1/decisions/").status_code == 200


@pytest.mark.django_db
def test_agent_create_registers_the_agent_and_prints_a_working_token_last(unique):
    agent_id = f"agent-{unique[-8:].lower()}"

    lines = _run("agent_create", agent_id, "--name", "Market Hunter")

    token = lines[-1]
    assert token.startswith("mst_")
    assert _works(token)
    assert profile_find(agent_id).name == "Market Hunter"
    stored = AgentToken.objects.get(agent_id=agent_id)
    assert stored.token_hash != token
    assert token not in stored.token_hash


@pytest.mark.django_db
def test_agent_create_refuses_an_existing_agent_and_a_bad_id(unique):
    agent_id = f"agent-{unique[-8:].lower()}"
    _run("agent_create", agent_id)

    with pytest.raises(CommandError, match="exists already"):
        _run("agent_create", agent_id)
    with pytest.raises(CommandError, match="not valid"):
        _run("agent_create", "Market Hunter!")


@pytest.mark.django_db
def test_rotating_a_token_revokes_the_old_one(unique):
    agent_id = f"agent-{unique[-8:].lower()}"
    old = _run("agent_create", agent_id)[-1]

    new = _run("agent_token", "rotate", agent_id)[-1]

    assert new != old
    assert _works(new)
    assert not _works(old)


@pytest.mark.django_db
def test_tokens_are_listed_without_their_secret_and_can_be_revoked(unique):
    agent_id = f"agent-{unique[-8:].lower()}"
    token = _run("agent_create", agent_id)[-1]

    listing = "\n".join(_run("agent_token", "list", agent_id))
    revoked = _run("agent_token", "revoke", agent_id)

    assert agent_id in listing
    assert "active" in listing
    assert token not in listing
    assert revoked == [f"1 token(s) of {agent_id} revoked"]
    assert not _works(token)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["viewer", "operator", "admin"])
def test_user_create_gives_the_role(role):
    _run("user_create", f"person-{role}", "--role", role, "--password", "a long passphrase 42")

    user = get_user_model().objects.get(username=f"person-{role}")
    assert user_role(user) == role
    assert user.check_password("a long passphrase 42")
    assert user.is_staff == (role == "admin")


@pytest.mark.django_db
def test_user_create_refuses_a_weak_password():
    with pytest.raises(CommandError, match="password"):
        _run("user_create", "weak", "--role", "viewer", "--password", "123")


def test_an_admin_revokes_and_rotates_tokens_on_the_admin_page(client, carol, as_agent, unique):
    from agents.models import AgentToken

    agent = f"admin-{unique[-6:].lower()}"
    old_client = as_agent(agent)
    assert old_client.get("/api/v1/decisions/").status_code == 200
    carol.is_staff = carol.is_superuser = True  # as user_create --role admin makes them
    carol.save()
    client.force_login(carol)
    changelist = "/admin/agents/agenttoken/"
    assert agent in client.get(changelist).content.decode()
    selected = [str(pk) for pk in AgentToken.objects.filter(agent_id=agent).values_list("pk", flat=True)]

    page = client.post(changelist, {"action": "rotate", "_selected_action": selected})

    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    new_token = re.search(r'<code class="token">([^<]+)</code>', page.content.decode()).group(1)
    assert old_client.get("/api/v1/decisions/").status_code == 401
    old_client.credentials(HTTP_AUTHORIZATION=f"Bearer {new_token}")
    assert old_client.get("/api/v1/decisions/").status_code == 200

    selected = [
        str(pk) for pk in AgentToken.objects.filter(agent_id=agent, revoked_at=None).values_list("pk", flat=True)
    ]
    client.post(changelist, {"action": "revoke", "_selected_action": selected})
    assert old_client.get("/api/v1/decisions/").status_code == 401
