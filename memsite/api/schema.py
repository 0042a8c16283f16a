"""The OpenAPI schema's error answers, declared once for every operation: each error the API can
give has the body {"detail", "code", "fields"} (memsite.api.exceptions), and a view declares only
its own successes (and an error whose body differs, such as a rate limit's 429)."""

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from pydantic import BaseModel


class ErrorOut(BaseModel):
    detail: str
    code: str
    fields: dict[str, Any]


_WHY = {
    400: "The request is invalid: `detail` names the first problem, `fields` every field's.",
    401: "No credentials, or an unknown or revoked token.",
    403: "Not allowed: a person without the role, or an agent acting for another agent.",
    404: "Nothing has that id.",
    409: "Conflicts with what is stored (same id with other content, or a version that moved on).",
    413: "Too large (the body, or the item it would store).",
    429: "Too many requests: wait the seconds in Retry-After.",
    503: "The database is not answering: try again after the seconds in Retry-After.",
}
_RETRY_AFTER = {
    "Retry-After": {"schema": {"type": "integer"}, "required": True, "description": "seconds to wait"},
}
_WRITES = ("POST", "PUT", "PATCH", "DELETE")


class ApiAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        for status in self._error_statuses():
            if str(status) not in responses:
                error = OpenApiResponse(ErrorOut, description=_WHY[status])
                responses[str(status)] = self._get_response_for_code(error, str(status), direction=direction)
        for status in ("429", "503"):
            if status in responses:
                responses[status].setdefault("headers", {}).update(_RETRY_AFTER)
        return dict(sorted(responses.items()))

    def _error_statuses(self) -> list[int]:
        """Which errors this operation can answer, from what it takes (its parameters and body)."""
        statuses = [401, 403, 503]
        takes_input = self.method in _WRITES or self._get_parameters()
        if takes_input:
            statuses.append(400)
        if "{" in self.path:
            statuses.append(404)
        if self.method in _WRITES:
            statuses += [409, 413]
        if self.view.get_throttles():
            statuses.append(429)
        return sorted(statuses)
