"""agent_state items of an agent's working state: CURRENT, BACKUP and CHECKPOINT#{name}."""

from datetime import UTC, datetime
from typing import Any

from agents.schemas import StateSlot
from memsite import storage
from memsite.storage.tables import AGENT_STATE

CHECKPOINT = "CHECKPOINT#"


def _table() -> storage.Table:
    return storage.table(AGENT_STATE)


def _key(agent_id: str, slot: str) -> dict[str, str]:
    return {"pk": f"agent:{agent_id}", "sk": slot}


def _from_item(item: dict[str, Any]) -> StateSlot:
    return StateSlot(
        agent_id=item["pk"].removeprefix("agent:"),
        slot=item["sk"],
        state=item.get("state", {}),
        updated_at=item["updated_at"],
        updated_by=item["updated_by"],
        version=item.get("version", 1),
    )


def slot_put(
    agent_id: str, slot: str, state: dict[str, Any], *, by: str, expected_version: int | None = None
) -> StateSlot:
    """One UpdateItem. Last writer wins (CURRENT is written every cycle, so no read first),
    unless `expected_version` is given: then storage.Conflict if the slot moved on."""
    now = datetime.now(UTC)
    changes = {"state": state, "updated_at": storage.codec.format_timestamp(now), "updated_by": by}
    item = _table().update_fields(
        _key(agent_id, slot), changes, increments={"version": 1}, must_exist=False, expected_version=expected_version
    )
    return _from_item(item)


def slot_find(agent_id: str, slot: str) -> StateSlot | None:
    item = _table().find(_key(agent_id, slot), consistent=True)
    return _from_item(item) if item else None


def checkpoints_list(agent_id: str) -> list[StateSlot]:
    items = _table().query_all(
        f"agent:{agent_id}", sort=storage.SortCondition.begins_with(CHECKPOINT), newest_first=False, limit=200
    )
    return [_from_item(item) for item in items]
