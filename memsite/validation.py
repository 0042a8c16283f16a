"""Pydantic at the edges: a record validated from a request body, or a 400 naming the field."""

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from memsite.errors import ValidationFailed
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
