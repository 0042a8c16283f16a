from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from pydantic import BaseModel
from ulid import ULID

from memsite.storage.codec import (
    decode_item,
    decode_model,
    encode_item,
    encode_model,
    encode_value,
    format_timestamp,
)
from memsite.storage.errors import InvalidValue


class Reading(BaseModel):
    decision_id: ULID
    timestamp: datetime
    confidence: float
    context: dict


def test_a_float_is_stored_as_its_shortest_decimal_form():
    assert encode_value(0.1) == {"N": "0.1"}
    assert encode_value(64123.5) == {"N": "64123.5"}


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf"), Decimal("NaN")])
def test_it_refuses_non_finite_numbers_naming_the_path(bad):
    with pytest.raises(InvalidValue, match=r"context\.market\.price: .* not a finite number"):
        encode_item({"context": {"market": {"price": bad}}})


def test_it_refuses_nan_inside_a_pydantic_record_instead_of_storing_null():
    record = Reading(decision_id=ULID(), timestamp=datetime.now(UTC), confidence=float("nan"), context={})

    with pytest.raises(InvalidValue, match="confidence"):
        encode_model(record)


def test_it_refuses_nesting_deeper_than_dynamodb_allows():
    deep: dict = {}
    node = deep
    for _ in range(40):
        node["x"] = {}
        node = node["x"]

    with pytest.raises(InvalidValue, match="nested deeper than 32"):
        encode_item({"context": deep})


def test_it_refuses_types_it_cannot_store():
    with pytest.raises(InvalidValue, match="reasoning: values of type object"):
        encode_item({"reasoning": object()})


def test_a_record_round_trips_through_an_item():
    record = Reading(
        decision_id=ULID(),
        timestamp=datetime(2026, 11, 27, 9, 30, 0, 123456, tzinfo=UTC),
        confidence=0.85,
        context={"whale": True, "volume": [1.5, 2], "note": None},
    )

    item = encode_model(record)
    back = decode_model(item, Reading)

    assert item["timestamp"] == {"S": "2026-11-27T09:30:00.123Z"}
    assert back.decision_id == record.decision_id
    assert back.confidence == 0.85
    assert back.context == {"whale": True, "volume": [1.5, 2], "note": None}
    assert back.timestamp == datetime(2026, 11, 27, 9, 30, 0, 123000, tzinfo=UTC)


def test_timestamps_are_utc_with_milliseconds_and_sort_as_text():
    east = timezone(timedelta(hours=3))
    earlier = format_timestamp(datetime(2026, 11, 27, 12, 0, 0, 999999, tzinfo=east))
    later = format_timestamp(datetime(2026, 11, 27, 9, 0, 1, tzinfo=UTC))

    assert earlier == "2026-11-27T09:00:00.999Z"
    assert earlier < later


def test_a_naive_datetime_is_refused():
    with pytest.raises(InvalidValue, match="without a time zone"):
        format_timestamp(datetime(2026, 11, 27))


def test_none_attributes_are_left_out_of_the_item():
    assert decode_item(encode_item({"pk": "a", "outcome": None})) == {"pk": "a"}


@pytest.mark.parametrize("number", [10**40 + 1, 1e-200, 1e200, Decimal("1." + "1" * 40)])
def test_numbers_outside_dynamodbs_range_are_refused_naming_the_path(number):
    with pytest.raises(InvalidValue, match=r"metrics\.pnl: .* outside DynamoDB's number range"):
        encode_item({"metrics": {"pnl": number}})


def test_object_keys_must_be_strings():
    with pytest.raises(InvalidValue, match="object keys must be strings"):
        encode_item({"context": {1: "a"}})


def test_booleans_integers_bytes_and_string_sets_keep_their_types():
    item = {"flag": True, "count": 1, "zero": 0, "raw": b"\x00\x01", "tags": {"a", "b"}}

    back = decode_item(encode_item(item))

    assert back == item
    assert type(back["flag"]) is bool
    assert type(back["count"]) is int
