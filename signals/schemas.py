"""Signal records: what an agent publishes (SignalIn) and what is stored and delivered."""

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agents.schemas import AGENT_ID_PATTERN, AGENT_ID_RULE
from decisions.schemas import ulid_validate
from memsite.timestamps import Timestamp

SIGNAL_TYPE = re.compile(r"^[A-Z][A-Z0-9_]{1,63}$")
MAX_TTL_SECONDS = 86400
MAX_PAYLOAD_BYTES = 16 * 1024
MAX_TARGETS = 50


class SignalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str
    confidence: float = Field(ge=0, le=1, allow_inf_nan=False)
    payload: dict[str, Any] = Field(default_factory=dict)
    target_agents: list[str] = Field(min_length=1, max_length=MAX_TARGETS)
    ttl_seconds: int = Field(default=MAX_TTL_SECONDS, ge=1, le=MAX_TTL_SECONDS)
    signal_id: str | None = None
    decision_id: str | None = None

    @field_validator("type")
    @classmethod
    def _type_shape(cls, value: str) -> str:
        if not SIGNAL_TYPE.match(value):
            raise ValueError("type must be an upper-case name such as WHALE_ACTIVITY (A-Z, 0-9, _)")
        return value

    @field_validator("target_agents")
    @classmethod
    def _targets_shape(cls, value: list[str]) -> list[str]:
        bad = [agent for agent in value if not AGENT_ID_PATTERN.match(agent)]
        if bad:
            raise ValueError(f"not agent ids: {', '.join(bad[:5])} ({AGENT_ID_RULE})")
        return list(dict.fromkeys(value))  # each target once, in the order given

    @field_validator("signal_id", "decision_id")
    @classmethod
    def _ulid(cls, value: str | None, info) -> str | None:
        return None if value is None else ulid_validate(value, info.field_name)


class Delivery(BaseModel):
    delivered_at: Timestamp | None = None
    acked_at: Timestamp | None = None


class Signal(BaseModel):
    signal_id: str
    type: str
    source_agent: str
    confidence: float
    payload: dict[str, Any] = Field(default_factory=dict)
    target_agents: list[str]
    decision_id: str | None = None
    created_at: Timestamp
    expires_at: Timestamp
    deliveries: dict[str, Delivery] = Field(default_factory=dict)


class InboxSignal(BaseModel):
    """A signal as one target sees it in its inbox."""

    signal_id: str
    type: str
    source_agent: str
    confidence: float
    payload: dict[str, Any] = Field(default_factory=dict)
    decision_id: str | None = None
    created_at: Timestamp
    expires_at: Timestamp
    delivered_at: Timestamp | None = None


class AckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    signal_ids: list[str] = Field(min_length=1, max_length=100)

    @field_validator("signal_ids")
    @classmethod
    def _ulids(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(ulid_validate(v, "signal_ids") for v in value))
