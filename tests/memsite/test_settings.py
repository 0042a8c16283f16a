"""The settings module itself, loaded in a fresh interpreter with a given environment."""

import os
import subprocess
import sys

import pytest

PRINT_STORAGE = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.DYNAMODB_BACKEND, s.DYNAMODB_ENDPOINT_URL, s.DYNAMODB_TABLE_PREFIX, s.DEBUG)"
)


def _load(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DYNAMODB_", "DEBUG", "SECRET_KEY"))}
    clean |= {"DJANGO_SETTINGS_MODULE": "memsite.settings", "PYTHONPATH": os.getcwd()} | env
    return subprocess.run([sys.executable, "-c", PRINT_STORAGE], env=clean, capture_output=True, text=True)


def test_with_nothing_set_it_uses_the_embedded_dynamodb():
    result = _load(DEBUG="1")

    assert result.stdout.split() == ["embedded", "None", "memsite_", "True"]


def test_an_endpoint_url_selects_that_endpoint():
    result = _load(DEBUG="1", AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:9000", DYNAMODB_TABLE_PREFIX="staging_")

    assert result.stdout.split() == ["endpoint", "http://127.0.0.1:9000", "staging_", "True"]


def test_the_aws_backend_talks_to_aws_even_with_a_local_endpoint_in_the_environment():
    client_endpoint = (
        "import django; django.setup(); from memsite import storage; "
        "print(storage.gateway('request').client.meta.endpoint_url)"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DYNAMODB_", "DEBUG", "SECRET_KEY"))}
    env = clean | {"DJANGO_SETTINGS_MODULE": "memsite.settings", "PYTHONPATH": os.getcwd(), "DEBUG": "1"}
    env |= {"DYNAMODB_BACKEND": "aws", "AWS_REGION": "eu-west-1", "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:9"}

    result = subprocess.run([sys.executable, "-c", client_endpoint], env=env, capture_output=True, text=True)

    assert result.stdout.strip() == "https://dynamodb.eu-west-1.amazonaws.com", result.stderr


def test_without_debug_a_secret_key_is_required():
    result = _load()

    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"DYNAMODB_BACKEND": "dax"}, "DYNAMODB_BACKEND"),
        ({"DYNAMODB_TABLE_PREFIX": "bad prefix!"}, "DYNAMODB_TABLE_PREFIX"),
        ({"AWS_ENDPOINT_URL_DYNAMODB": "localhost:8000"}, "AWS_ENDPOINT_URL_DYNAMODB"),
        ({"DATABASE_URL": "oracle://x"}, "DATABASE_URL"),
        ({"METRICS_EMF": "ture"}, "METRICS_EMF"),
        ({"METRICS_EMF_NAMESPACE": "AWS/DynamoDB"}, "METRICS_EMF_NAMESPACE"),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_variable(env, named):
    result = _load(DEBUG="1", **env)

    assert result.returncode != 0
    assert named in result.stderr
