"""The consumed-capacity meter: request units per table and per operation, from the
ConsumedCapacity that every call asks for. It feeds the cost panel and the benchmarks."""

import threading
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

READ_OPERATIONS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan"})
WRITE_OPERATIONS = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"})
METERED_OPERATIONS = READ_OPERATIONS | WRITE_OPERATIONS


@dataclass
class TableUsage:
    read_units: float = 0.0
    write_units: float = 0.0
    calls: int = 0


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
    def calls(self) -> int:
        return sum(self.operations.values())

    def minus(self, earlier: "MeterSnapshot") -> "MeterSnapshot":
        """What was consumed between `earlier` and this snapshot."""
        tables = {}
        for name, usage in self.tables.items():
            before = earlier.tables.get(name, TableUsage())
            tables[name] = TableUsage(
                usage.read_units - before.read_units, usage.write_units - before.write_units, usage.calls - before.calls
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
                else:
                    usage.read_units += units

    def snapshot(self) -> MeterSnapshot:
        with self._lock:
            tables = {name: TableUsage(u.read_units, u.write_units, u.calls) for name, u in self._tables.items()}
            return MeterSnapshot(tables=tables, operations=dict(self._operations))
