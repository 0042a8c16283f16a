"""Reads for agents: who a token belongs to, and the token list."""

from datetime import UTC, datetime, timedelta

from django.db.models import QuerySet

from agents.models import AgentToken
from agents.services import hash_token

# Recording every use would write to the database on every API call; once a minute is plenty.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def agent_for_token(token: str) -> str | None:
    """The agent id of an active token, or None."""
    record = AgentToken.objects.filter(token_hash=hash_token(token), revoked_at__isnull=True).first()
    if record is None:
        return None
    now = datetime.now(UTC)
    if record.last_used_at is None or now - record.last_used_at > LAST_USED_RESOLUTION:
        AgentToken.objects.filter(pk=record.pk).update(last_used_at=now)
    return record.agent_id


def agent_token_list(*, agent_id: str | None = None) -> QuerySet[AgentToken]:
    tokens = AgentToken.objects.all()
    return tokens.filter(agent_id=agent_id) if agent_id else tokens


def agent_ids_known() -> list[str]:
    return list(AgentToken.objects.values_list("agent_id", flat=True).distinct().order_by("agent_id"))
