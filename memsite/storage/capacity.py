"""The consumed-capacity meter: request units per table and per operation, from the
ConsumedCapacity that every call asks for. It feeds the cost panel and the benchmarks.

Write units are what a table's writes consumed in all, table and global secondary indexes, as AWS
reports them (`CapacityUnits`); `index_write_units` is the part of it in the indexes (AWS's
`GlobalSecondaryIndexes`). dynalite reports the base table only, so there write units are the
table's and index units stay 0, unless the gateway counts index units (DYNAMODB_COUNT_INDEX_UNITS),
which adds them to both as AWS would."""

import threading
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

READ_OPERATIONS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan"})
WRITE_OPERATIONS = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"})
METERED_OPERATIONS = READ_OPERATIONS | WRITE_OPERATIONS


def index_units(entry: Mapping[str, Any]) -> float:
    """The units one ConsumedCapacity entry reports in global secondary indexes."""
    indexes = entry.get("GlobalSecondaryIndexes") or {}
    return sum(float(usage.get("CapacityUnits", 0.0)) for usage in indexes.values())


@dataclass
class TableUsage:
    read_units: float = 0.0
    write_units: float = 0.0  # table and indexes
    calls: int = 0
    index_write_units: float = 0.0  # of write_units, the part in global secondary indexes


@dataclass
class MeterSnapshot:
    tables: dict[str, TableUsage] = field(default_factory=dict)
    operations: dict[str, int] = field(default_factory=dict)

    @property
    def read_units(self) -> float:
        return sum(usage.read_units for usage in self.tables.values())

    @property
    def write_units(self) -> float:
        return sum(usage.write_units for usage in self.tables.values())

    @property
    def index_write_units(self) -> float:
        return sum(usage.index_write_units for usage in self.tables.values())

    @property
    def calls(self) -> int:
        return sum(self.operations.values())

    def minus(self, earlier: "MeterSnapshot") -> "MeterSnapshot":
        """What was consumed between `earlier` and this snapshot."""
        tables = {}
        for name, usage in self.tables.items():
            before = earlier.tables.get(name, TableUsage())
            tables[name] = TableUsage(
                usage.read_units - before.read_units,
                usage.write_units - before.write_units,
                usage.calls - before.calls,
                usage.index_write_units - before.index_write_units,
            )
        operations = {op: n - earlier.operations.get(op, 0) for op, n in self.operations.items()}
        return MeterSnapshot(tables=tables, operations=operations)


class CapacityMeter:
    """Thread-safe running totals for this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tables: dict[str, TableUsage] = defaultdict(TableUsage)
        self._operations: dict[str, int] = defaultdict(int)

    def record(self, operation: str, consumed: Mapping[str, Any] | list[Mapping[str, Any]] | None) -> None:
        entries = consumed if isinstance(consumed, list) else [consumed] if consumed else []
        with self._lock:
            self._operations[operation] += 1
            for entry in entries:
                usage = self._tables[entry.get("TableName", "?")]
                usage.calls += 1
                units = float(entry.get("CapacityUnits", 0.0))
                if operation in WRITE_OPERATIONS:
                    usage.write_units += units
                    usage.index_write_units += index_units(entry)
                else:
                    usage.read_units += units

    def snapshot(self) -> MeterSnapshot:
        with self._lock:
            tables = {
                name: TableUsage(u.read_units, u.write_units, u.calls, u.index_write_units)
                for name, u in self._tables.items()
            }
            return MeterSnapshot(tables=tables, operations=dict(self._operations))
