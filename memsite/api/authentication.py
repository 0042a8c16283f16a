"""Agents authenticate with `Authorization: Bearer <token>`; people with their session."""

from dataclasses import dataclass

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from agents.selectors import agent_for_token
from memsite import log_context


@dataclass(frozen=True)
class AgentPrincipal:
    """request.user for an agent's API call."""

    agent_id: str
    is_authenticated: bool = True
    is_agent: bool = True
    is_superuser: bool = False

    def __str__(self) -> str:
        return f"agent:{self.agent_id}"


class AgentTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0].lower() != self.keyword.lower():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Authorization header: expected 'Bearer <token>'")
        agent_id = agent_for_token(header[1])
        if agent_id is None:
            raise exceptions.AuthenticationFailed("unknown or revoked token")
        log_context.agent_id.set(agent_id)  # every log line of this request names the agent
        return AgentPrincipal(agent_id=agent_id), header[1]

    def authenticate_header(self, request) -> str:
        return self.keyword


class AgentTokenScheme(OpenApiAuthenticationExtension):
    target_class = "memsite.api.authentication.AgentTokenAuthentication"
    name = "agentToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "an agent's API token (manage.py agent_create)"}
