"""agent_state items of the registry. The mappers here are the only place that knows
their attribute names and key layout."""

from typing import Any

from agents.schemas import AgentProfile, Heartbeat
from memsite import storage
from memsite.storage.codec import format_timestamp
from memsite.storage.tables import AGENT_STATE

PROFILE = "PROFILE"
REGISTRY = "registry"


def _key(agent_id: str) -> dict[str, str]:
    return {"pk": f"agent:{agent_id}", "sk": PROFILE}


def _to_item(profile: AgentProfile) -> dict[str, Any]:
    return _key(profile.agent_id) | {
        "registry_pk": REGISTRY,
        "registry_sk": profile.agent_id,
        "agent_id": profile.agent_id,
        "name": profile.name,
        "kind": profile.kind,
        "created_at": format_timestamp(profile.created_at),
    }


def _from_item(item: dict[str, Any]) -> AgentProfile:
    return AgentProfile(
        agent_id=item["agent_id"], name=item["name"], created_at=item["created_at"], kind=item.get("kind", "generic")
    )


def _summary_from_item(item: dict[str, Any]) -> tuple[AgentProfile, Heartbeat | None]:
    beat = item.get("heartbeat")
    return _from_item(item), Heartbeat.model_validate(beat) if beat else None


def profile_put_new(profile: AgentProfile) -> bool:
    """Store the profile unless the agent exists; True when it was created."""
    try:
        return storage.table(AGENT_STATE).put_new(_to_item(profile)).created
    except storage.Conflict:
        return False


def profile_find(agent_id: str) -> AgentProfile | None:
    item = storage.table(AGENT_STATE).find(_key(agent_id))
    return _from_item(item) if item else None


def profiles_list() -> list[tuple[AgentProfile, Heartbeat | None]]:
    """Every registered agent with its last heartbeat: one Query of the registry index."""
    items = storage.table(AGENT_STATE).query_all(REGISTRY, index="registry", newest_first=False, limit=1000)
    return [_summary_from_item(item) for item in items]


def profile_with_heartbeat(agent_id: str) -> tuple[AgentProfile, Heartbeat | None] | None:
    item = storage.table(AGENT_STATE).find(_key(agent_id))
    return _summary_from_item(item) if item else None


def heartbeat_record(agent_id: str, heartbeat: Heartbeat) -> None:
    """One UpdateItem on the profile; storage.NotFound if the agent is not registered."""
    storage.table(AGENT_STATE).update_fields(_key(agent_id), {"heartbeat": heartbeat.model_dump(mode="python")})
