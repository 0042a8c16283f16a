"""Real-browser tests: Debian's Chromium driven by Playwright against a live server.

Every test leaves a full-page screenshot in test-artifacts/e2e/ (named after the test, with
FAILED- in front when it failed), so what a person would have seen can be looked at.
"""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise RuntimeError("Chromium is not installed: `make test` (its `browser` step) installs Debian's chromium")
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    # Playwright's sync API keeps an event loop in this thread for the rest of the session;
    # Django's database calls from the same thread (fixtures, assertions, teardown flushes) are
    # still plain synchronous calls, so its async-safety guard does not apply.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.failed_in_call = report.failed
    return report


@pytest.fixture
def page(browser: Browser, live_server, request) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1300, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    # What the Content Security Policy blocked: a page that needs it to work is a bug.
    blocked: list[str] = []
    page.on(
        "console", lambda message: blocked.append(message.text) if "Content Security Policy" in message.text else None
    )
    yield page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    prefix = "FAILED-" if getattr(request.node, "failed_in_call", False) else ""
    page.screenshot(path=str(ARTIFACTS / f"{prefix}{request.node.name}.png"), full_page=True)
    context.close()
    assert not blocked, "the page broke its Content Security Policy:\n" + "\n".join(blocked)


@pytest.fixture
def logged_in(page: Page, transactional_db) -> Page:
    """The page, logged in through the login form as alice (an operator)."""
    from django.contrib.auth import get_user_model

    from memsite.roles import role_group

    user = get_user_model().objects.create_user(username="alice", password="correct horse battery")
    user.groups.add(role_group("operator"))
    page.goto("/accounts/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    return page
