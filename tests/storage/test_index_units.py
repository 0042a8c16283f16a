"""Index write units by AWS's rules, hand-computed: sizes are attribute names plus values in
bytes, plus 100 bytes of overhead per index entry; a write costs ceil(bytes / 1024) units."""

from decimal import Decimal

import pytest

from memsite.storage import Gateway, Table
from memsite.storage.index_units import (
    attribute_size,
    index_write_units,
    stored_bytes,
    with_index_units,
    write_units_by_index,
    written_keys,
)
from memsite.storage.tables import AGENT_DECISIONS, SK, IndexSpec, TableSpec
from tests.servers import gateway_for

EVERYTHING = IndexSpec(name="everything", partition_key="a_pk", sort_key=SK, purpose="ALL")
KEYS = IndexSpec(name="keys", partition_key="k_pk", sort_key="k_sk", purpose="KEYS_ONLY", projection="KEYS_ONLY")
SOME = IndexSpec(
    name="some", partition_key="i_pk", sort_key=SK, purpose="INCLUDE", projection="INCLUDE", included=("status",)
)
SPARSE = IndexSpec(name="sparse", partition_key="s_pk", sort_key="s_sk", purpose="sparse", sparse=True)
SPEC = TableSpec("t", "test", "pk", "sk", indexes=(EVERYTHING, KEYS, SOME, SPARSE))

# pk 2+1, sk 2+1: 6 bytes of table keys
BASE = {"pk": "p", "sk": "s"}


def test_an_item_put_into_an_all_index_costs_its_whole_size():
    item = BASE | {"a_pk": "a", "blob": "x" * 1000}  # 6 + (4+1) + (4+1000) = 1015, +100 = 1115 bytes

    assert write_units_by_index(SPEC, None, item) == {"everything": 2}


def test_a_keys_only_index_costs_its_keys_and_the_tables_keys_only():
    item = BASE | {"k_pk": "k", "k_sk": "1", "blob": "x" * 5000}  # 6 + 5 + 5 = 16, +100 = 116 bytes

    assert write_units_by_index(SPEC, None, item) == {"keys": 1}


def test_an_include_index_costs_its_keys_and_the_included_attributes():
    # 6 + i_pk (4+1) + status (6+1000) = 1017, +100 = 1117 bytes; the 5000-byte blob stays out
    item = BASE | {"i_pk": "i", "status": "o" * 1000, "blob": "x" * 5000}

    assert write_units_by_index(SPEC, None, item) == {"some": 2}


def test_a_sparse_index_is_written_when_the_item_enters_it_and_again_when_it_leaves():
    outside = BASE | {"note": "n" * 500}
    inside = outside | {"s_pk": "s", "s_sk": "t"}  # 6 + (4+500) + 5 + 5 = 520, +100 = 620 bytes

    assert write_units_by_index(SPEC, outside, inside) == {"sparse": 1}
    assert write_units_by_index(SPEC, inside, outside) == {"sparse": 1}
    assert write_units_by_index(SPEC, inside, None) == {"sparse": 1}  # the item deleted


def test_an_item_missing_one_key_attribute_is_not_in_the_index():
    assert write_units_by_index(SPEC, None, BASE | {"s_pk": "s"}) == {}


def test_a_change_of_the_index_key_is_a_delete_and_a_put():
    before = BASE | {"a_pk": "a", "blob": "x" * 1000}  # 1115 bytes: 2 units
    after = before | {"a_pk": "b"}

    assert index_write_units(EVERYTHING, _raw(before), _raw(after)) == 2 + 2


def test_an_update_of_a_projected_attribute_costs_the_larger_image_once():
    before = BASE | {"a_pk": "a", "blob": "x" * 100}  # 6 + 5 + 104 = 115 + 100: 1 unit
    after = before | {"blob": "x" * 1000}  # 1115 bytes: 2 units

    assert write_units_by_index(SPEC, before, after) == {"everything": 2}
    assert write_units_by_index(SPEC, after, before) == {"everything": 2}


def test_an_update_of_attributes_an_index_does_not_project_costs_it_nothing():
    before = BASE | {"k_pk": "k", "k_sk": "1", "i_pk": "i", "status": "OPEN", "blob": "x"}
    after = before | {"blob": "y" * 3000}

    assert write_units_by_index(SPEC, before, after) == {}


def test_an_included_attribute_changing_costs_one_write():
    before = BASE | {"i_pk": "i", "status": "OPEN"}
    after = before | {"status": "DONE"}

    assert write_units_by_index(SPEC, before, after) == {"some": 1}


def test_rewriting_an_item_unchanged_costs_no_index_anything():
    item = BASE | {"a_pk": "a", "k_pk": "k", "k_sk": "1", "i_pk": "i", "s_pk": "s", "s_sk": "t"}

    assert write_units_by_index(SPEC, item, dict(item)) == {}


def test_encoded_and_decoded_items_cost_the_same():
    item = BASE | {"a_pk": "a", "n": Decimal("12.5"), "tags": {"x", "y"}, "nested": {"list": [1, "two"]}}
    encoded = {
        "pk": {"S": "p"},
        "sk": {"S": "s"},
        "a_pk": {"S": "a"},
        "n": {"N": "12.5"},
        "tags": {"SS": ["x", "y"]},
        "nested": {"M": {"list": {"L": [{"N": "1"}, {"S": "two"}]}}},
    }

    assert write_units_by_index(SPEC, None, item) == write_units_by_index(SPEC, None, encoded) == {"everything": 1}


def test_attribute_sizes_follow_dynamodbs_rules():
    assert attribute_size({"S": "héllo"}) == 6  # UTF-8 bytes
    assert attribute_size({"N": "-123.45"}) == 5 / 2 + 1  # about a byte per two digits, plus one
    assert attribute_size({"BOOL": True}) == attribute_size({"NULL": True}) == 1
    assert attribute_size({"B": b"\x00\x01\x02"}) == 3
    assert attribute_size({"L": [{"S": "ab"}, {"BOOL": False}]}) == 3 + (2 + 1) + (1 + 1)
    assert attribute_size({"M": {"k": {"S": "ab"}}}) == 3 + (1 + 2 + 1)
    assert attribute_size({"SS": ["ab", "c"]}) == 3
    assert attribute_size({"NS": ["12", "3"]}) == 2 + 1.5


def test_stored_bytes_count_the_item_and_each_index_copy_with_their_overhead():
    item = BASE | {"a_pk": "a", "k_pk": "k", "k_sk": "1", "blob": "x" * 100}  # 6 + 5 + 10 + 104 = 125

    everything = 125 + 100  # ALL: the whole item
    keys = 6 + 10 + 100  # KEYS_ONLY: its keys and the table's
    assert stored_bytes(SPEC, item) == (125 + 100) + everything + keys


def test_a_batch_names_the_keys_it_puts_and_deletes_per_table():
    params = {
        "RequestItems": {
            "one": [{"PutRequest": {"Item": {"pk": {"S": "a"}, "sk": {"S": "1"}, "x": {"S": "y"}}}}],
            "two": [{"DeleteRequest": {"Key": {"pk": {"S": "b"}, "sk": {"S": "2"}}}}],
        }
    }

    assert written_keys("BatchWriteItem", params) == {
        "one": [{"pk": {"S": "a"}, "sk": {"S": "1"}}],
        "two": [{"pk": {"S": "b"}, "sk": {"S": "2"}}],
    }


def test_counted_units_are_reported_the_way_aws_reports_them():
    consumed = {"TableName": "t", "CapacityUnits": 1.0, "Table": {"CapacityUnits": 1.0}}

    reported = with_index_units(consumed, {"t": {"everything": 2, "keys": 1}})

    assert reported["CapacityUnits"] == 4.0
    assert reported["Table"] == {"CapacityUnits": 1.0}
    assert reported["GlobalSecondaryIndexes"] == {"everything": {"CapacityUnits": 2.0}, "keys": {"CapacityUnits": 1.0}}
    assert with_index_units([consumed], {"t": {"keys": 1}})[0]["CapacityUnits"] == 2.0  # a batch's list
    assert with_index_units(consumed, {"t": {}}) is consumed


@pytest.mark.parametrize("counting", [True, False])
def test_the_gateway_counts_index_units_on_dynalite_only_when_asked(dynalite, unique, counting):
    from memsite import storage

    config = gateway_for(dynalite.endpoint_url, storage.gateway().config.table_prefix).config
    gateway = Gateway(config, count_index_units=counting)
    decisions = Table(AGENT_DECISIONS, gateway)
    first_index = AGENT_DECISIONS.indexes[0]  # projects ALL: every write of the item lands in it
    item = {"pk": f"agent:{unique}#decision#X", SK: f"2026-11-27T10:00:00.000Z#{unique}", "body": "b" * 1500}
    item |= {key: f"{key}:{unique}" for key in (first_index.partition_key, first_index.sort_key) if key != SK}
    expected = sum(write_units_by_index(AGENT_DECISIONS, None, item).values())
    before = gateway.meter.snapshot()

    decisions.put(item)
    after_put = gateway.meter.snapshot()
    decisions.put(item)  # the same again: the index entry does not change
    used = gateway.meter.snapshot().minus(before)

    usage = used.tables[decisions.name]
    assert first_index.projection == "ALL"
    assert expected >= 2
    assert usage.index_write_units == (expected if counting else 0)
    assert after_put.minus(before).write_units == 2 + (expected if counting else 0)  # 1,5 KB: 2 base units
    assert used.operations == {"PutItem": 2}  # the counter's own reads are not metered


def _raw(item: dict) -> dict:
    from memsite.storage.codec import encode_item

    return encode_item(item)


class ReportingEndpoint:
    """Stands in for AWS: reports index units itself, and counts the reads it is asked for."""

    def __init__(self) -> None:
        self.reads = 0

    def get_item(self, **params):
        self.reads += 1
        return {}

    def put_item(self, **params):
        table = params["TableName"]
        return {"ConsumedCapacity": {"TableName": table, "CapacityUnits": 2.0, "GlobalSecondaryIndexes": {}}}


def test_the_gateway_stops_reading_once_the_endpoint_reports_index_units_itself(unique):
    from memsite import storage

    endpoint = ReportingEndpoint()
    gateway = Gateway(storage.gateway().config, client=endpoint, count_index_units=True)
    decisions = Table(AGENT_DECISIONS, gateway)
    item = {"pk": f"agent:{unique}#decision#X", SK: f"2026-11-27T10:00:00.000Z#{unique}"}

    decisions.put(item)
    decisions.put(item)

    assert endpoint.reads == 1  # before the first write, which showed the endpoint counts them
    assert gateway.meter.snapshot().write_units == 4.0
