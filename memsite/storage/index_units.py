"""Index write units counted from an item's images, for endpoints that do not report them.

AWS reports what every write costs in each global secondary index itself
(`ReturnConsumedCapacity=INDEXES`). dynalite, the local DynamoDB the project runs on, reports the
base table only, so on it the index units are counted here, by AWS's rules, from the item before
and after the write. This is a measuring aid for dynalite (the bench, `make run`'s ops page), turned
on by DYNAMODB_COUNT_INDEX_UNITS; it costs two extra reads per write and is never needed on AWS.

Per index, one item write costs:

- entering the index (its key attributes appear): one put of its projected size;
- leaving it (a key attribute goes, or the item is deleted): one delete of its projected size;
- a change of its index key: a delete and a put;
- staying with a change in a projected attribute: one write of the larger projected image;
- staying with no projected attribute changed: nothing.

An index entry holds the index's keys and the table's keys, plus every other attribute (ALL), the
`included` ones (INCLUDE) or none (KEYS_ONLY); its size is DynamoDB's size of those attributes (names
and values) plus 100 bytes of overhead, and a write of n bytes costs ceil(n / 1024) units.

The top half is pure; `IndexUnitCounter` at the bottom is the gateway's hook: it reads the images
with the bare client (consistent reads, not metered: they are not the application's) and hands the
counted units back in the shape AWS reports them.
"""

import json
import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from memsite.storage.codec import encode_item
from memsite.storage.tables import PK, SK, IndexSpec, TableSpec

logger = logging.getLogger(__name__)

Raw = dict[str, dict[str, Any]]
OVERHEAD_BYTES = 100  # DynamoDB's per-item overhead in an index (and in the table)
WRITE_UNIT_BYTES = 1024
_READ_ROUNDS = 8
_TYPES = frozenset({"S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"})


def attribute_size(value: Mapping[str, Any]) -> float:
    """DynamoDB's size of one encoded attribute value, as it bills it (strings and binaries in
    bytes, numbers about one byte per two digits plus one, three bytes per map or list and one per
    element)."""
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "B":
        return len(getattr(inner, "value", inner))
    if kind == "N":
        return len(inner.lstrip("-").replace(".", "")) / 2 + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(name.encode()) + attribute_size(member) + 1 for name, member in inner.items())
    if kind == "L":
        return 3 + sum(attribute_size(member) + 1 for member in inner)
    scalar = kind[0]  # a set: the sum of its members' sizes
    return sum(attribute_size({scalar: member}) for member in inner)


def item_size(item: Mapping[str, Mapping[str, Any]]) -> float:
    """An encoded item's size: attribute names and values."""
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())


def as_raw(item: Mapping[str, Any] | None) -> Raw | None:
    """An item as attribute values, whether it came encoded ({"S": ...} per attribute) or decoded."""
    if item is None:
        return None
    encoded = all(isinstance(v, Mapping) and len(v) == 1 and next(iter(v)) in _TYPES for v in item.values())
    return dict(item) if encoded else encode_item(item)


def projected(index: IndexSpec, item: Raw | None) -> Raw | None:
    """The item's entry in `index`, or None when the item is not in it (a key attribute missing)."""
    index_keys = [key for key in (index.partition_key, index.sort_key) if key]
    if item is None or any(key not in item for key in index_keys):
        return None
    if index.projection == "ALL":
        return dict(item)
    kept = {*index_keys, PK, SK, *(index.included if index.projection == "INCLUDE" else ())}
    return {name: value for name, value in item.items() if name in kept}


def entry_bytes(index: IndexSpec, item: Raw | None) -> float:
    """The bytes the item keeps in `index` (0 when it is not in it)."""
    entry = projected(index, item)
    return 0.0 if entry is None else item_size(entry) + OVERHEAD_BYTES


def units(entry: Raw) -> int:
    return math.ceil((item_size(entry) + OVERHEAD_BYTES) / WRITE_UNIT_BYTES)


def index_write_units(index: IndexSpec, before: Raw | None, after: Raw | None) -> int:
    """What one write that turns `before` into `after` (None: absent) costs in `index`."""
    old, new = projected(index, before), projected(index, after)
    if old is None or new is None:
        return (units(old) if old else 0) + (units(new) if new else 0)
    keys = [key for key in (index.partition_key, index.sort_key) if key]
    if any(old[key] != new[key] for key in keys):
        return units(old) + units(new)  # moved: a delete and a put
    return 0 if old == new else max(units(old), units(new))


def write_units_by_index(
    spec: TableSpec, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> dict[str, int]:
    """Per index of `spec`, the write units of one write from `before` to `after` (items encoded
    or decoded, None when absent); indexes the write costs nothing in are left out."""
    old, new = as_raw(before), as_raw(after)
    counted = {index.name: index_write_units(index, old, new) for index in spec.indexes}
    return {name: count for name, count in counted.items() if count}


def stored_bytes(spec: TableSpec, item: Mapping[str, Any]) -> float:
    """What the item occupies in storage: itself and its copy in each index it is in, each with
    DynamoDB's 100 bytes of overhead."""
    raw = as_raw(item) or {}
    return item_size(raw) + OVERHEAD_BYTES + sum(entry_bytes(index, raw) for index in spec.indexes)


# What a write names, and what the counting adds to the ConsumedCapacity it reports.

Key = tuple[str, str]


def _key_of(item: Mapping[str, Any]) -> Key:
    return json.dumps(item[PK], sort_keys=True, default=str), json.dumps(item[SK], sort_keys=True, default=str)


def written_keys(operation: str, params: Mapping[str, Any]) -> dict[str, list[Raw]]:
    """The keys a write operation writes or deletes, per table name."""
    if operation == "PutItem":
        item = params["Item"]
        return {params["TableName"]: [{PK: item[PK], SK: item[SK]}]}
    if operation in ("UpdateItem", "DeleteItem"):
        return {params["TableName"]: [dict(params["Key"])]}
    keys: dict[str, list[Raw]] = {}
    for table_name, requests in params.get("RequestItems", {}).items():
        for request in requests:
            item = request["PutRequest"]["Item"] if "PutRequest" in request else request["DeleteRequest"]["Key"]
            keys.setdefault(table_name, []).append({PK: item[PK], SK: item[SK]})
    return keys


def _entries(consumed: Any) -> list[Mapping[str, Any]]:
    return consumed if isinstance(consumed, list) else [consumed] if consumed else []


def reports_index_units(consumed: Any) -> bool:
    """Whether the endpoint itself reported index units (AWS does; dynalite never)."""
    return any("GlobalSecondaryIndexes" in entry for entry in _entries(consumed))


def with_index_units(consumed: Any, counted: Mapping[str, Mapping[str, int]]) -> Any:
    """`consumed` (one entry, or a list for batches) with the counted units per table and index
    added as AWS reports them: in each table's `GlobalSecondaryIndexes` and in its total."""
    if not any(counted.values()):
        return consumed
    entries = [dict(entry) for entry in _entries(consumed)]
    for table_name, by_index in counted.items():
        if not by_index:
            continue
        entry = next((e for e in entries if e.get("TableName") == table_name), None)
        if entry is None:
            entry = {"TableName": table_name, "CapacityUnits": 0.0}
            entries.append(entry)
        entry["GlobalSecondaryIndexes"] = {name: {"CapacityUnits": float(n)} for name, n in by_index.items()}
        entry["CapacityUnits"] = float(entry.get("CapacityUnits", 0.0)) + sum(by_index.values())
    if isinstance(consumed, list) or len(entries) != 1:
        return entries
    return entries[0]


@dataclass
class IndexUnitCounter:
    """Counts one write's index units: `before` reads the images the write will change, `after`
    reads them again and returns the ConsumedCapacity with the counted units added."""

    client: Any  # the bare boto3 client: these reads are the meter's, not the application's
    specs: Mapping[str, TableSpec]  # by physical table name: only tables with indexes
    keys: dict[str, list[Raw]] = field(default_factory=dict)
    images: dict[str, dict[Key, Raw]] = field(default_factory=dict)

    def before(self, operation: str, params: Mapping[str, Any]) -> bool:
        """Reads the before-images; False when the write touches no indexed table."""
        self.keys = {name: keys for name, keys in written_keys(operation, params).items() if name in self.specs}
        if not self.keys:
            return False
        self.images = self._read()
        return True

    def after(self, consumed: Any) -> Any:
        afters = self._read()
        counted: dict[str, dict[str, int]] = {}
        for table_name, keys in self.keys.items():
            total: dict[str, int] = {}
            for key in keys:
                before = self.images[table_name].get(_key_of(key))
                after = afters[table_name].get(_key_of(key))
                for name, count in write_units_by_index(self.specs[table_name], before, after).items():
                    total[name] = total.get(name, 0) + count
            counted[table_name] = total
        return with_index_units(consumed, counted)

    def _read(self) -> dict[str, dict[Key, Raw]]:
        found: dict[str, dict[Key, Raw]] = {}
        for table_name, keys in self.keys.items():
            if len(keys) == 1:
                response = self.client.get_item(TableName=table_name, Key=keys[0], ConsistentRead=True)
                items: Iterable[Raw] = [response["Item"]] if "Item" in response else []
            else:
                items = self._batch_get(table_name, keys)
            found[table_name] = {_key_of(item): item for item in items}
        return found

    def _batch_get(self, table_name: str, keys: list[Raw]) -> list[Raw]:
        found: list[Raw] = []
        unique = list({_key_of(key): key for key in keys}.values())
        for start in range(0, len(unique), 100):
            pending: Any = {table_name: {"Keys": unique[start : start + 100], "ConsistentRead": True}}
            for _ in range(_READ_ROUNDS):
                response = self.client.batch_get_item(RequestItems=pending)
                found += response.get("Responses", {}).get(table_name, [])
                pending = response.get("UnprocessedKeys")
                if not pending:
                    break
            else:
                raise RuntimeError(f"{table_name}: keys still unprocessed; this write's index units go uncounted")
        return found
