"""The choke point: every DynamoDB call goes through Gateway.call.

Here, and only here, botocore errors become the storage error family (keeping the AWS
error code), and consumed capacity is asked for and metered. With DYNAMODB_COUNT_INDEX_UNITS on,
writes on endpoints that do not report index units (dynalite) have them counted from the items
before and after (memsite/storage/index_units.py): a measuring aid, never needed on AWS.
"""

import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    NoCredentialsError,
    ParamValidationError,
)
from botocore.exceptions import ConnectionError as BotocoreConnectionError

from memsite.storage.capacity import METERED_OPERATIONS, WRITE_OPERATIONS, CapacityMeter
from memsite.storage.client import build_client
from memsite.storage.codec import decode_item
from memsite.storage.config import StorageConfig
from memsite.storage.errors import Conflict, NotSupported, StorageError, TableMissing, TooLarge, Unavailable
from memsite.storage.index_units import IndexUnitCounter, reports_index_units
from memsite.storage.tables import ALL_TABLES

logger = logging.getLogger(__name__)

_TRANSIENT_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "LimitExceededException",
    }
)
# Every way of not getting an answer: refused, timed out, TLS or proxy failure, a cut stream.
_CONNECTION_ERRORS = (BotocoreConnectionError, HTTPClientError)
# AWS and both emulators word the 400 KB refusal differently; all mention the item size.
_TOO_LARGE = re.compile(r"item size|size of the item|maximum allowed size|exceeds.*400", re.IGNORECASE)


def _method_name(operation: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()


def translate_client_error(exc: ClientError, operation: str) -> StorageError:
    error = exc.response.get("Error", {})
    code = error.get("Code", "Unknown")
    message = error.get("Message", str(exc))
    context = {"aws_code": code, "operation": operation}
    if code == "ConditionalCheckFailedException":
        old = exc.response.get("Item")
        return Conflict(message or "condition failed", current=decode_item(old) if old else None, **context)
    if code == "ResourceNotFoundException" or (code == "ValidationException" and "specified index" in message):
        return TableMissing(f"{message} (have the tables been created? manage.py dynamodb_tables create)", **context)
    if code == "ResourceInUseException":
        return Conflict(message, **context)
    if code == "ItemCollectionSizeLimitExceededException" or (
        code == "ValidationException" and _TOO_LARGE.search(message)
    ):
        return TooLarge(f"item is over DynamoDB's 400 KB limit: {message}", **context)
    if code in _TRANSIENT_CODES or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) >= 500:
        return Unavailable(f"DynamoDB is throttling or failing ({code}); retry later", **context)
    if code in {"UnknownOperationException", "UnrecognizedOperationException"}:
        return NotSupported(f"the endpoint does not implement {operation}", **context)
    return StorageError(f"{operation} failed: {code}: {message}", **context)


# Called after every storage call with (operation, seconds, error code or None, the
# ConsumedCapacity it reported or None): how metrics see the storage layer without the storage
# layer knowing about metrics.
Observer = Callable[[str, float, str | None, Any], None]
_observers: list[Observer] = []


def observe(observer: Observer) -> None:
    """Register `observer` (several may be; each once). One that raises is logged and skipped."""
    if observer not in _observers:
        _observers.append(observer)


class Gateway:
    """One DynamoDB client (built lazily, injectable) and the meter of what it consumed."""

    def __init__(
        self,
        config: StorageConfig,
        *,
        client: Any = None,
        meter: CapacityMeter | None = None,
        count_index_units: bool | None = None,
    ) -> None:
        self.config = config
        self.meter = meter or CapacityMeter()
        self._client = client
        self._lock = threading.Lock()
        # None: follow the DYNAMODB_COUNT_INDEX_UNITS setting, read at each write (the bench
        # switches it on in its own process for one phase).
        self._count_index_units = count_index_units
        self._endpoint_reports_index_units = False

    @property
    def client(self) -> Any:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = build_client(self.config)
        return self._client

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        started, failure, consumed = time.perf_counter(), None, None
        try:
            counter = self._index_counter(operation, params)
            response = self._call(operation, **params)
            consumed = self._consumed(response, counter)
            if operation in METERED_OPERATIONS:
                self.meter.record(operation, consumed)
            return response
        except StorageError as error:
            failure = error.aws_code or type(error).__name__
            raise
        except Exception as error:
            failure = type(error).__name__
            raise
        finally:
            seconds = time.perf_counter() - started
            for observer in _observers:
                try:
                    observer(operation, seconds, failure, consumed)
                except Exception:  # an observer must never change what the call answers or raises
                    logger.exception("storage observer %r failed", observer)

    def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        if operation in METERED_OPERATIONS:
            params.setdefault("ReturnConsumedCapacity", "INDEXES")
        method = getattr(self.client, _method_name(operation))
        try:
            response = method(**params)
        except ClientError as exc:
            raise translate_client_error(exc, operation) from exc
        except _CONNECTION_ERRORS as exc:
            raise Unavailable(
                f"DynamoDB at {self.config.description} is not answering: {exc}", operation=operation
            ) from exc
        except NoCredentialsError as exc:
            raise StorageError("no AWS credentials found for DynamoDB", operation=operation) from exc
        except ParamValidationError as exc:
            raise StorageError(f"{operation}: invalid request: {exc}", operation=operation) from exc
        except BotoCoreError as exc:
            raise StorageError(f"{operation} failed: {exc}", operation=operation) from exc
        return response

    # Index units on endpoints that do not report them (dynalite): see memsite/storage/index_units.py.

    def _counts_index_units(self) -> bool:
        if self._endpoint_reports_index_units:
            return False
        if self._count_index_units is not None:
            return self._count_index_units
        from django.conf import settings

        return bool(settings.configured and getattr(settings, "DYNAMODB_COUNT_INDEX_UNITS", False))

    def _index_counter(self, operation: str, params: dict[str, Any]) -> IndexUnitCounter | None:
        """For a write on an indexed table while counting is on: a counter holding the images the
        write will change. Never fails the write: a counter that cannot read leaves it uncounted."""
        if operation not in WRITE_OPERATIONS or not self._counts_index_units():
            return None
        specs = {spec.physical_name(self.config.table_prefix): spec for spec in ALL_TABLES if spec.indexes}
        counter = IndexUnitCounter(self.client, specs)
        try:
            return counter if counter.before(operation, params) else None
        except Exception:
            logger.warning("could not read what %s changes; its index units go uncounted", operation, exc_info=True)
            return None

    def _consumed(self, response: dict[str, Any], counter: IndexUnitCounter | None) -> Any:
        consumed = response.get("ConsumedCapacity")
        if counter is None:
            return consumed
        if reports_index_units(consumed):  # the endpoint counts them itself (AWS): stop reading
            self._endpoint_reports_index_units = True
            return consumed
        try:
            return counter.after(consumed)
        except Exception:
            logger.warning("could not read the items a write changed; its index units go uncounted", exc_info=True)
            return consumed
