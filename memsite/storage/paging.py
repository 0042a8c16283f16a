"""Query pages: one Query call per page (one per partition when a page spans several; a few
more where a caller asks to top up a page that expired items thinned out), expired items
filtered out, the position wrapped in an opaque cursor bound to its query."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from memsite.storage.codec import decode_item, encode_value
from memsite.storage.cursor import decode_cursor, encode_cursor, query_fingerprint
from memsite.storage.errors import InvalidCursor, StorageError
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
    # A floor that moves with the clock (e.g. "created after now minus the longest TTL"; gt or
    # gte only, and always the server's own value, never a client's): left out of the cursor's
    # fingerprint, so the next page may use a later floor. That is sound, since whatever the
    # floor drops in between has expired meanwhile; a cursor the floor has overtaken starts
    # the next page at the floor (see _Query.start_after).
    moving: bool = False

    def __post_init__(self) -> None:
        arity = {"between": 2}.get(self.op, 1)
        if self.op not in ("eq", "lt", "lte", "gt", "gte", "begins_with", "between") or len(self.values) != arity:
            raise StorageError(f"sort condition {self.op!r} with {len(self.values)} values is not valid")
        if self.moving and self.op not in ("gt", "gte"):
            raise StorageError("only a floor (gt, gte) may move")

    @classmethod
    def between(cls, low: Any, high: Any) -> "SortCondition":
        return cls("between", (low, high))

    @classmethod
    def begins_with(cls, prefix: str) -> "SortCondition":
        return cls("begins_with", (prefix,))

    def fingerprint_part(self) -> tuple[Any, ...]:
        return (self.op, "moving") if self.moving else (self.op, self.values)

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


@dataclass(frozen=True)
class _Query:
    table: "Table"
    index: str | None
    sort: SortCondition | None
    newest_first: bool
    where: Mapping[str, Any] | None
    consistent: bool = False
    attributes: tuple[str, ...] | None = None

    def fingerprint(self, partitions: Any) -> str:
        where = sorted((self.where or {}).items())
        sort = self.sort.fingerprint_part() if self.sort else None
        return query_fingerprint(self.table.name, self.index, partitions, sort, self.newest_first, where)

    def __post_init__(self) -> None:
        if self.sort is not None and self.sort.moving and self.newest_first:
            raise StorageError("a moving floor pages oldest first (its cursor must never fall behind it)")

    def start_after(self, start_key: dict | None) -> dict | None:
        """The cursor's key, unless a moving floor has overtaken it: DynamoDB refuses a start key
        outside the key condition, and everything up to the floor has expired anyway."""
        if start_key is None or self.sort is None or not self.sort.moving:
            return start_key
        index_spec = self.table.spec.index(self.index) if self.index else None
        position = decode_item({"sk": start_key[index_spec.sort_key if index_spec else SK]})["sk"]
        floor = self.sort.values[0]
        return start_key if position > floor or (self.sort.op == "gte" and position == floor) else None

    def run(self, partition_value: str, limit: int, start_key: dict | None) -> tuple[list[dict], dict | None]:
        """One Query call: the live items, and LastEvaluatedKey (None at the partition's end)."""
        index_spec = self.table.spec.index(self.index) if self.index else None
        names = {"#pk": index_spec.partition_key if index_spec else PK}
        values: dict[str, Any] = {":pk": encode_value(partition_value, "partition key")}
        key_condition = "#pk = :pk"
        if self.sort is not None:
            sort_expression, sort_values = self.sort.expression()
            key_condition += " AND " + sort_expression
            names["#sk"] = index_spec.sort_key if index_spec else SK
            values |= sort_values
        filters = []
        now = now_epoch()
        if self.table.spec.ttl_attribute:
            live_expression, live_names, live_values = live_filter(self.table.spec.ttl_attribute, now)
            filters.append(live_expression)
            names |= live_names
            values |= live_values
        for i, (attribute, wanted) in enumerate((self.where or {}).items()):
            filters.append(f"#w{i} = :w{i}")
            names[f"#w{i}"] = attribute
            values[f":w{i}"] = encode_value(wanted, attribute)
        params: dict[str, Any] = {
            "TableName": self.table.name,
            "KeyConditionExpression": key_condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": not self.newest_first,
            "Limit": limit,
        }
        if self.index:
            params["IndexName"] = self.index
        if self.consistent:
            params["ConsistentRead"] = True
        if filters:
            params["FilterExpression"] = " AND ".join(filters)
        if self.attributes:
            # Only what the caller reads: less to send and to parse (the read units stay the same),
            # and the keys, from which a page cut short makes its cursor.
            keys = [
                PK,
                SK,
                *filter(None, [index_spec and index_spec.partition_key, index_spec and index_spec.sort_key]),
            ]
            wanted = {*self.attributes, *keys, *filter(None, [self.table.spec.ttl_attribute])}
            projection = {f"#p{i}": attribute for i, attribute in enumerate(sorted(wanted))}
            params["ProjectionExpression"] = ", ".join(projection)
            names |= projection
        if start_key:
            params["ExclusiveStartKey"] = start_key
        response = self.table.gateway.call("Query", **params)
        items = [decode_item(raw) for raw in response.get("Items", [])]
        live = [item for item in items if is_live(item, self.table.spec.ttl_attribute, now)]
        return live, response.get("LastEvaluatedKey")

    def key_of(self, item: dict[str, Any]) -> dict[str, Any]:
        """The start key that resumes a Query right after `item`."""
        index_spec = self.table.spec.index(self.index) if self.index else None
        names = [PK, SK, *([index_spec.partition_key, index_spec.sort_key] if index_spec else [])]
        return {name: encode_value(item[name], name) for name in dict.fromkeys(filter(None, names))}


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise StorageError(f"limit must be between 1 and {MAX_PAGE_SIZE}, not {limit}")


def query_page(
    table: "Table", partition_value: str, *, limit: int, cursor: str | None, max_calls: int = 1, **options: Any
) -> Page:
    """One page. With max_calls > 1, a page that the expiry filter thinned out is topped up by up
    to that many Query calls in all, so expired items ahead of live ones do not yield empty pages."""
    _check_limit(limit)
    query = _Query(table, **options)
    fingerprint, secret = query.fingerprint(partition_value), table.gateway.config.cursor_secret
    last_key = query.start_after(decode_cursor(cursor, fingerprint=fingerprint, secret=secret) if cursor else None)
    items: list[dict[str, Any]] = []
    for _ in range(max_calls):
        found, last_key = query.run(partition_value, limit - len(items), last_key)
        items += found
        if last_key is None or len(items) >= limit:
            break
    return Page(items, encode_cursor(last_key, fingerprint=fingerprint, secret=secret) if last_key else None)


def query_partitions(
    table: "Table",
    partition_values: list[str],
    *,
    limit: int,
    cursor: str | None,
    max_calls: int | None = None,
    evaluate: int | None = None,
    **options: Any,
) -> Page:
    """Fill a page from the partitions in the order given; the cursor remembers which partition
    and where in it. Stops when the page is full, so a page costs at most one Query per
    partition it touches; with `max_calls`, a page that a filter thinned out is topped up by
    further calls (up to that many in all, each examining `evaluate` items, default `limit`),
    so a filtered page is empty only when no match is left or every call found none."""
    _check_limit(limit)
    query = _Query(table, **options)
    fingerprint, secret = query.fingerprint(partition_values), table.gateway.config.cursor_secret
    position, start_key = 0, None
    if cursor:
        state = decode_cursor(cursor, fingerprint=fingerprint, secret=secret)
        position, start_key = state.get("i"), state.get("k")
        if not isinstance(position, int) or not 0 <= position < len(partition_values):
            raise InvalidCursor("cursor is not valid")
    items: list[dict[str, Any]] = []
    calls = 0
    while position < len(partition_values):
        wanted = limit - len(items)
        found, last_key = query.run(partition_values[position], max(wanted, evaluate or 0), start_key)
        calls += 1
        if len(found) > wanted:  # examined more than the page takes: resume right after the last one kept
            found, last_key = found[:wanted], query.key_of(found[wanted - 1])
        items += found
        if last_key is not None:
            start_key = last_key
            if len(items) >= limit or calls >= (max_calls or 1):
                break
            continue
        position, start_key = position + 1, None
        if len(items) >= limit:
            break
    if position >= len(partition_values):
        return Page(items, None)
    state = {"i": position, "k": start_key}
    return Page(items, encode_cursor(state, fingerprint=fingerprint, secret=secret))


def cursor_after(table: "Table", partition_values: list[str], item: dict[str, Any], **options: Any) -> str:
    """The cursor of query_partitions(partition_values, **options) that resumes right after `item`
    (an item the query returned, or the table item behind one of its index entries): for callers
    that filter a page further and keep only part of it."""
    query = _Query(table, **options)
    index_spec = table.spec.index(query.index) if query.index else None
    position = partition_values.index(item[index_spec.partition_key if index_spec else PK])
    state = {"i": position, "k": query.key_of(item)}
    return encode_cursor(
        state, fingerprint=query.fingerprint(partition_values), secret=table.gateway.config.cursor_secret
    )
