"""Bringing existing tables up to their specs: indexes added to a spec after the table was made.

AWS and moto add a global secondary index to a live table (UpdateTable, then a backfill).
dynalite cannot (it refuses the request, or would accept it and add nothing). There the table is
rebuilt by copying:
into a side table made from the new spec, then back into the table re-created from it. At every
moment the items are in at least one of the two tables, and a rebuild cut short finishes on the
next run. The copies Scan whole tables: this runs from `dynamodb_tables create` (and `make run`'s
bootstrap), never on a request path.
"""

import time
from collections.abc import Callable, Iterator
from typing import Any

from memsite.storage import batch
from memsite.storage.errors import StorageError, TableMissing
from memsite.storage.gateway import Gateway
from memsite.storage.tables import IndexSpec, TableSpec

Report = Callable[[str], None]
SIDE_SUFFIX = "__rebuild"


def _describe(gateway: Gateway, name: str) -> dict[str, Any] | None:
    try:
        return gateway.call("DescribeTable", TableName=name)["Table"]
    except TableMissing:
        return None


def missing_indexes(gateway: Gateway, spec: TableSpec) -> list[IndexSpec]:
    table = _describe(gateway, spec.physical_name(gateway.config.table_prefix)) or {}
    present = {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])}
    return [index for index in spec.indexes if index.name not in present]


def _index_params(index: IndexSpec) -> dict[str, Any]:
    key_schema = [{"AttributeName": index.partition_key, "KeyType": "HASH"}]
    if index.sort_key:
        key_schema.append({"AttributeName": index.sort_key, "KeyType": "RANGE"})
    return {"IndexName": index.name, "KeySchema": key_schema, "Projection": {"ProjectionType": index.projection}}


def add_missing_indexes(
    gateway: Gateway, spec: TableSpec, *, create: Callable[[str], None], wait: Callable[[str], None], report: Report
) -> None:
    name = spec.physical_name(gateway.config.table_prefix)
    for index in missing_indexes(gateway, spec):
        report(f"{name}: adding index {index.name}")
        definitions = [{"AttributeName": a, "AttributeType": t} for a, t in spec.attribute_definitions().items()]
        try:
            gateway.call(
                "UpdateTable",
                TableName=name,
                AttributeDefinitions=definitions,
                GlobalSecondaryIndexUpdates=[{"Create": _index_params(index)}],
            )
        except StorageError:
            if gateway.config.backend == "aws":
                raise
            break  # dynalite refuses the request outright; copying below is the way
        wait(name)  # AWS adds one index at a time, each after its backfill
    if missing_indexes(gateway, spec):
        if gateway.config.backend == "aws":
            raise StorageError(f"{name}: indexes still missing after UpdateTable; not rebuilding a table on AWS")
        report(f"{name}: this endpoint cannot add indexes to a table; rebuilding it by copying its items")
        rebuild(gateway, spec, create=create, wait=wait, report=report)


def rebuild(
    gateway: Gateway, spec: TableSpec, *, create: Callable[[str], None], wait: Callable[[str], None], report: Report
) -> None:
    name = spec.physical_name(gateway.config.table_prefix)
    side = name + SIDE_SUFFIX
    if _describe(gateway, side) is None:
        create(side)
        wait(side)
    copied = _copy(gateway, name, side)
    report(f"{name}: {copied} items copied aside; re-creating the table")
    _delete(gateway, name)
    finish_rebuild(gateway, spec, create=create, wait=wait, report=report)


def finish_rebuild(
    gateway: Gateway, spec: TableSpec, *, create: Callable[[str], None], wait: Callable[[str], None], report: Report
) -> bool:
    """Copy a side table (left by this or an interrupted rebuild) back; False if there is none."""
    name = spec.physical_name(gateway.config.table_prefix)
    side = name + SIDE_SUFFIX
    if _describe(gateway, side) is None:
        return False
    if _describe(gateway, name) is None:
        create(name)
    wait(name)
    copied = _copy(gateway, side, name)
    _delete(gateway, side)
    report(f"{name}: rebuilt with {copied} items and every index of its spec")
    return True


def _scan(gateway: Gateway, name: str) -> Iterator[dict[str, Any]]:
    params: dict[str, Any] = {"TableName": name}
    while True:
        response = gateway.call("Scan", **params)
        yield from response.get("Items", [])
        if "LastEvaluatedKey" not in response:
            return
        params["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _copy(gateway: Gateway, source: str, target: str) -> int:
    """Raw items, as scanned: no decoding, so every attribute arrives exactly as it was."""
    return batch.write_all(gateway, target, _scan(gateway, source))


def _delete(gateway: Gateway, name: str, timeout: float = 60.0) -> None:
    if _describe(gateway, name) is None:
        return
    gateway.call("DeleteTable", TableName=name)
    deadline = time.monotonic() + timeout
    while _describe(gateway, name) is not None and time.monotonic() < deadline:
        time.sleep(0.1)
