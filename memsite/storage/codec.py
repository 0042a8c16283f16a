"""The item codec: Python values and pydantic records <-> DynamoDB attribute values.

Floats travel as Decimal built from their shortest repr, so 0.1 is stored as "0.1",
not as 0.1000000000000000055511151231257827. Numbers come back as int when integral
and float otherwise (DynamoDB keeps one number type, so 2.0 returns as 2; a pydantic
field typed float turns it back). NaN and infinity have no DynamoDB form and are
refused with the path of the offending value.
"""

import decimal
import enum
import math
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from boto3.dynamodb.types import DYNAMODB_CONTEXT, TypeDeserializer, TypeSerializer
from pydantic import BaseModel
from ulid import ULID

from memsite.storage.errors import InvalidValue

# DynamoDB allows 32 levels of nesting in one attribute.
MAX_DEPTH = 32
_SMALLEST, _TOO_LARGE = Decimal("1E-130"), Decimal("1E+126")
# Wide enough for every digit of any number in DynamoDB's range, so normalizing never rounds.
_WIDE = decimal.Context(prec=300)


class _ExactDeserializer(TypeDeserializer):
    def _deserialize_n(self, value: str) -> Decimal:
        # The number as the store wrote it. boto3 would round it to 38 digits with every trap
        # on, refusing the positional form dynalite answers with (1e40 comes back as "1" and
        # forty zeros): a stored item that could never be read again.
        return Decimal(value)


_serializer = TypeSerializer()
_deserializer = _ExactDeserializer()

ModelT = TypeVar("ModelT", bound=BaseModel)


def _to_dynamo_value(value: Any, path: str, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise InvalidValue(f"{path}: nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, str):
        return _encodable(value, path)
    if isinstance(value, bool) or value is None or isinstance(value, bytes):
        return value
    if isinstance(value, int):
        return _in_range(Decimal(value), path)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidValue(f"{path}: {value} is not a finite number")
        return _in_range(Decimal(repr(value)), path)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise InvalidValue(f"{path}: {value} is not a finite number")
        return _in_range(value, path)
    if isinstance(value, datetime):
        return format_timestamp(value, path)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return _to_dynamo_value(value.value, path, depth)
    if isinstance(value, (uuid.UUID, ULID)):
        return str(value)
    if isinstance(value, Mapping):
        if not all(isinstance(k, str) for k in value):
            raise InvalidValue(f"{path}: object keys must be strings")
        return {_encodable(k, path): _to_dynamo_value(v, f"{path}.{k}", depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_dynamo_value(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(value)]
    if isinstance(value, (set, frozenset)) and value and all(isinstance(v, str) for v in value):
        return set(value)  # a string set (SS): counters use one to apply each change once
    raise InvalidValue(f"{path}: values of type {type(value).__name__} cannot be stored")


def _encodable(text: str, path: str) -> str:
    """JSON can carry lone surrogates ("\\ud800") that no UTF-8 store can hold."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidValue(f"{path}: text that is not valid Unicode (a lone surrogate)") from None
    return text


def _in_range(number: Decimal, path: str) -> Decimal:
    """DynamoDB numbers: 38 significant digits, magnitude 1e-130 up to (not including) 1e126.

    boto3's decimal context alone lets 1e126..1e127 and 1e-165..1e-130 through, which DynamoDB
    then refuses ("Number overflow"): a server error instead of the caller's 400.
    """
    if not number:
        return Decimal(0)  # -0.0 and 0E-200 are all zero; DynamoDB keeps one
    if not _SMALLEST <= number.copy_abs() < _TOO_LARGE:
        raise _out_of_range(number, path)
    try:
        # Trailing zeros are not digits DynamoDB counts: 10**40 (41 digits written out, as it reads
        # back) is 1E+40, one digit, and must be storable again.
        return DYNAMODB_CONTEXT.create_decimal(number.normalize(_WIDE))
    except decimal.DecimalException:
        raise _out_of_range(number, path) from None


def _out_of_range(number: Decimal, path: str) -> InvalidValue:
    return InvalidValue(f"{path}: {number} is outside DynamoDB's number range (38 digits, 1e-130..1e126)")


def format_timestamp(moment: datetime, path: str = "timestamp") -> str:
    """UTC ISO-8601 with milliseconds ("2026-11-27T09:30:00.123Z"): sorts as text, as sort keys need."""
    if moment.tzinfo is None:
        raise InvalidValue(f"{path}: datetime without a time zone")
    try:
        utc = moment.astimezone(UTC).replace(tzinfo=None)
    except OverflowError:
        raise InvalidValue(f"{path}: {moment.isoformat()} is outside the years 1 to 9999 in UTC") from None
    # isoformat, not strftime: on Linux strftime("%Y") writes the year 5 as "5", which sorts wrong.
    return utc.isoformat(timespec="milliseconds") + "Z"


def parse_timestamp(text: str) -> datetime:
    """The moment format_timestamp wrote (any ISO-8601 with a zone reads, "Z" included)."""
    return datetime.fromisoformat(text)


def _from_dynamo_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_dynamo_value(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return {_from_dynamo_value(v) for v in value}
    if hasattr(value, "value") and type(value).__name__ == "Binary":
        return bytes(value.value)
    return value


def encode_value(value: Any, path: str = "value") -> dict[str, Any]:
    """One Python value -> one attribute value ({"S": ...}, {"N": ...}, {"M": ...}, ...)."""
    return _serializer.serialize(_to_dynamo_value(value, path, 0))


def decode_value(attribute: Mapping[str, Any]) -> Any:
    return _from_dynamo_value(_deserializer.deserialize(attribute))


def encode_item(item: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """A dict of top-level attributes -> a DynamoDB item. None values are left out."""
    return {name: encode_value(value, name) for name, value in item.items() if value is not None}


def decode_item(item: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    return {name: decode_value(attribute) for name, attribute in item.items()}


def encode_model(record: BaseModel) -> dict[str, dict[str, Any]]:
    """A pydantic record -> a DynamoDB item.

    Dumped in Python mode, not JSON mode: JSON mode would turn NaN into null silently.
    Datetimes become UTC ISO-8601 strings with milliseconds.
    """
    return encode_item(record.model_dump(mode="python", exclude_none=True))


def decode_model(item: Mapping[str, Mapping[str, Any]], model: type[ModelT]) -> ModelT:
    return model.model_validate(decode_item(item))
