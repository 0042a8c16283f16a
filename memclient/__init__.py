"""memclient: the Python client memsite's agents use (no Django: httpx, pydantic, tenacity).

    from memclient import MemClient

    with MemClient(base_url="http://127.0.0.1:8000", token=TOKEN, agent_id="market-hunter") as client:
        client.log_decision(type="SIGNAL_GENERATION", context={...}, reasoning={...})
        client.publish_signal(type="WHALE_ACTIVITY", confidence=0.85, target_agents=["risk-manager"])

docs/client.md has the quickstart, every method, and what happens during an outage.
"""

from memclient.client import DecisionScope, FlushTimeout, MemClient
from memclient.models import (
    Config,
    Heartbeat,
    MemoryEntry,
    Pattern,
    RateLimit,
    Signal,
    SimilarSituations,
    StateSlot,
)
from memclient.spool import DeadLetter, SpoolFull, SpoolInUse
from memclient.transport import ApiError, Unreachable

__all__ = [
    "ApiError",
    "Config",
    "DeadLetter",
    "DecisionScope",
    "FlushTimeout",
    "Heartbeat",
    "MemClient",
    "MemoryEntry",
    "Pattern",
    "RateLimit",
    "Signal",
    "SimilarSituations",
    "SpoolFull",
    "SpoolInUse",
    "StateSlot",
    "Unreachable",
]
