"""One exception handler for the API: every error is {"detail", "code", "fields"} with the right
status, storage and application errors included; never a traceback."""

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from memsite import storage
from memsite.errors import ApplicationError, PayloadTooLarge
from memsite.validation import unstorable

_STORAGE_STATUS: list[tuple[type[storage.StorageError], int, str]] = [
    (storage.NotFound, 404, "not_found"),
    (storage.Conflict, 409, "conflict"),
    (storage.TooLarge, 413, "too_large"),
    (storage.Unavailable, 503, "unavailable"),
    (storage.TableMissing, 503, "storage_not_ready"),
    (storage.InvalidCursor, 400, "invalid_cursor"),
]


def error_body(detail: str, code: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"detail": detail, "code": code, "fields": fields or {}}


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    exc = _named(exc)
    if isinstance(exc, ApplicationError):
        return Response(error_body(exc.detail, exc.code, exc.fields), status=exc.status)
    for error_class, http_status, code in _STORAGE_STATUS:
        if isinstance(exc, error_class):
            fields = {"cursor": exc.message} if isinstance(exc, storage.InvalidCursor) else None
            response = Response(error_body(exc.message, code, fields), status=http_status)
            if isinstance(exc, storage.Unavailable):
                response["Retry-After"] = str(exc.retry_after)
            return response
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        first = next(iter(fields.items()), ("body", ["invalid"]))
        message = first[1][0] if isinstance(first[1], list) and first[1] else first[1]
        response.data = error_body(f"{first[0]}: {message}", "invalid", fields)
    elif isinstance(exc, exceptions.ParseError):
        response.data = error_body(f"body: {exc.detail}", exc.get_codes(), {"body": str(exc.detail)})
    elif isinstance(exc, exceptions.UnsupportedMediaType):
        response.data = error_body(f"Content-Type: {exc.detail}", exc.get_codes(), {"Content-Type": "application/json"})
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        response.data = error_body(str(detail), code if isinstance(code, str) else "error")
    if response.status_code == status.HTTP_429_TOO_MANY_REQUESTS and "Retry-After" not in response:
        response["Retry-After"] = "1"
    return response


def _named(exc: Exception) -> Exception:
    """Errors that would otherwise leave without naming what was wrong: a body over Django's
    DATA_UPLOAD_MAX_MEMORY_SIZE (Django would answer an HTML 400), and a value DynamoDB cannot
    hold (its path becomes the field)."""
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return PayloadTooLarge(f"body: over the limit of {limit} bytes", fields={"body": f"at most {limit} bytes"})
    if isinstance(exc, storage.InvalidValue):
        return unstorable(exc)
    return exc
