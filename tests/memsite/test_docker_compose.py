"""docker-compose.yml describes the same system as `make run` (Docker does not run here, so it is
checked by reading it)."""

from pathlib import Path

import yaml
from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_it_has_every_service_of_make_run():
    services = compose()["services"]

    assert {"web", "worker", "beat", "redis", "dynamodb", "team"} <= set(services)
    procfile = {line.split(":", 1)[0] for line in (ROOT / "Procfile").read_text().splitlines() if line.strip()}
    assert procfile - {"dynamodb"} <= set(services)


def test_the_app_services_reach_the_emulator_and_redis_by_service_name():
    services = compose()["services"]

    for name in ("web", "worker", "beat", "team"):
        environment = services[name]["environment"]
        assert environment["AWS_ENDPOINT_URL_DYNAMODB"].startswith("http://dynamodb:")
        assert environment["REDIS_URL"].startswith("redis://redis:")
        assert {"dynamodb", "redis"} <= set(services[name]["depends_on"])
        assert "manage.py bootstrap" in services[name]["command"]


def test_the_commands_are_the_procfiles():
    services = compose()["services"]

    assert "gunicorn memsite.wsgi" in services["web"]["command"]
    assert "celery --app memsite worker" in services["worker"]["command"]
    assert "celery --app memsite beat" in services["beat"]["command"]
    assert "manage.py simulate" in services["team"]["command"]
    assert services["web"]["ports"] == ["127.0.0.1:8000:8000"]  # demo logins stay on this machine
    port = services["dynamodb"]["command"][services["dynamodb"]["command"].index("--port") + 1]
    assert services["web"]["environment"]["AWS_ENDPOINT_URL_DYNAMODB"].endswith(f":{port}")


def test_the_image_installs_the_pinned_requirements():
    dockerfile = (ROOT / "Dockerfile").read_text()

    assert "FROM python:3.11" in dockerfile
    assert "pip install --no-cache-dir -r requirements.txt" in dockerfile
