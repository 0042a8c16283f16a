"""Shared fixtures: real local DynamoDB servers over HTTP, and tables created from the specs."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from ulid import ULID

from memsite import storage
from memsite.storage.local import LocalDynamo
from memsite.storage.provision import create_tables
from tests.servers import MotoServer, gateway_for

DYNALITE_LOG = Path(__file__).resolve().parents[1] / "test-artifacts" / "dynalite.log"


@pytest.fixture(scope="session")
def dynalite() -> Iterator[LocalDynamo]:
    DYNALITE_LOG.parent.mkdir(parents=True, exist_ok=True)
    DYNALITE_LOG.unlink(missing_ok=True)
    with LocalDynamo(log=DYNALITE_LOG) as server:
        yield server


@pytest.fixture(autouse=True)
def session_dynalite_alive(request: pytest.FixtureRequest) -> None:
    """Every test after the session's dynalite died would fail with connection errors that hide
    why: say so once, with where its last words are."""
    server = request.getfixturevalue("dynalite")
    if not server.alive():
        pytest.fail(f"the session's dynalite exited with code {server.process.returncode}: see {DYNALITE_LOG}")


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    server = MotoServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session", autouse=True)
def django_storage(dynalite: LocalDynamo) -> Iterator[None]:
    """Point the project's own storage (storage.table(...)) at the session's dynalite."""
    settings.DYNAMODB_BACKEND = "endpoint"
    settings.DYNAMODB_ENDPOINT_URL = dynalite.endpoint_url
    settings.DYNAMODB_TABLE_PREFIX = f"t{str(ULID())[-8:].lower()}_"
    storage.reset()
    create_tables(storage.gateway("worker"), storage.ALL_TABLES)
    yield
    storage.reset()


@pytest.fixture(scope="session", params=["dynalite", "moto"])
def backend_gateway(request: pytest.FixtureRequest) -> storage.Gateway:
    """A gateway with freshly created tables, once on dynalite and once on moto server."""
    server = request.getfixturevalue("dynalite" if request.param == "dynalite" else "moto_server")
    gateway = gateway_for(server.endpoint_url, f"contract_{request.param}_")
    create_tables(gateway, storage.ALL_TABLES)
    return gateway


@pytest.fixture
def storage_settings(settings) -> Iterator:
    """Change storage settings for one test: the project's gateways are rebuilt from them, and
    forgotten again afterwards (pytest-django's `settings` then restores the values)."""

    def apply(**overrides: object) -> None:
        for name, value in overrides.items():
            setattr(settings, name, value)
        storage.reset()

    yield apply
    storage.reset()


@pytest.fixture
def own_tables(storage_settings, unique) -> None:
    """Tables of this test's own, for what reads across every agent (shared patterns, archetypes,
    the overview): other tests' items in the session's tables would count too."""
    storage_settings(DYNAMODB_TABLE_PREFIX=f"own{unique[-8:].lower()}_")
    create_tables(storage.gateway("worker"), storage.ALL_TABLES)


@pytest.fixture
def unique() -> str:
    """A fresh id, so tests sharing the session's tables never see each other's items."""
    return str(ULID())


# Personas: alice is an operator, bob a viewer, carol an admin, charlie has no role;
# market-hunter and risk-manager are agents with tokens.


def _person(username: str, role: str | None):
    from django.contrib.auth import get_user_model

    from memsite.roles import role_group

    user = get_user_model().objects.create_user(username=username, password="correct horse battery")
    if role:
        user.groups.add(role_group(role))
    return user


@pytest.fixture
def alice(db):
    return _person("alice", "operator")


@pytest.fixture
def bob(db):
    return _person("bob", "viewer")


@pytest.fixture
def carol(db):
    return _person("carol", "admin")


@pytest.fixture
def charlie(db):
    return _person("charlie", None)


@pytest.fixture
def agent_token(db):
    """agent_token("market-hunter") -> a fresh token of that agent (registered on first use)."""
    from agents.models import AgentToken
    from agents.services import agent_create, agent_token_issue

    def issue(agent_id: str) -> str:
        if AgentToken.objects.filter(agent_id=agent_id).exists():
            return agent_token_issue(agent_id=agent_id).token
        return agent_create(agent_id=agent_id).token

    return issue


@pytest.fixture
def as_agent(agent_token):
    """as_agent("market-hunter") -> an API client sending that agent's token."""
    from rest_framework.test import APIClient

    def client_for(agent_id: str) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {agent_token(agent_id)}")
        return client

    return client_for


@pytest.fixture
def as_person():
    from rest_framework.test import APIClient

    def client_for(user) -> APIClient:
        client = APIClient()
        client.force_login(user)
        return client

    return client_for
