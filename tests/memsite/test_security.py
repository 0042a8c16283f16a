"""Secure defaults: with DEBUG off the deployment checks are clean, HTTPS is enforced except for
the probes and the scraper, and the headers a browser needs are sent."""

import os
import re
import secrets
import subprocess
import sys

import pytest
from django.test import override_settings

# DJANGO_: the browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process, which a deployment must not.
SETTINGS_VARIABLES = ("AWS_", "DYNAMODB_", "DJANGO_", "DEBUG", "SECRET_KEY", "HTTPS_ONLY", "SECURE_", "ALLOWED_HOSTS")


def _deploy_check(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(SETTINGS_VARIABLES)}
    clean |= {"DJANGO_SETTINGS_MODULE": "memsite.settings", "SECRET_KEY": secrets.token_urlsafe(50)}
    clean |= {"ALLOWED_HOSTS": "memsite.example.com", "DEBUG": "0"} | env
    command = [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"]
    return subprocess.run(command, env=clean, capture_output=True, text=True)


def test_the_deployment_checks_are_clean_with_production_settings():
    result = _deploy_check()

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_plain_http_settings_fail_the_deployment_checks():
    result = _deploy_check(HTTPS_ONLY="0")

    assert result.returncode != 0
    assert "SESSION_COOKIE_SECURE" in result.stderr


@pytest.mark.django_db
@override_settings(SECURE_SSL_REDIRECT=True)
def test_pages_redirect_to_https_but_probes_and_the_scraper_do_not(client):
    page = client.get("/accounts/login/")

    assert page.status_code == 301
    assert page["Location"].startswith("https://")
    assert client.get("/health/live").status_code == 200
    assert client.get("/metrics").status_code == 403  # answered over HTTP: no token, no metrics


@pytest.mark.django_db
def test_pages_carry_the_browser_security_headers(client):
    page = client.get("/accounts/login/")

    assert page["X-Frame-Options"] == "DENY"
    assert page["X-Content-Type-Options"] == "nosniff"
    assert page["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_pages_carry_a_content_security_policy_that_runs_no_inline_script(client):
    policy = client.get("/accounts/login/")["Content-Security-Policy"]

    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.IGNORECASE)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/", "/decisions/", "/agents/", "/signals/", "/patterns/", "/ops/", "/status/", "/api/docs/"]
)
def test_no_page_has_an_inline_script_the_policy_would_block(client, path):
    from tests.conftest import _person

    client.force_login(_person("ada", "admin"))
    page = client.get(path)

    assert page.status_code == 200
    assert not INLINE_SCRIPT.findall(page.content.decode()), "scripts must come from static files"


def test_no_template_runs_script_the_policy_would_block():
    """Inline handlers (onclick=...) and javascript: links are inline script too; the policy
    refuses them when clicked, which no page-load check would notice."""
    from pathlib import Path

    from django.conf import settings

    handler = re.compile(r"""\son[a-z]+\s*=|javascript:""", re.IGNORECASE)
    templates = [path for folder in settings.TEMPLATES[0]["DIRS"] for path in Path(folder).rglob("*.html")]
    assert templates

    offending = [
        f"{path}: {line.strip()}"
        for path in templates
        for line in path.read_text().splitlines()
        if handler.search(line)
    ]

    assert not offending
