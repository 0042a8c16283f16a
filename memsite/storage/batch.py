"""Batch writes (25 items a request) and batch gets (100 keys a request).

DynamoDB may accept part of a batch and hand the rest back as UnprocessedItems /
UnprocessedKeys when a partition is busy; those are retried with exponential backoff
and full jitter, and only if they are still refused after the last attempt is the
batch Unavailable. Puts are idempotent, so a retried item is never stored twice.
"""

import itertools
import json
import random
import time
from collections.abc import Iterable, Iterator
from typing import Any

from memsite.storage.concurrency import PARALLEL_CALLS, parallel
from memsite.storage.errors import Unavailable
from memsite.storage.gateway import Gateway
from memsite.storage.tables import PK, SK

WRITE_CHUNK = 25
GET_CHUNK = 100
MAX_ROUNDS = 8
BASE_DELAY_SECONDS = 0.05
MAX_DELAY_SECONDS = 2.0


def _backoff(round_number: int) -> None:
    time.sleep(random.uniform(0, min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2**round_number)))


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _unique_by_key(chunk: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """DynamoDB refuses a batch naming one key twice; the later item wins, as with two puts."""
    by_key = {(json.dumps(item[PK]), json.dumps(item[SK])): item for item in chunk}
    return list(by_key.values())


def write_all(
    gateway: Gateway, table_name: str, items: Iterable[dict[str, Any]], *, deadline: float | None = None
) -> int:
    written = 0
    # A window's chunks go out at once (the endpoint works on one while the next is prepared);
    # windows go one after the other, so of two puts of one key the later still wins.
    for window in _chunks(items, WRITE_CHUNK * PARALLEL_CALLS):
        chunks = list(_chunks(_unique_by_key(window), WRITE_CHUNK))
        written += sum(parallel(lambda chunk: _write_chunk(gateway, table_name, chunk, deadline), chunks))
    return written


def _write_chunk(gateway: Gateway, table_name: str, chunk: list[dict[str, Any]], deadline: float | None) -> int:
    requests = [{"PutRequest": {"Item": item}} for item in chunk]
    for round_number in range(MAX_ROUNDS):
        if deadline is not None and time.monotonic() > deadline:
            raise Unavailable(
                f"{len(requests)} items not written: the writer's time ran out; a retry completes the batch",
                operation="BatchWriteItem",
                retry_after=1,
            )
        response = gateway.call("BatchWriteItem", RequestItems={table_name: requests})
        requests = response.get("UnprocessedItems", {}).get(table_name, [])
        if not requests:
            return len(chunk)
        if round_number < MAX_ROUNDS - 1:
            _backoff(round_number)
    raise Unavailable(
        f"{len(requests)} items still unprocessed after {MAX_ROUNDS} attempts",
        operation="BatchWriteItem",
    )


def get_all(gateway: Gateway, table_name: str, keys: list[dict[str, Any]], *, consistent: bool) -> list[dict]:
    found: list[dict[str, Any]] = []
    for chunk in _chunks(keys, GET_CHUNK):
        pending: dict[str, Any] = {table_name: {"Keys": chunk, "ConsistentRead": consistent}}
        for round_number in range(MAX_ROUNDS):
            response = gateway.call("BatchGetItem", RequestItems=pending)
            found.extend(response.get("Responses", {}).get(table_name, []))
            pending = response.get("UnprocessedKeys") or {}
            if not pending:
                break
            if round_number < MAX_ROUNDS - 1:
                _backoff(round_number)
        else:
            raise Unavailable(f"keys still unprocessed after {MAX_ROUNDS} attempts", operation="BatchGetItem")
    return found
