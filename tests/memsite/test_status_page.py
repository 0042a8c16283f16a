import re

import pytest
from django.test import Client

from memsite import storage
from memsite.storage.local import free_port


@pytest.fixture
def page(client: Client, bob):
    client.force_login(bob)

    def get() -> str:
        response = client.get("/status/")
        assert response.status_code == 200
        return response.content.decode()

    return get


def test_it_shows_the_backend_the_four_tables_and_their_indexes(page):
    html = page()

    assert "DynamoDB endpoint at http://127.0.0.1:" in html
    for spec in storage.ALL_TABLES:
        assert spec.physical_name(storage.gateway().config.table_prefix) in html
        for index in spec.indexes:
            assert f"<code>{index.name}</code>" in html
    assert html.count('<span class="pill ok">ACTIVE</span>') == 4


def test_on_the_embedded_dynalite_it_says_counts_are_not_kept(page, storage_settings, dynalite):
    storage_settings(DYNAMODB_BACKEND="embedded", EMBEDDED_DYNAMODB_PORT=dynalite.port)

    html = page()

    assert "embedded dynalite at http://127.0.0.1:" in html
    assert html.count("not counted by dynalite") == 4
    assert "dynamodb_tables describe --exact" in html
    assert html.count("dynalite has no TTL API") == 4  # memory_ltm keeps TTL too: for consolidation batches


def test_it_requires_login(client: Client, db):
    response = client.get("/status/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_says_redis_is_reachable(page):
    html = page()

    assert '<p class="big">reachable</p>' in html
    assert re.search(r"<dd>Redis \d+\.\d+", html)


def test_it_says_when_redis_is_down_instead_of_failing(page, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"

    assert "not reachable" in page()


def test_it_says_when_dynamodb_is_down_instead_of_failing(page, storage_settings):
    storage_settings(DYNAMODB_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}")

    html = page()

    assert "unreachable" in html
    assert "Cannot reach DynamoDB" in html


def test_it_hides_a_password_in_the_redis_url(page, settings):
    settings.REDIS_URL = f"redis://:hunter2@127.0.0.1:{free_port()}/0"

    html = page()

    assert "hunter2" not in html
    assert "redis://***@127.0.0.1" in html
