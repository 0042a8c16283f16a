"""Creating and describing the tables from their specs (tables.py).

Creation is idempotent: an existing table is left as it is. TTL is switched on where
the endpoint has the TTL API; dynalite does not, and reads filter expired items anyway.
"""

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from memsite.storage import migrate
from memsite.storage.errors import Conflict, NotSupported, StorageError, TableMissing
from memsite.storage.gateway import Gateway
from memsite.storage.tables import PK, SK, TableSpec

logger = logging.getLogger(__name__)

Report = Callable[[str], None]


@dataclass
class TableStatus:
    spec: TableSpec
    name: str
    exists: bool
    status: str = "MISSING"
    item_count: int | None = None
    size_bytes: int | None = None
    index_size_bytes: int | None = None
    indexes: list[dict[str, Any]] = field(default_factory=list)
    ttl: str = "n/a"


def create_table_params(spec: TableSpec, name: str) -> dict[str, Any]:
    params: dict[str, Any] = {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": attribute, "AttributeType": kind}
            for attribute, kind in spec.attribute_definitions().items()
        ],
        "KeySchema": [{"AttributeName": PK, "KeyType": "HASH"}, {"AttributeName": SK, "KeyType": "RANGE"}],
    }
    if spec.indexes:
        params["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index.name,
                "KeySchema": index.key_schema(),
                "Projection": index.projection_params(),
            }
            for index in spec.indexes
        ]
    return params


def create_tables(gateway: Gateway, specs: tuple[TableSpec, ...], *, report: Report = logger.info) -> list[str]:
    """Create the missing tables, add indexes the specs gained since a table was made, wait until
    all are ACTIVE, enable TTL. Returns the names created."""
    created = []
    for spec in specs:
        name = spec.physical_name(gateway.config.table_prefix)

        def create(table_name: str, spec: TableSpec = spec) -> None:
            _create(gateway, spec, table_name, report)

        def wait(table_name: str) -> None:
            _wait_active(gateway, table_name, report)

        migrate.finish_rebuild(gateway, spec, create=create, wait=wait, report=report)
        if _describe(gateway, name) is None:
            if _create(gateway, spec, name, report):
                created.append(name)
            continue
        wait(name)
        migrate.reconcile_indexes(gateway, spec, create=create, wait=wait, report=report)
    for spec in specs:
        name = spec.physical_name(gateway.config.table_prefix)
        _wait_active(gateway, name, report)
        if spec.ttl_attribute:
            _enable_ttl(gateway, name, spec.ttl_attribute, report)
    return created


def _create(gateway: Gateway, spec: TableSpec, name: str, report: Report) -> bool:
    try:
        gateway.call("CreateTable", **create_table_params(spec, name))
    except Conflict:
        return False  # another process created it between our describe and create
    report(f"creating {name}")
    return True


def _describe(gateway: Gateway, name: str) -> dict[str, Any] | None:
    try:
        return gateway.call("DescribeTable", TableName=name)["Table"]
    except TableMissing:
        return None


def _wait_active(gateway: Gateway, name: str, report: Report, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        table = _describe(gateway, name)
        indexes = (table or {}).get("GlobalSecondaryIndexes", [])
        if table and table["TableStatus"] == "ACTIVE" and all(i.get("IndexStatus") == "ACTIVE" for i in indexes):
            return
        if time.monotonic() > deadline:
            raise StorageError(f"table {name} is not ACTIVE after {timeout:.0f} s")
        time.sleep(0.2)


def _ttl_status(gateway: Gateway, name: str) -> str:
    try:
        description = gateway.call("DescribeTimeToLive", TableName=name)["TimeToLiveDescription"]
    except NotSupported:
        return "UNSUPPORTED"
    return description.get("TimeToLiveStatus", "DISABLED")


def _enable_ttl(gateway: Gateway, name: str, attribute: str, report: Report) -> None:
    if _ttl_status(gateway, name) in ("ENABLED", "ENABLING"):
        return
    try:
        gateway.call(
            "UpdateTimeToLive", TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute}
        )
    except NotSupported:
        # dynalite answers DescribeTimeToLive but has no UpdateTimeToLive.
        logger.info("%s: the endpoint has no TTL API; TTL not enabled (reads filter expired items)", name)
        return
    report(f"{name}: TTL enabled on {attribute}")


def count_items(gateway: Gateway, name: str) -> int:
    """Exact item count by a COUNT Scan of the whole table. Offline use only (the describe
    command's --exact): a Scan reads every item, so no request path may call this."""
    total, params = 0, {"TableName": name, "Select": "COUNT"}
    while True:
        response = gateway.call("Scan", **params)
        total += response.get("Count", 0)
        if "LastEvaluatedKey" not in response:
            return total
        params["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def describe_tables(gateway: Gateway, specs: tuple[TableSpec, ...], *, exact_counts: bool = False) -> list[TableStatus]:
    """DescribeTable for each spec. Item counts are DynamoDB's own (refreshed about every six
    hours on AWS, always 0 on dynalite) unless `exact_counts` scans for them."""
    statuses = []
    for spec in specs:
        name = spec.physical_name(gateway.config.table_prefix)
        table = _describe(gateway, name)
        if table is None:
            statuses.append(TableStatus(spec=spec, name=name, exists=False))
            continue
        ttl = _ttl_status(gateway, name) if spec.ttl_attribute else "none"
        statuses.append(
            TableStatus(
                spec=spec,
                name=name,
                exists=True,
                status=table["TableStatus"],
                item_count=count_items(gateway, name) if exact_counts else table.get("ItemCount"),
                size_bytes=table.get("TableSizeBytes"),
                index_size_bytes=sum(i.get("IndexSizeBytes", 0) for i in table.get("GlobalSecondaryIndexes", [])),
                indexes=[
                    {"name": i["IndexName"], "status": i.get("IndexStatus", "?"), "item_count": i.get("ItemCount")}
                    for i in table.get("GlobalSecondaryIndexes", [])
                ],
                ttl=ttl,
            )
        )
    return statuses


def delete_tables(gateway: Gateway, specs: tuple[TableSpec, ...]) -> None:
    """For tests and throwaway environments only: no command offers this on a shared account."""
    for spec in specs:
        with contextlib.suppress(TableMissing):
            gateway.call("DeleteTable", TableName=spec.physical_name(gateway.config.table_prefix))
