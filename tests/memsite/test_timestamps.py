from datetime import UTC, datetime, timedelta, timezone

from pydantic import BaseModel

from memsite.timestamps import Timestamp


class Stamped(BaseModel):
    at: Timestamp


def test_times_leave_with_three_decimals_so_text_order_is_time_order():
    whole = datetime(2026, 11, 27, 23, 16, 42, tzinfo=UTC)
    moments = [whole - timedelta(milliseconds=1), whole, whole + timedelta(milliseconds=17)]

    wire = [Stamped(at=moment).model_dump(mode="json")["at"] for moment in moments]

    assert wire == ["2026-11-27T23:16:41.999Z", "2026-11-27T23:16:42.000Z", "2026-11-27T23:16:42.017Z"]
    assert wire == sorted(wire)


def test_other_zones_are_written_in_utc_and_read_back_as_the_same_moment():
    east = timezone(timedelta(hours=3))
    moment = datetime(2026, 11, 28, 2, 0, 0, 250000, tzinfo=east)

    wire = Stamped(at=moment).model_dump_json()

    assert '"2026-11-27T23:00:00.250Z"' in wire
    assert Stamped.model_validate_json(wire).at == moment


def test_the_schema_still_says_date_time():
    assert Stamped.model_json_schema(mode="serialization")["properties"]["at"]["format"] == "date-time"
