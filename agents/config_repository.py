"""agent_state items of configuration versions: CONFIG#v{000001}, immutable once written.
The next version is created with a conditional put, so two saves of the same next number
cannot both succeed: that is the optimistic lock."""

from typing import Any

from agents.schemas import ConfigVersion
from memsite import storage
from memsite.storage.codec import format_timestamp
from memsite.storage.tables import AGENT_STATE

CONFIG = "CONFIG#v"


def _table() -> storage.Table:
    return storage.table(AGENT_STATE)


def _key(agent_id: str, version: int) -> dict[str, str]:
    return {"pk": f"agent:{agent_id}", "sk": f"{CONFIG}{version:06d}"}


def _from_item(item: dict[str, Any]) -> ConfigVersion:
    return ConfigVersion.model_validate({k: item[k] for k in ConfigVersion.model_fields if k in item})


def version_create(config: ConfigVersion) -> ConfigVersion | None:
    """Write the version; None on success, else the version already written under that number."""
    item = (
        _key(config.agent_id, config.version)
        | config.model_dump(mode="python")
        | {"created_at": format_timestamp(config.created_at)}
    )
    existing = _table().put_new_or_existing(item)
    return None if existing is None else _from_item(existing)


def version_latest(agent_id: str) -> ConfigVersion | None:
    # Consistent: a save that just happened must be seen, or the next one gets a wrong conflict.
    page = _table().query_page(
        f"agent:{agent_id}", sort=storage.SortCondition.begins_with(CONFIG), newest_first=True, limit=1, consistent=True
    )
    return _from_item(page.items[0]) if page.items else None


def version_find(agent_id: str, version: int) -> ConfigVersion | None:
    item = _table().find(_key(agent_id, version), consistent=True)
    return _from_item(item) if item else None


def versions_list(agent_id: str) -> list[ConfigVersion]:
    items = _table().query_all(f"agent:{agent_id}", sort=storage.SortCondition.begins_with(CONFIG), limit=200)
    return [_from_item(item) for item in items]
