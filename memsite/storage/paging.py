"""Query pages: one Query call per page, expired items filtered out, LastEvaluatedKey
wrapped in an opaque cursor bound to the query that made it."""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from memsite.storage.codec import decode_item, encode_value
from memsite.storage.cursor import decode_cursor, encode_cursor, query_fingerprint
from memsite.storage.errors import StorageError
from memsite.storage.tables import PK, SK
from memsite.storage.ttl import is_live, live_filter, now_epoch

if TYPE_CHECKING:
    from memsite.storage.table import Table

MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class SortCondition:
    """A condition on the sort key: eq, lt, lte, gt, gte, begins_with, or between (two values)."""

    op: Literal["eq", "lt", "lte", "gt", "gte", "begins_with", "between"]
    values: tuple[Any, ...]

    @classmethod
    def between(cls, low: Any, high: Any) -> "SortCondition":
        return cls("between", (low, high))

    @classmethod
    def begins_with(cls, prefix: str) -> "SortCondition":
        return cls("begins_with", (prefix,))

    def expression(self) -> tuple[str, dict[str, Any]]:
        values = {f":s{i}": encode_value(value, "sort key") for i, value in enumerate(self.values)}
        if self.op == "between":
            return "#sk BETWEEN :s0 AND :s1", values
        if self.op == "begins_with":
            return "begins_with(#sk, :s0)", values
        symbol = {"eq": "=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}[self.op]
        return f"#sk {symbol} :s0", values


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


def query_page(
    table: "Table",
    partition_value: str,
    *,
    index: str | None,
    sort: SortCondition | None,
    limit: int,
    cursor: str | None,
    newest_first: bool,
) -> Page:
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise StorageError(f"limit must be between 1 and {MAX_PAGE_SIZE}, not {limit}")
    index_spec = table.spec.index(index) if index else None
    pk_name = index_spec.partition_key if index_spec else PK
    sk_name = index_spec.sort_key if index_spec else SK
    fingerprint = query_fingerprint(table.name, index, partition_value, sort, newest_first)
    secret = table.gateway.config.cursor_secret

    names = {"#pk": pk_name}
    values: dict[str, Any] = {":pk": encode_value(partition_value, "partition key")}
    key_condition = "#pk = :pk"
    if sort is not None:
        sort_expression, sort_values = sort.expression()
        key_condition += " AND " + sort_expression
        names["#sk"] = sk_name
        values |= sort_values
    params: dict[str, Any] = {
        "TableName": table.name,
        "KeyConditionExpression": key_condition,
        "ScanIndexForward": not newest_first,
        "Limit": limit,
    }
    if index:
        params["IndexName"] = index
    now = now_epoch()
    if table.spec.ttl_attribute:
        live_expression, live_names, live_values = live_filter(table.spec.ttl_attribute, now)
        params["FilterExpression"] = live_expression
        names |= live_names
        values |= live_values
    if cursor:
        params["ExclusiveStartKey"] = decode_cursor(cursor, fingerprint=fingerprint, secret=secret)

    response = table.gateway.call("Query", ExpressionAttributeNames=names, ExpressionAttributeValues=values, **params)
    items = [decode_item(raw) for raw in response.get("Items", [])]
    last_key = response.get("LastEvaluatedKey")
    return Page(
        items=[item for item in items if is_live(item, table.spec.ttl_attribute, now)],
        next_cursor=encode_cursor(last_key, fingerprint=fingerprint, secret=secret) if last_key else None,
    )
