"""Properties of the item codec and the page cursors, checked by hypothesis: whatever the codec
accepts reads back equal (from a real dynalite table too), whatever DynamoDB cannot hold is
refused with InvalidValue naming its path, and a cursor that is not exactly as it was handed
out is refused with InvalidCursor."""

import itertools
import math
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum
from typing import Any, Literal

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from ulid import ULID

from memsite import storage
from memsite.storage import InvalidCursor, InvalidValue, SortCondition
from memsite.storage.codec import (
    decode_model,
    decode_value,
    encode_item,
    encode_model,
    encode_value,
    format_timestamp,
    parse_timestamp,
)
from memsite.storage.cursor import decode_cursor, encode_cursor
from memsite.storage.tables import AGENT_DECISIONS, AGENT_STATE

# DynamoDB's numbers: 38 significant digits, magnitude 1e-130 up to (not including) 1e126.
SMALLEST, TOO_LARGE = 1e-130, 1e126
FAST = settings(max_examples=100, deadline=None)
# Examples that go to dynalite: fewer, and the function-scoped `unique` is shared by all of them.
STORED = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def storable_float(x: float) -> bool:
    return x == 0 or SMALLEST <= abs(x) < TOO_LARGE


numbers = st.one_of(
    st.integers(min_value=-(10**38) + 1, max_value=10**38 - 1),
    st.floats(allow_nan=False, allow_infinity=False).filter(storable_float),
)
# Any text a JSON body can carry as valid Unicode (hypothesis leaves out lone surrogates).
texts = st.text(max_size=30)
json_values = st.recursive(
    st.none() | st.booleans() | numbers | texts,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(texts, children, max_size=4),
    max_leaves=25,
)


def same(got: Any, sent: Any) -> bool:
    """Equal, numbers as the decimal they were written as: a float reads back as that float, or
    as the int its shortest decimal spells when that is integral (2.0 as 2, 1e17 as
    100000000000000000): DynamoDB keeps one number type."""
    if isinstance(sent, float):
        return isinstance(got, int | float) and not isinstance(got, bool) and float(got) == sent
    if isinstance(sent, dict):
        return isinstance(got, dict) and got.keys() == sent.keys() and all(same(got[k], sent[k]) for k in sent)
    if isinstance(sent, list):
        return isinstance(got, list) and len(got) == len(sent) and all(map(same, got, sent))
    return type(got) is type(sent) and got == sent


# Round trips.


@FAST
@given(json_values)
def test_any_json_value_reads_back_equal(value):
    assert same(decode_value(encode_value(value)), value)


@FAST
@given(st.floats(allow_nan=False, allow_infinity=False).filter(storable_float))
def test_a_float_travels_as_its_shortest_decimal_and_reads_back_exactly(x):
    stored = encode_value(x)["N"]

    assert Decimal(stored) == Decimal(repr(x))
    assert same(decode_value({"N": stored}), x)


@FAST
@given(st.integers(min_value=-(10**38) + 1, max_value=10**38 - 1))
def test_an_integer_of_up_to_38_digits_reads_back_as_the_same_integer(n):
    back = decode_value(encode_value(n))

    assert back == n
    assert type(back) is int


@FAST
@given(
    st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(
        lambda d: d == 0 or (SMALLEST <= abs(d) < TOO_LARGE and len(d.as_tuple().digits) <= 38)
    )
)
def test_a_decimal_is_stored_without_losing_a_digit(d):
    assert Decimal(encode_value(d)["N"]) == d


@pytest.fixture
def probe(unique):
    """Items of this test's own partition in the session's agent_state table on dynalite."""
    table = storage.table(AGENT_STATE)
    counter = itertools.count()

    def put_and_read(value: Any) -> dict[str, Any]:
        """Stored, read back, and what was read stored again (a read-modify-write, as checkpoint
        restores and outcome corrections do): it must be storable and read back the same."""
        key = {"pk": f"agent:prop-{unique}", "sk": f"P#{next(counter)}"}
        table.put(key | {"value": value})
        first = table.get(key, consistent=True)
        table.put(first)
        again = table.get(key, consistent=True)
        assert again == first
        return again

    return put_and_read


@STORED
@given(json_values)
def test_any_json_value_stored_in_dynalite_reads_back_equal(probe, value):
    item = probe(value)

    assert same(item.get("value"), value)  # a top-level None is left out of the item


@STORED
@given(
    st.floats(min_value=1e37, max_value=TOO_LARGE, exclude_max=True) | st.floats(min_value=SMALLEST, max_value=1e-30)
)
def test_very_large_and_very_small_numbers_read_back_from_dynalite(probe, x):
    # dynalite answers them in positional notation, over 38 digits long: still the same number.
    assert same(probe({"x": x, "n": -x})["value"], {"x": x, "n": -x})


class Side(Enum):
    LONG = "long"
    SHORT = "short"


class Reading(BaseModel):
    decision_id: ULID
    timestamp: datetime
    confidence: float
    side: Side
    regime: Literal["trend", "range"]
    note: str | None = None
    sizes: list[int]
    context: dict[str, Any]


aware_datetimes = st.datetimes(
    min_value=datetime(1, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.just(UTC)
    | st.builds(lambda minutes: timezone(timedelta(minutes=minutes)), st.integers(-23 * 60, 23 * 60)),
)
readings = st.builds(
    Reading,
    decision_id=st.builds(ULID),
    timestamp=aware_datetimes,
    confidence=st.floats(allow_nan=False, allow_infinity=False).filter(storable_float),
    side=st.sampled_from(Side),
    regime=st.sampled_from(["trend", "range"]),
    note=st.none() | texts,
    sizes=st.lists(st.integers(-(10**20), 10**20), max_size=5),
    context=st.dictionaries(texts, json_values, max_size=4),
)


@FAST
@given(readings)
def test_a_pydantic_record_reads_back_equal_with_its_time_in_utc_milliseconds(record):
    back = decode_model(encode_model(record), Reading)

    at = record.timestamp.astimezone(UTC)
    assert back.timestamp == at.replace(microsecond=at.microsecond // 1000 * 1000)
    assert back.timestamp.tzinfo is not None
    assert same(back.model_dump(exclude={"timestamp"}), record.model_dump(exclude={"timestamp"}))


@FAST
@given(aware_datetimes, aware_datetimes)
def test_timestamps_sort_as_text_as_they_sort_as_moments(a, b):
    text_a, text_b = format_timestamp(a), format_timestamp(b)

    assert len(text_a) == len("2026-11-27T09:30:00.123Z")
    assert parse_timestamp(text_a) == a.astimezone(UTC).replace(microsecond=a.microsecond // 1000 * 1000)
    if text_a < text_b:
        assert a < b + timedelta(milliseconds=1)


# Refusals, each naming the path of the value.


def nested_at(path: list[str | int], leaf: Any) -> tuple[Any, str]:
    """`leaf` inside dicts (str steps) and lists (int steps: the leaf at that index), with the
    path the codec names it by."""
    value, named = leaf, "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in path)
    for step in reversed(path):
        value = [None] * step + [value] if isinstance(step, int) else {step: value}
    return value, "value" + named


paths = st.lists(st.integers(0, 3) | st.from_regex(r"[a-z_]{1,8}", fullmatch=True), max_size=6)


@FAST
@given(paths, st.sampled_from([math.nan, math.inf, -math.inf, Decimal("NaN"), Decimal("Infinity")]))
def test_nan_and_infinity_are_refused_naming_their_path(path, bad):
    value, named = nested_at(path, bad)

    with pytest.raises(InvalidValue) as refused:
        encode_value(value)

    assert refused.value.message.startswith(f"{named}: ")
    assert "not a finite number" in refused.value.message


out_of_range = st.one_of(
    st.floats(min_value=TOO_LARGE, allow_infinity=False),
    st.floats(min_value=5e-324, max_value=SMALLEST, exclude_max=True),
    st.integers(min_value=10**126, max_value=10**200),
).flatmap(lambda x: st.sampled_from([x, -x]))


@FAST
@given(paths, out_of_range)
def test_numbers_outside_dynamodb_range_are_refused_naming_their_path(path, bad):
    value, named = nested_at(path, bad)

    with pytest.raises(InvalidValue, match=r"outside DynamoDB's number range") as refused:
        encode_value(value)

    assert refused.value.message.startswith(f"{named}: ")


@FAST
@given(st.integers(min_value=39, max_value=60).flatmap(lambda digits: st.integers(10 ** (digits - 1), 10**digits - 1)))
def test_an_integer_with_more_than_38_significant_digits_is_refused(n):
    assume(n % 10)  # trailing zeros are not significant: 12 * 10**40 fits

    with pytest.raises(InvalidValue, match="outside DynamoDB's number range"):
        encode_value(n)


def test_integers_with_trailing_zeros_fit_and_read_back_whole(probe):
    assert probe({"big": 12 * 10**40, "float": 1e40})["value"] == {"big": 12 * 10**40, "float": 10**40}


@FAST
@given(paths, st.integers(33, 60))
def test_nesting_deeper_than_dynamodb_allows_is_refused(path, depth):
    deep: Any = 1
    for _ in range(depth):
        deep = {"d": deep}
    value, named = nested_at(path, deep)

    with pytest.raises(InvalidValue, match="nested deeper than 32 levels") as refused:
        encode_value(value)

    assert refused.value.message.startswith(named)


@FAST
@given(texts, st.integers(0xD800, 0xDFFF), texts)
def test_text_with_a_lone_surrogate_is_refused(before, surrogate, after):
    with pytest.raises(InvalidValue, match=r"^value\.note: text that is not valid Unicode"):
        encode_item({"value": {"note": before + chr(surrogate) + after}})


@FAST
@given(st.datetimes(timezones=st.none()))
def test_a_time_without_a_zone_is_refused(moment):
    with pytest.raises(InvalidValue, match="datetime without a time zone"):
        encode_item({"at": moment})


def test_a_time_that_leaves_the_calendar_in_utc_is_refused():
    first_hour = datetime(1, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=5)))

    with pytest.raises(InvalidValue, match=r"^at: .* outside the years 1 to 9999"):
        encode_item({"at": first_hour})


# Cursors.

# Shaped like what a cursor holds: a LastEvaluatedKey, or a partition position and one.
key_values = st.one_of(st.none(), st.booleans(), numbers, texts)
cursor_states = st.dictionaries(
    texts, key_values | st.dictionaries(texts, key_values, max_size=3), min_size=1, max_size=4
)
fingerprints = st.text(alphabet="0123456789abcdef", min_size=16, max_size=16)
SECRET = "test-only-cursor-secret"


def tampered(cursor: str) -> st.SearchStrategy[str]:
    """What a client might send instead of `cursor`: it with one or more bits flipped, cut
    short, with something appended or inserted, or any text at all. Never the cursor itself
    nor the empty string (which means "the first page")."""
    position = st.integers(0, len(cursor) - 1)

    def flip(spots: list[tuple[int, int]]) -> str:
        chars = list(cursor)
        for at, bit in spots:
            chars[at] = chr(ord(chars[at]) ^ (1 << bit))
        return "".join(chars)

    return st.one_of(
        st.lists(st.tuples(position, st.integers(0, 6)), min_size=1, max_size=4).map(flip),
        st.integers(1, len(cursor) - 1).map(lambda keep: cursor[:keep]),
        st.integers(1, len(cursor) - 1).map(lambda drop: cursor[drop:]),
        st.text(min_size=1, max_size=20).map(lambda extra: cursor + extra),
        st.tuples(position, st.text(min_size=1, max_size=5)).map(lambda p: cursor[: p[0]] + p[1] + cursor[p[0] :]),
        st.text(min_size=1, max_size=200),
    ).filter(lambda text: text not in (cursor, ""))


@FAST
@given(cursor_states, fingerprints)
def test_a_cursor_decodes_to_the_position_it_was_made_from(state, fingerprint):
    cursor = encode_cursor(state, fingerprint=fingerprint, secret=SECRET)

    assert decode_cursor(cursor, fingerprint=fingerprint, secret=SECRET) == state


@FAST
@given(st.data(), cursor_states, fingerprints)
def test_any_tampered_cursor_is_refused(data, state, fingerprint):
    cursor = encode_cursor(state, fingerprint=fingerprint, secret=SECRET)
    sent = data.draw(tampered(cursor))

    with pytest.raises(InvalidCursor):
        decode_cursor(sent, fingerprint=fingerprint, secret=SECRET)


@FAST
@given(cursor_states, fingerprints, fingerprints)
def test_a_cursor_of_another_query_is_refused(state, made_for, used_for):
    assume(made_for != used_for)
    cursor = encode_cursor(state, fingerprint=made_for, secret=SECRET)

    with pytest.raises(InvalidCursor, match="different query"):
        decode_cursor(cursor, fingerprint=used_for, secret=SECRET)


@FAST
@given(cursor_states, fingerprints)
def test_a_cursor_made_with_another_secret_is_refused(state, fingerprint):
    cursor = encode_cursor(state, fingerprint=fingerprint, secret="another server's secret")

    with pytest.raises(InvalidCursor, match="altered, truncated or made by another server"):
        decode_cursor(cursor, fingerprint=fingerprint, secret=SECRET)


@pytest.fixture
def timeline(unique) -> tuple[storage.Table, str, list[dict]]:
    """Nine decisions in one partition of the session's agent_decisions table, oldest first,
    each also in two day partitions of the by_day index."""
    table = storage.table(AGENT_DECISIONS)
    pk = f"agent:prop-{unique}#decision#SIGNAL_GENERATION"
    items = [
        {
            "pk": pk,
            "sk": f"2026-11-27T09:30:{n:02d}.000Z#{unique}{n}",
            "day_pk": f"day#prop-{unique}-{n % 2}",
            "day_sk": f"2026-11-27T09:30:{n:02d}.000Z#{unique}{n}",
            "n": n,
            "side": "long" if n % 3 else "short",
        }
        for n in range(9)
    ]
    table.batch_write(items)
    return table, pk, items


@STORED
@given(limit=st.integers(1, 10), newest_first=st.booleans())
def test_following_the_cursors_reads_every_item_once_in_order(timeline, limit, newest_first):
    table, pk, items = timeline
    seen, cursor = [], None
    for _ in range(len(items) + 1):
        page = table.query_page(pk, limit=limit, cursor=cursor, newest_first=newest_first, consistent=True)
        seen += [item["n"] for item in page.items]
        if not (cursor := page.next_cursor):
            break

    assert seen == sorted(range(len(items)), reverse=newest_first)


@STORED
@given(st.data())
def test_any_tampered_cursor_of_a_real_page_is_refused(timeline, data):
    table, pk, _ = timeline
    cursor = table.query_page(pk, limit=2, consistent=True).next_cursor
    assert cursor

    with pytest.raises(InvalidCursor):
        table.query_page(pk, limit=2, cursor=data.draw(tampered(cursor)), consistent=True)


def _queries(table: storage.Table, pk: str, unique: str) -> dict[str, Any]:
    """Queries over the same items that differ in one thing each; `run(cursor)` reads a page."""
    days = [f"day#prop-{unique}-0", f"day#prop-{unique}-1"]
    page = table.query_page
    return {
        "partition": lambda c: page(pk, limit=2, cursor=c),
        "oldest first": lambda c: page(pk, limit=2, cursor=c, newest_first=False),
        "sort window": lambda c: page(pk, limit=2, cursor=c, sort=SortCondition.begins_with("2026-11-27T09")),
        "filter": lambda c: page(pk, limit=2, cursor=c, where={"side": "long"}),
        "other filter value": lambda c: page(pk, limit=2, cursor=c, where={"side": "short"}),
        "index": lambda c: page(days[0], index="day_time", limit=2, cursor=c),
        "partitions": lambda c: table.query_partitions(days, index="day_time", limit=2, cursor=c),
        "other partitions": lambda c: table.query_partitions(days[::-1], index="day_time", limit=2, cursor=c),
        "other table": lambda c: storage.table(AGENT_STATE).query_page(pk, limit=2, cursor=c),
    }


def test_a_cursor_is_refused_by_every_query_but_its_own(timeline, unique):
    table, pk, _ = timeline
    queries = _queries(table, pk, unique)
    cursors = {name: run(None).next_cursor for name, run in queries.items() if name != "other table"}
    assert all(cursors.values()), "every query has a second page"

    for (made_by, cursor), (used_by, run) in itertools.product(cursors.items(), queries.items()):
        if made_by == used_by:
            run(cursor)
            continue
        with pytest.raises(InvalidCursor, match="different query"):
            run(cursor)
