"""Fixtures of the pattern tests: an agent, a context marker and a definition of their own, so
tests sharing the session's tables never count each other's decisions."""

import pytest

from tests.patterns.helpers import define


@pytest.fixture
def agent(unique) -> str:
    return f"agent-{unique[-10:].lower()}"


@pytest.fixture
def marker(unique) -> str:
    """A context field only this test's decisions carry, so other tests' definitions never match."""
    return f"m{unique[-10:].lower()}"


@pytest.fixture
def definition(marker):
    return define(f"p-{marker}", marker, half_life_days=30, min_support=5, activate_at=0.6)
