"""The storage error family. Every botocore error leaves memsite.storage as one of these,
keeping the AWS error code, so services and the API never see a raw botocore traceback."""

from typing import Any


class StorageError(Exception):
    """Base class; also raised as-is for errors that mean a bug in the caller (a bad request)."""

    def __init__(self, message: str, *, aws_code: str | None = None, operation: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.aws_code = aws_code
        self.operation = operation


class NotFound(StorageError):
    """The item (or the table) does not exist, or has expired."""


class Conflict(StorageError):
    """A conditional write failed: the item exists already, or its version moved on.

    `current` is the item as stored now (decoded), when it could be read.
    """

    def __init__(self, message: str, *, current: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.current = current


class TableMissing(StorageError):
    """A table (or index) does not exist: a deployment fault (run `dynamodb_tables create`),
    not an absent item."""


class TooLarge(StorageError):
    """An item is over DynamoDB's 400 KB limit."""


class Unavailable(StorageError):
    """Throttled past the retries, or the endpoint is down or timing out: try again later."""

    def __init__(self, message: str, *, retry_after: int = 5, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class InvalidCursor(StorageError):
    """A page cursor that was tampered with, truncated, or belongs to another query."""


class InvalidValue(StorageError):
    """A value DynamoDB cannot store faithfully (NaN, infinity, nesting too deep, unsupported type)."""


class NotSupported(StorageError):
    """The endpoint does not implement this operation (dynalite has no TTL API, for example)."""
