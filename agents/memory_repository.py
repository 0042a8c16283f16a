"""agent_state items of short-term memory: STM#{key}, each with its expiry (TTL)."""

import math
from datetime import UTC, datetime
from typing import Any

from agents.schemas import MemoryEntry
from memsite import storage
from memsite.storage.codec import format_timestamp
from memsite.storage.tables import AGENT_STATE, TTL_ATTRIBUTE

STM = "STM#"


def _table() -> storage.Table:
    return storage.table(AGENT_STATE)


def _key(agent_id: str, key: str) -> dict[str, str]:
    return {"pk": f"agent:{agent_id}", "sk": STM + key}


def _from_item(item: dict[str, Any]) -> MemoryEntry:
    return MemoryEntry(
        agent_id=item["pk"].removeprefix("agent:"),
        key=item["sk"].removeprefix(STM),
        value=item.get("value"),
        expires_at=datetime.fromtimestamp(item[TTL_ATTRIBUTE], UTC),
        updated_at=item["updated_at"],
    )


def memory_put(agent_id: str, key: str, value: Any, *, ttl_seconds: int) -> MemoryEntry:
    now = datetime.now(UTC)
    item = _key(agent_id, key) | {
        "value": value,
        "updated_at": format_timestamp(now),
        # Rounded up: an entry never lives less than it was asked to.
        TTL_ATTRIBUTE: math.ceil(now.timestamp()) + ttl_seconds,
    }
    _table().put(item)  # a null value is left out of the item and reads back as null
    return _from_item(item)


def memory_find(agent_id: str, key: str) -> MemoryEntry | None:
    """None when missing or expired (an expired item may still be stored: TTL deletes lazily)."""
    item = _table().find(_key(agent_id, key), consistent=True)
    return _from_item(item) if item else None


def memory_delete(agent_id: str, key: str) -> None:
    _table().delete(_key(agent_id, key))


def memory_list(agent_id: str) -> list[MemoryEntry]:
    items = _table().query_all(
        f"agent:{agent_id}", sort=storage.SortCondition.begins_with(STM), newest_first=False, limit=500
    )
    return [_from_item(item) for item in items]
