"""memsite.storage: the only code that imports boto3.

Apps reach DynamoDB through `table(SPEC)`, which gives a Table bound to the process's
gateway (one lazily built client, one capacity meter). Errors are the family in
memsite.storage.errors; nothing botocore escapes.
"""

import threading

from memsite.storage.capacity import CapacityMeter, MeterSnapshot
from memsite.storage.config import Role, StorageConfig
from memsite.storage.errors import (
    Conflict,
    InvalidCursor,
    InvalidValue,
    NotFound,
    NotSupported,
    StorageError,
    TableMissing,
    TooLarge,
    Unavailable,
)
from memsite.storage.gateway import Gateway, observe
from memsite.storage.paging import Page, SortCondition
from memsite.storage.table import PutResult, Table
from memsite.storage.tables import ALL_TABLES, TableSpec

__all__ = [
    "ALL_TABLES",
    "CapacityMeter",
    "Conflict",
    "Gateway",
    "InvalidCursor",
    "InvalidValue",
    "MeterSnapshot",
    "NotFound",
    "NotSupported",
    "Page",
    "PutResult",
    "SortCondition",
    "StorageConfig",
    "StorageError",
    "Table",
    "TableMissing",
    "TableSpec",
    "TooLarge",
    "Unavailable",
    "gateway",
    "meter",
    "observe",
    "reset",
    "set_process_role",
    "table",
]

_lock = threading.Lock()
_gateways: dict[Role, Gateway] = {}
# What a caller that names no role gets: "request" in web processes, "worker" in Celery workers
# (memsite/celery.py), so repositories shared by both retry longer inside a task.
_process_role: Role = "request"
# One meter for the process, whichever role's client made the call.
_meter = CapacityMeter()


def gateway(role: Role | None = None) -> Gateway:
    """The process's gateway for `role` ("request": fail fast; "worker": retry longer; "probe":
    one try within a second, for health checks); without one, the process's own role."""
    role = role or _process_role
    with _lock:
        if role not in _gateways:
            _gateways[role] = Gateway(StorageConfig.from_settings(role=role), meter=_meter)
        return _gateways[role]


def table(spec: TableSpec, role: Role | None = None) -> Table:
    return Table(spec, gateway(role))


def set_process_role(role: Role) -> None:
    """The role of callers that name none, for the rest of this process."""
    global _process_role
    _process_role = role


def meter() -> CapacityMeter:
    return _meter


def reset() -> None:
    """Forget the gateways, so the next call reads settings again (tests change them)."""
    with _lock:
        _gateways.clear()
