"""Shared fixtures: real local DynamoDB servers over HTTP, and tables created from the specs."""

from collections.abc import Iterator

import pytest
from django.conf import settings
from ulid import ULID

from memsite import storage
from memsite.storage.local import LocalDynamo
from memsite.storage.provision import create_tables
from tests.servers import MotoServer, gateway_for


@pytest.fixture(scope="session")
def dynalite() -> Iterator[LocalDynamo]:
    with LocalDynamo() as server:
        yield server


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
def unique() -> str:
    """A fresh id, so tests sharing the session's tables never see each other's items."""
    return str(ULID())
