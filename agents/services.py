"""Writes for agents: registration and API tokens."""

import hashlib
import secrets
from datetime import UTC, datetime

from django.db import transaction

from agents import repository
from agents.models import AgentToken
from agents.schemas import AGENT_ID_PATTERN, AGENT_ID_RULE, AgentProfile, IssuedToken
from memsite.errors import AlreadyExists, DoesNotExist, ValidationFailed

TOKEN_PREFIX = "mst_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def agent_id_validate(agent_id: str) -> str:
    if not AGENT_ID_PATTERN.match(agent_id):
        raise ValidationFailed(
            f"agent_id {agent_id!r} is not valid: {AGENT_ID_RULE}", fields={"agent_id": AGENT_ID_RULE}
        )
    return agent_id


def agent_create(*, agent_id: str, name: str | None = None) -> IssuedToken:
    """Register the agent (in the DynamoDB registry) and issue its first token. An agent whose
    profile is in DynamoDB but who has no token here (Django's database was reset) gets a new token
    and keeps its profile."""
    agent_id_validate(agent_id)
    if AgentToken.objects.filter(agent_id=agent_id).exists():
        raise AlreadyExists(f"agent {agent_id!r} exists already: rotate its token with `agent_token rotate`")
    profile = AgentProfile(agent_id=agent_id, name=name or agent_id, created_at=datetime.now(UTC))
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
