"""Agent records."""

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel

from memsite.timestamps import Timestamp

AGENT_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
AGENT_ID_RULE = "1-64 characters: lower-case letters, digits, '-' or '_', starting with a letter or digit"


def agent_id_check(value: str) -> str:
    if not AGENT_ID_PATTERN.match(value):
        raise ValueError(f"not an agent id ({AGENT_ID_RULE})")
    return value


AgentId = Annotated[str, AfterValidator(agent_id_check)]


class AgentProfile(BaseModel):
    agent_id: str
    name: str
    created_at: Timestamp
    kind: str = "generic"


class IssuedToken(BaseModel):
    agent_id: str
    token: str
    prefix: str


class Heartbeat(BaseModel):
    at: Timestamp
    interval_seconds: int = 600
    status: str | None = None


class AgentSummary(BaseModel):
    """A registry entry with its liveness, as the list API and page show it."""

    agent_id: str
    name: str
    created_at: Timestamp
    kind: str = "generic"
    last_heartbeat: Heartbeat | None = None
    liveness: Literal["online", "late", "offline"] = "offline"


class StateSlot(BaseModel):
    """CURRENT, BACKUP or a named checkpoint: a JSON document the agent keeps."""

    agent_id: str
    slot: str
    state: dict[str, Any]
    updated_at: Timestamp
    updated_by: str
    version: int = 1


class MemoryEntry(BaseModel):
    agent_id: str
    key: str
    value: Any
    expires_at: Timestamp
    updated_at: Timestamp


class RateLimitWindow(BaseModel):
    agent_id: str
    source: str
    window_seconds: int
    limit: int
    used: int
    window_start: Timestamp
    reset_at: Timestamp

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)


class RateDecision(BaseModel):
    allowed: bool
    remaining: int
    reset_at: Timestamp
    limit: int
    used: int


class ConfigVersion(BaseModel):
    """One immutable version of an agent's configuration."""

    agent_id: str
    version: int
    document: dict[str, Any]
    author: str
    created_at: Timestamp
    note: str
