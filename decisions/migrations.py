"""Stored decisions brought to today's layout (run by `dynamodb_tables create` and bootstrap).

Before the learn index, consolidation's queue was a sparse `stm` index, and what it counted was
recorded on each decision (`learned`). Decisions still waiting there with an outcome it had not
counted join the learn index; those it counted keep `learned`, which consolidation reads as the
ledger if their outcome is ever corrected.
"""

from typing import Any

from decisions.repository import learn_keys
from decisions.schemas import Decision
from memsite import storage
from memsite.storage import migrate
from memsite.storage.tables import AGENT_DECISIONS


def _join_learn_index(item: dict[str, Any]) -> dict[str, Any] | None:
    if not item.get("outcome") or "learn_pk" in item:
        return None
    learned = item.get("learned")
    if learned and learned.get("version") == item.get("version"):
        return None  # counted already: only a correction brings it back
    decision = Decision.model_validate({k: item[k] for k in Decision.model_fields if k in item})
    rest = {k: v for k, v in item.items() if k not in ("stm_pk", "stm_sk")}
    return rest | {k: v for k, v in learn_keys(decision).items() if v is not None}


def decisions_upgrade(report=print, gateway: storage.Gateway | None = None) -> int:
    """Decisions waiting in the old `stm` queue join the learn index; returns how many."""
    return migrate.upgrade_items(
        gateway or storage.gateway("worker"),
        AGENT_DECISIONS,
        name="stm-to-learn",
        having="stm_pk",
        upgrade=_join_learn_index,
        report=report,
    )
