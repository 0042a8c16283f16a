"""agent_memory_ltm items of pattern definitions: pk definitions#PATTERN, sk {pattern_id}.
One small partition: a desk has tens of definitions, not thousands."""

from typing import Any

from memsite import storage
from memsite.storage.codec import format_timestamp
from memsite.storage.tables import AGENT_MEMORY_LTM
from patterns.schemas import PatternDefinition

PARTITION = "definitions#PATTERN"


def _table() -> storage.Table:
    return storage.table(AGENT_MEMORY_LTM)


def _key(pattern_id: str) -> dict[str, str]:
    return {"pk": PARTITION, "sk": pattern_id}


def _fields(definition: PatternDefinition) -> dict[str, Any]:
    record = definition.model_dump(mode="python", exclude={"version"})
    return record | {"updated_at": format_timestamp(definition.updated_at)}


def _from_item(item: dict[str, Any]) -> PatternDefinition:
    return PatternDefinition.model_validate({k: item[k] for k in PatternDefinition.model_fields if k in item})


def definition_create(definition: PatternDefinition) -> PatternDefinition | None:
    """None when created; else the definition already stored under that id."""
    existing = _table().put_new_or_existing(_key(definition.id) | _fields(definition) | {"version": 1})
    return None if existing is None else _from_item(existing)


def definition_update(definition: PatternDefinition, *, expected_version: int) -> PatternDefinition:
    """storage.Conflict if the stored version moved on; storage.NotFound if it is gone."""
    item = _table().update_versioned(_key(definition.id), _fields(definition), expected_version=expected_version)
    return _from_item(item)


def definition_find(pattern_id: str) -> PatternDefinition | None:
    item = _table().find(_key(pattern_id), consistent=True)
    return _from_item(item) if item else None


def definitions_list() -> list[PatternDefinition]:
    return [_from_item(item) for item in _table().query_all(PARTITION, newest_first=False, limit=500)]


def definition_delete(pattern_id: str) -> None:
    _table().delete(_key(pattern_id))
