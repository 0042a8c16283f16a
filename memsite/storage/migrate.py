"""Bringing existing tables up to their specs: indexes a spec gained or dropped since the table
was made.

AWS and moto add or drop a global secondary index of a live table (UpdateTable, one index per
call, each waited for until the table is ACTIVE again: AWS allows one index change at a time).
dynalite cannot (it refuses the request, or would accept it and change nothing). There the table
is rebuilt by copying:
into a side table made from the new spec, then back into the table re-created from it. At every
moment the items are in at least one of the two tables, and a rebuild cut short finishes on the
next run. The copies Scan whole tables: this runs from `dynamodb_tables create` (and `make run`'s
bootstrap), never on a request path.
"""

import time
from collections.abc import Callable, Iterator
from typing import Any

from memsite.storage import batch
from memsite.storage.codec import decode_item, encode_item
from memsite.storage.errors import Conflict, StorageError, TableMissing
from memsite.storage.gateway import Gateway
from memsite.storage.tables import IndexSpec, TableSpec

Report = Callable[[str], None]
SIDE_SUFFIX = "__rebuild"


def _describe(gateway: Gateway, name: str) -> dict[str, Any] | None:
    try:
        return gateway.call("DescribeTable", TableName=name)["Table"]
    except TableMissing:
        return None


def _present_indexes(gateway: Gateway, spec: TableSpec) -> set[str]:
    table = _describe(gateway, spec.physical_name(gateway.config.table_prefix)) or {}
    return {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])}


def missing_indexes(gateway: Gateway, spec: TableSpec) -> list[IndexSpec]:
    present = _present_indexes(gateway, spec)
    return [index for index in spec.indexes if index.name not in present]


def extra_indexes(gateway: Gateway, spec: TableSpec) -> list[str]:
    """Indexes the table has and its spec no longer names (an index's keys or projection cannot
    change in place: a changed index is a new name, and the old one goes)."""
    wanted = {index.name for index in spec.indexes}
    return sorted(_present_indexes(gateway, spec) - wanted)


def _index_params(index: IndexSpec) -> dict[str, Any]:
    return {"IndexName": index.name, "KeySchema": index.key_schema(), "Projection": index.projection_params()}


def reconcile_indexes(
    gateway: Gateway, spec: TableSpec, *, create: Callable[[str], None], wait: Callable[[str], None], report: Report
) -> None:
    """Add the indexes the spec names and the table lacks, then drop those it no longer names,
    one UpdateTable at a time. New indexes come first, so a reader never lacks the index it
    queries while the old one goes."""
    name = spec.physical_name(gateway.config.table_prefix)
    definitions = [{"AttributeName": a, "AttributeType": t} for a, t in spec.attribute_definitions().items()]
    changes = [(f"adding index {i.name}", {"Create": _index_params(i)}) for i in missing_indexes(gateway, spec)]
    changes += [(f"dropping index {i}", {"Delete": {"IndexName": i}}) for i in extra_indexes(gateway, spec)]
    for what, change in changes:
        report(f"{name}: {what}")
        params: dict[str, Any] = {"TableName": name, "GlobalSecondaryIndexUpdates": [change]}
        if "Create" in change:
            params["AttributeDefinitions"] = definitions
        try:
            gateway.call("UpdateTable", **params)
        except StorageError:
            if gateway.config.backend == "aws":
                raise
            break  # dynalite refuses the request outright; copying below is the way
        wait(name)  # one index change at a time, each after its backfill or removal
    if missing_indexes(gateway, spec) or extra_indexes(gateway, spec):
        if gateway.config.backend == "aws":
            raise StorageError(f"{name}: indexes still differ from the spec after UpdateTable; not rebuilding on AWS")
        report(f"{name}: this endpoint cannot change a table's indexes; rebuilding it by copying its items")
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


def _rewrite(gateway: Gateway, table: str, raw: dict[str, Any], upgrade: Callable) -> int:
    """Put the upgraded item only if nobody changed it since it was read (its version, or its
    absence of one): a write that came meanwhile is read again and upgraded in turn."""
    for _ in range(5):
        new = upgrade(decode_item(raw))
        if new is None:
            return 0
        condition: dict[str, Any] = {"ExpressionAttributeNames": {"#v": "version"}}
        if "version" in raw:
            condition |= {"ConditionExpression": "#v = :v", "ExpressionAttributeValues": {":v": raw["version"]}}
        else:
            condition["ConditionExpression"] = "attribute_not_exists(#v)"
        try:
            gateway.call("PutItem", TableName=table, Item=encode_item(new), **condition)
            return 1
        except Conflict:
            key = {"pk": raw["pk"], "sk": raw["sk"]}
            raw = gateway.call("GetItem", TableName=table, Key=key, ConsistentRead=True).get("Item")
            if raw is None:
                return 0
    raise StorageError(f"{table}: an item kept changing while it was being upgraded; run again")


def upgrade_items(
    gateway: Gateway,
    spec: TableSpec,
    *,
    name: str,
    having: str,
    upgrade: Callable[[dict[str, Any]], dict[str, Any] | None],
    report: Report,
) -> int:
    """Rewrite, once, the items that carry the attribute `having` and that `upgrade` changes
    (it returns the new item, or None to leave one as it is). A marker item records that the
    upgrade `name` finished; an interrupted one simply runs again (each rewrite is the same).
    Scans the table: run from `dynamodb_tables create` and bootstrap, never on a request path."""
    table = spec.physical_name(gateway.config.table_prefix)
    marker = {"pk": {"S": "migration"}, "sk": {"S": name}}
    if "Item" in gateway.call("GetItem", TableName=table, Key=marker, ConsistentRead=True):
        return 0
    rewritten, params = 0, {"TableName": table, "FilterExpression": "attribute_exists(#a)"}
    params["ExpressionAttributeNames"] = {"#a": having}
    while True:
        response = gateway.call("Scan", **params)
        for raw in response.get("Items", []):
            rewritten += _rewrite(gateway, table, raw, upgrade)
        if "LastEvaluatedKey" not in response:
            break
        params["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        report(f"{table}: {name}: {rewritten} items rewritten so far")
    gateway.call("PutItem", TableName=table, Item=marker | {"done": {"N": str(int(time.time()))}})
    report(f"{table}: {name}: done, {rewritten} items rewritten")
    return rewritten
