"""Reads for agents: who a token belongs to, the token list, the registry and each agent's
working state (state slots, short-term memory, rate-limit windows)."""

import contextlib
from datetime import UTC, datetime, timedelta

from django.db import DatabaseError
from django.db.models import QuerySet

from agents import memory_repository, ratelimit_repository, repository, state_repository
from agents.models import AgentToken
from agents.schemas import (
    AGENT_ID_PATTERN,
    AgentProfile,
    AgentSummary,
    Heartbeat,
    MemoryEntry,
    RateLimitWindow,
    StateSlot,
)
from agents.services import NAME_PATTERN, hash_token
from memsite.errors import DoesNotExist

# Recording every use would write to the database on every API call; once a minute is plenty.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def agent_for_token(token: str) -> str | None:
    """The agent id of an active token, or None."""
    record = AgentToken.objects.filter(token_hash=hash_token(token), revoked_at__isnull=True).first()
    if record is None:
        return None
    now = datetime.now(UTC)
    if record.last_used_at is None or now - record.last_used_at > LAST_USED_RESOLUTION:
        # Best effort: two requests of one agent at once may race for the row (SQLite locks it);
        # the token is valid either way, and the next request records the use.
        with contextlib.suppress(DatabaseError):
            AgentToken.objects.filter(pk=record.pk).update(last_used_at=now)
    return record.agent_id


def agent_token_list(*, agent_id: str | None = None) -> QuerySet[AgentToken]:
    tokens = AgentToken.objects.all()
    return tokens.filter(agent_id=agent_id) if agent_id else tokens


def agent_ids_known() -> list[str]:
    return list(AgentToken.objects.values_list("agent_id", flat=True).distinct().order_by("agent_id"))


# The registry and each agent's working state.


def liveness(beat: Heartbeat | None, now: datetime | None = None) -> str:
    """online within 1.5 heartbeat intervals, late within 6, offline after (or never seen)."""
    if beat is None:
        return "offline"
    age = ((now or datetime.now(UTC)) - beat.at).total_seconds()
    if age <= 1.5 * beat.interval_seconds:
        return "online"
    return "late" if age <= 6 * beat.interval_seconds else "offline"


def _summary(profile: AgentProfile, beat: Heartbeat | None) -> AgentSummary:
    return AgentSummary(**profile.model_dump(), last_heartbeat=beat, liveness=liveness(beat))


def agent_list() -> list[AgentSummary]:
    return [_summary(profile, beat) for profile, beat in repository.profiles_list()]


def agent_known(agent_id: str) -> str:
    """The id, if it could name an agent; DoesNotExist otherwise (before any storage call)."""
    if not AGENT_ID_PATTERN.match(agent_id):
        raise DoesNotExist(f"no agent {agent_id[:70]!r}")
    return agent_id


def agent_get(*, agent_id: str) -> AgentSummary:
    found = repository.profile_with_heartbeat(agent_known(agent_id))
    if found is None:
        raise DoesNotExist(f"no agent {agent_id}")
    return _summary(*found)


def state_get(*, agent_id: str, slot: str) -> StateSlot:
    found = state_repository.slot_find(agent_known(agent_id), slot)
    if found is None:
        raise DoesNotExist(f"agent {agent_id} has no {slot.replace('CHECKPOINT#', 'checkpoint ')} state")
    return found


def checkpoint_list(*, agent_id: str) -> list[StateSlot]:
    return state_repository.checkpoints_list(agent_known(agent_id))


def memory_get(*, agent_id: str, key: str) -> MemoryEntry:
    found = memory_repository.memory_find(agent_known(agent_id), key) if NAME_PATTERN.match(key) else None
    if found is None:
        raise DoesNotExist(f"agent {agent_id} remembers nothing under {key!r} (or it expired)")
    return found


def memory_list(*, agent_id: str) -> list[MemoryEntry]:
    return memory_repository.memory_list(agent_known(agent_id))


def ratelimit_windows(*, agent_id: str) -> list[RateLimitWindow]:
    return ratelimit_repository.windows_list(agent_known(agent_id))


def recent_queries(*, agent_id: str, cycles: int = 10, most: int = 200) -> list:
    """The user's "recent queries (last 10 cycles)": the agent's QUERY_EXECUTION decisions of its
    last `cycles` cycles (counted back from the cycle of its newest decision), newest first, at
    most `most`. Decisions without a cycle: the latest `cycles` of them."""
    from decisions.selectors import DecisionFilter, decision_list

    newest, _ = decision_list(filters=DecisionFilter(agent=agent_id, limit=1))
    last_cycle = newest[0].cycle if newest else None
    found: list = []
    cursor = None
    while True:
        page, cursor = decision_list(
            filters=DecisionFilter(agent=agent_id, type="QUERY_EXECUTION", limit=50, cursor=cursor)
        )
        for decision in page:
            if last_cycle is None or decision.cycle is None:
                if len(found) >= cycles:
                    return found
            elif decision.cycle <= last_cycle - cycles:
                return found
            found.append(decision)
            if len(found) >= most:
                return found
        if cursor is None:
            return found
