"""Application errors: raised by services and selectors, rendered by one API exception handler
(memsite.api.exceptions) and by the pages, each with a stable machine code."""

from typing import Any


class ApplicationError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, detail: str, *, code: str | None = None, fields: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code or self.code
        self.fields = fields or {}


class ValidationFailed(ApplicationError):
    status = 400
    code = "invalid"


class PermissionDenied(ApplicationError):
    status = 403
    code = "forbidden"


class DoesNotExist(ApplicationError):
    status = 404
    code = "not_found"


class AlreadyExists(ApplicationError):
    status = 409
    code = "conflict"


class PayloadTooLarge(ApplicationError):
    status = 413
    code = "too_large"
