"""The embedded dynalite: data kept on disk across restarts, and the commands around it."""

import socket

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from memsite.storage import ALL_TABLES, Table
from memsite.storage.local import LocalDynamo
from memsite.storage.provision import create_tables
from memsite.storage.tables import AGENT_STATE
from tests.servers import gateway_for


def test_an_on_disk_dynalite_keeps_its_items_across_a_restart(tmp_path):
    item = {"pk": "agent:market-hunter", "sk": "CURRENT", "cycle": 42}
    with LocalDynamo(data_dir=tmp_path / "dynalite") as server:
        gateway = gateway_for(server.endpoint_url, "disk_")
        create_tables(gateway, ALL_TABLES)
        Table(AGENT_STATE, gateway).put(item)
        port = server.port

    with LocalDynamo(port=port, data_dir=tmp_path / "dynalite") as server:
        gateway = gateway_for(server.endpoint_url, "disk_")
        assert create_tables(gateway, ALL_TABLES) == []
        assert Table(AGENT_STATE, gateway).get(item) == item


@pytest.mark.django_db
def test_bootstrap_migrates_and_finds_the_tables_ready(capsys):
    call_command("bootstrap", wait=5)

    out = capsys.readouterr().out
    assert "Django database migrated" in out
    assert "DynamoDB tables ready (0 created)" in out


def test_bootstrap_gives_up_with_a_clear_error_when_dynamodb_never_answers(storage_settings):
    from memsite.storage.local import free_port

    storage_settings(DYNAMODB_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}")

    with pytest.raises(CommandError, match="DynamoDB did not answer within 1 s"):
        call_command("bootstrap", wait=1)


def test_the_embedded_dynamodb_command_refuses_a_port_already_in_use(storage_settings):
    # A port this test holds itself: were it free after all, the command would exec dynalite in
    # place of the test process.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        storage_settings(DYNAMODB_BACKEND="embedded", EMBEDDED_DYNAMODB_PORT=port)

        with pytest.raises(CommandError, match=f"port {port} is taken"):
            call_command("embedded_dynamodb")


@pytest.mark.django_db
def test_bootstrap_with_debug_on_creates_one_demo_login_per_role_once(settings, capsys):
    from django.contrib.auth import get_user_model

    from memsite.roles import has_role

    settings.DEBUG = True
    call_command("bootstrap", wait=5)
    call_command("bootstrap", wait=5)

    out = capsys.readouterr().out
    assert out.count("created the admin login admin / admin") == 1
    assert "log in as admin / admin (admin), operator / operator (operator), viewer / viewer (viewer)" in out
    for name in ("admin", "operator", "viewer"):
        person = get_user_model().objects.get(username=name)
        assert person.check_password(name)
        assert has_role(person, name)
    assert not has_role(get_user_model().objects.get(username="viewer"), "operator")


@pytest.mark.django_db
def test_bootstrap_with_debug_off_creates_no_login():
    from django.contrib.auth import get_user_model

    call_command("bootstrap", wait=5)

    assert not get_user_model().objects.exists()


def test_a_client_hanging_up_mid_request_does_not_end_dynalite():
    """A worker killed while sending a batch: dynalite's own server would die of it."""
    with LocalDynamo() as server:
        with socket.create_connection(("127.0.0.1", server.port)) as client:
            client.sendall(b'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"TableName":')
        gateway = gateway_for(server.endpoint_url, "hangup_")

        create_tables(gateway, [AGENT_STATE])

        assert server.alive()
