import pytest
from django.core.exceptions import ImproperlyConfigured

from memsite.env import env_bool, env_choice, env_int, env_list, env_url


def test_booleans_accept_the_usual_spellings(monkeypatch):
    monkeypatch.setenv("DEBUG", "Yes")
    assert env_bool("DEBUG", False) is True
    monkeypatch.setenv("DEBUG", "off")
    assert env_bool("DEBUG", True) is False


def test_a_misspelt_boolean_fails_loudly_naming_the_variable(monkeypatch):
    monkeypatch.setenv("DEBUG", "ture")

    with pytest.raises(ImproperlyConfigured, match="DEBUG='ture'"):
        env_bool("DEBUG", False)


def test_an_unset_variable_takes_the_default(monkeypatch):
    monkeypatch.delenv("EMBEDDED_DYNAMODB_PORT", raising=False)

    assert env_int("EMBEDDED_DYNAMODB_PORT", 8765) == 8765


@pytest.mark.parametrize("raw", ["eighty", "0", "70000"])
def test_a_port_out_of_range_or_not_a_number_fails(monkeypatch, raw):
    monkeypatch.setenv("EMBEDDED_DYNAMODB_PORT", raw)

    with pytest.raises(ImproperlyConfigured, match="EMBEDDED_DYNAMODB_PORT"):
        env_int("EMBEDDED_DYNAMODB_PORT", 8765, minimum=1, maximum=65535)


def test_a_choice_outside_the_list_fails_listing_the_choices(monkeypatch):
    monkeypatch.setenv("DYNAMODB_BACKEND", "dax")

    with pytest.raises(ImproperlyConfigured, match="one of embedded, endpoint, aws"):
        env_choice("DYNAMODB_BACKEND", ("embedded", "endpoint", "aws"), "embedded")


def test_a_url_with_the_wrong_scheme_fails(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "127.0.0.1:6379")

    with pytest.raises(ImproperlyConfigured, match="REDIS_URL"):
        env_url("REDIS_URL", None, schemes=("redis",))


def test_lists_are_comma_separated(monkeypatch):
    monkeypatch.setenv("ALLOWED_HOSTS", "memsite.example, localhost,")

    assert env_list("ALLOWED_HOSTS", []) == ["memsite.example", "localhost"]
