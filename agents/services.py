"""Writes for agents: registration and API tokens; heartbeats, state slots, short-term memory
and rate limits."""

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from pydantic import BaseModel, ConfigDict, Field

from agents import memory_repository, ratelimit_repository, repository, state_repository
from agents.config_schemas import kind_for_new_agent
from agents.models import AgentToken
from agents.schemas import (
    AGENT_ID_PATTERN,
    AGENT_ID_RULE,
    AgentProfile,
    Heartbeat,
    IssuedToken,
    MemoryEntry,
    RateDecision,
    StateSlot,
)
from memsite import metrics, storage
from memsite.errors import (
    AlreadyExists,
    DoesNotExist,
    PermissionDenied,
    ValidationFailed,
)
from memsite.validation import size_checked, unstorable, validated

TOKEN_PREFIX = "mst_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def agent_id_validate(agent_id: str) -> str:
    if not AGENT_ID_PATTERN.match(agent_id):
        raise ValidationFailed(
            f"agent_id {agent_id!r} is not valid: {AGENT_ID_RULE}", fields={"agent_id": AGENT_ID_RULE}
        )
    return agent_id


def agent_create(*, agent_id: str, name: str | None = None, kind: str | None = None) -> IssuedToken:
    """Register the agent (in the DynamoDB registry) and issue its first token. An agent whose
    profile is in DynamoDB but who has no token here (Django's database was reset) gets a new token
    and keeps its profile."""
    agent_id_validate(agent_id)
    if AgentToken.objects.filter(agent_id=agent_id).exists():
        raise AlreadyExists(f"agent {agent_id!r} exists already: rotate its token with `agent_token rotate`")
    profile = AgentProfile(
        agent_id=agent_id, name=name or agent_id, created_at=datetime.now(UTC), kind=kind_for_new_agent(agent_id, kind)
    )
    repository.profile_put_new(profile)
    return agent_token_issue(agent_id=agent_id)


def agent_token_issue(*, agent_id: str) -> IssuedToken:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    prefix = token[: len(TOKEN_PREFIX) + 6]
    AgentToken.objects.create(agent_id=agent_id, token_hash=hash_token(token), prefix=prefix)
    return IssuedToken(agent_id=agent_id, token=token, prefix=prefix)


def agent_token_revoke(*, agent_id: str, prefix: str | None = None) -> int:
    """Revoke the agent's active tokens (or the one starting with `prefix`); returns how many."""
    tokens = AgentToken.objects.filter(agent_id=agent_id, revoked_at__isnull=True)
    if prefix:
        tokens = tokens.filter(prefix__startswith=prefix[: len(TOKEN_PREFIX) + 6])
    return tokens.update(revoked_at=datetime.now(UTC))


@transaction.atomic
def agent_token_rotate(*, agent_id: str) -> IssuedToken:
    """A new token; every older one stops working at once."""
    if not AgentToken.objects.filter(agent_id=agent_id).exists():
        raise DoesNotExist(f"no agent {agent_id!r}: create it with agent_create")
    agent_token_revoke(agent_id=agent_id)
    return agent_token_issue(agent_id=agent_id)


# The working state of an agent: heartbeats, state slots, short-term memory, rate limits.

MAX_STATE_BYTES = 64 * 1024
MAX_MEMORY_VALUE_BYTES = 32 * 1024
MAX_STM_SECONDS = 86400  # short-term means under a day
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
NAME_RULE = "1-128 characters: letters, digits, '_', '.', ':' or '-'"


@dataclass(frozen=True)
class Writer:
    """Who writes: an agent (only as itself), or a person (operators, for restores)."""

    label: str
    agent_id: str | None = None
    is_operator: bool = False


def _may_write(writer: Writer, agent_id: str, *, operators_too: bool = False) -> None:
    if writer.agent_id == agent_id or (operators_too and writer.is_operator):
        return
    whom = "that agent or an operator" if operators_too else "that agent"
    raise PermissionDenied(f"only {whom} may change agent {agent_id}'s state")


def _name_checked(name: str, field: str) -> str:
    if not NAME_PATTERN.match(name):
        raise ValidationFailed(f"{field}: {NAME_RULE}", fields={field: NAME_RULE})
    return name


def _storable(function: Any, *args: Any, **kwargs: Any) -> Any:
    """A value DynamoDB cannot hold (NaN, out-of-range numbers) is the caller's 400, not our 500."""
    try:
        return function(*args, **kwargs)
    except storage.InvalidValue as error:
        raise unstorable(error) from None


class HeartbeatIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    interval_seconds: int = Field(default=600, ge=1, le=86400)
    status: str | None = Field(default=None, max_length=200)
    spool_pending: int | None = Field(
        default=None, ge=0, description="operations waiting in the agent's client spool (a metric)"
    )


def heartbeat_record(*, agent_id: str, raw: Any, writer: Writer) -> Heartbeat:
    _may_write(writer, agent_id)
    data = validated(HeartbeatIn, raw)  # no body reads as {}; null, [] or false are refused
    beat = Heartbeat(at=datetime.now(UTC), interval_seconds=data.interval_seconds, status=data.status)
    try:
        repository.heartbeat_record(agent_id, beat)
    except storage.NotFound:
        raise DoesNotExist(f"no agent {agent_id}: register it with manage.py agent_create") from None
    if data.spool_pending is not None:
        metrics.SPOOL_PENDING.labels(agent_id).set(data.spool_pending)
    return beat


def state_put(*, agent_id: str, slot: str, raw: Any, writer: Writer) -> StateSlot:
    """Write CURRENT, BACKUP or a checkpoint (slot "CHECKPOINT#name"); the body is the state object."""
    _may_write(writer, agent_id)
    if not isinstance(raw, dict):
        raise ValidationFailed("body: the state must be a JSON object", fields={"body": "expected an object"})
    size_checked(raw, MAX_STATE_BYTES, "the state")
    return _storable(state_repository.slot_put, agent_id, slot, raw, by=writer.label)


def checkpoint_slot(name: str) -> str:
    return state_repository.CHECKPOINT + _name_checked(name, "name")


def checkpoint_restore(*, agent_id: str, name: str, writer: Writer) -> StateSlot:
    """Make a checkpoint the CURRENT state; the CURRENT it replaces is kept in BACKUP."""
    _may_write(writer, agent_id, operators_too=True)
    checkpoint = state_repository.slot_find(agent_id, checkpoint_slot(name))
    if checkpoint is None:
        raise DoesNotExist(f"agent {agent_id} has no checkpoint {name!r}")
    current = state_repository.slot_find(agent_id, "CURRENT")
    if current is not None and current.state == checkpoint.state:
        return current  # restored already (a retry): BACKUP keeps what was there before
    if current is not None:
        state_repository.slot_put(agent_id, "BACKUP", current.state, by=writer.label)
    try:
        return state_repository.slot_put(
            agent_id, "CURRENT", checkpoint.state, by=writer.label, expected_version=current.version if current else 0
        )
    except storage.Conflict:
        raise AlreadyExists(
            f"agent {agent_id} wrote its CURRENT state while the checkpoint was being restored; nothing was "
            "replaced (BACKUP holds the state read before): restore again if still wanted",
            code="stale_version",
        ) from None


class MemoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: Any
    ttl_seconds: int = Field(default=MAX_STM_SECONDS, ge=1, le=MAX_STM_SECONDS)


def memory_put(*, agent_id: str, key: str, raw: Any, writer: Writer) -> MemoryEntry:
    _may_write(writer, agent_id)
    _name_checked(key, "key")
    data = validated(MemoryIn, raw)
    size_checked(data.value, MAX_MEMORY_VALUE_BYTES, "the value")
    return _storable(memory_repository.memory_put, agent_id, key, data.value, ttl_seconds=data.ttl_seconds)


def memory_delete(*, agent_id: str, key: str, writer: Writer) -> None:
    _may_write(writer, agent_id)
    memory_repository.memory_delete(agent_id, _name_checked(key, "key"))


class ConsumeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cost: int = Field(default=1, ge=1)
    limit: int = Field(ge=1, le=10**9)
    window_seconds: int = Field(ge=1, le=86400)


def ratelimit_consume(*, agent_id: str, source: str, raw: Any, writer: Writer) -> RateDecision:
    _may_write(writer, agent_id)
    _name_checked(source, "source")
    data = validated(ConsumeIn, raw)
    if data.cost > data.limit:
        raise ValidationFailed("cost: larger than the limit, it could never be allowed", fields={"cost": "> limit"})
    allowed, window = ratelimit_repository.consume(
        agent_id, source, cost=data.cost, limit=data.limit, window_seconds=data.window_seconds
    )
    return RateDecision(
        allowed=allowed, remaining=window.remaining, reset_at=window.reset_at, limit=window.limit, used=window.used
    )
