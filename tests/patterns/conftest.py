"""Fixtures of the pattern tests: an agent, a context marker and a definition of their own, so
tests sharing the session's tables never count each other's decisions."""

import pytest

from patterns import services as pattern_services
from tests.patterns.helpers import OPERATOR


@pytest.fixture
def agent(unique) -> str:
    return f"agent-{unique[-10:].lower()}"


@pytest.fixture
def marker(unique) -> str:
    """A context field only this test's decisions carry, so other tests' definitions never match."""
    return f"m{unique[-10:].lower()}"


@pytest.fixture
def definition(marker):
    return pattern_services.definition_create(
        raw={
            "id": f"p-{marker}",
            "name": "test pattern",
            "decision_type": "SIGNAL_GENERATION",
            "conditions": [{"path": f"context.{marker}", "op": "eq", "value": True}],
            "half_life_days": 30,
            "min_support": 5,
            "activate_at": 0.6,
        },
        editor=OPERATOR,
    )
