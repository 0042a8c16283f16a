"""Pydantic at the edges: a record validated from a request body, or a 400 naming the field."""

import json
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from memsite import storage
from memsite.errors import PayloadTooLarge, ValidationFailed
from memsite.storage import InvalidValue

ModelT = TypeVar("ModelT", bound=BaseModel)


def validation_failed(error: ValidationError, prefix: str = "") -> ValidationFailed:
    fields = {
        (prefix + ".".join(str(part) for part in e["loc"])) or "body": e["msg"].removeprefix("Value error, ")
        for e in error.errors()
    }
    first, message = next(iter(fields.items()))
    return ValidationFailed(f"{first}: {message}", fields=fields)


def validated(model: type[ModelT], raw: Any) -> ModelT:
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        raise validation_failed(error) from None


def unstorable(error: InvalidValue) -> ValidationFailed:
    """A value DynamoDB cannot hold (NaN, a number out of range, a lone surrogate) is the
    caller's 400, naming the value's path, never a 500."""
    path = error.message.split(":", 1)[0]
    return ValidationFailed(error.message, fields={path: error.message.split(": ", 1)[-1]})


def json_size(value: Any) -> int:
    """Bytes of the value as compact JSON: what every size limit of the API counts."""
    return len(json.dumps(value, separators=(",", ":"), default=str).encode())


def size_checked(value: Any, limit: int, what: str) -> None:
    """PayloadTooLarge (413) naming `what`, its size and the limit, when the value is over it."""
    if (size := json_size(value)) > limit:
        raise PayloadTooLarge(f"{what} is {size} bytes; the limit is {limit} bytes")


def storable(value: Any, path: str) -> None:
    """The caller's 400 naming the path when DynamoDB could not hold the value (NaN, a number
    out of range, nesting past 32 levels, a lone surrogate)."""
    try:
        storage.codec.encode_value(value, path)
    except InvalidValue as error:
        raise unstorable(error) from None
