"""What a log line is about: the request, the agent, the decision. Kept in context variables so
every logger (ours, Django's, the storage layer's) carries them without passing them around."""

import logging
import re
import uuid
from contextvars import ContextVar

from django.core.signals import request_finished
from django.dispatch import receiver

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
agent_id: ContextVar[str | None] = ContextVar("agent_id", default=None)
decision_id: ContextVar[str | None] = ContextVar("decision_id", default=None)

REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class ContextFilter(logging.Filter):
    """Adds request_id, agent_id and decision_id to every record (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Django attaches the request to its own records; as a JSON field it would print the full
        # URL, query string included.
        record.__dict__.pop("request", None)
        record.request_id = request_id.get()
        record.agent_id = agent_id.get()
        record.decision_id = decision_id.get()
        return True


class RequestIdMiddleware:
    """One id per request: the caller's X-Request-ID when it is a plain token (a proxy's, or an
    agent's own), else a new one; sent back in the response so both sides can find the lines."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get(REQUEST_ID_HEADER, "")
        request_id.set(given if _SAFE_REQUEST_ID.match(given) else uuid.uuid4().hex)
        agent_id.set(None)
        decision_id.set(None)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id.get()
        return response


@receiver(request_finished)
def _forget_the_request(**kwargs) -> None:
    """Cleared when the response is closed, not when the middleware returns: Django logs a 4xx
    or 5xx ("Not Found: ...") after the middleware, and that line belongs to the request too."""
    request_id.set(None)
    agent_id.set(None)
    decision_id.set(None)
