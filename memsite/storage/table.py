"""One table, bound to the gateway: single-item reads and writes, query pages, batches.

Repositories in the apps build on this; they pass and receive plain decoded dicts
(their mappers know the attribute names), never raw attribute values.
"""

import contextlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from memsite.storage import batch, paging
from memsite.storage.codec import decode_item, decode_value, encode_item, encode_value
from memsite.storage.errors import Conflict, NotFound, StorageError
from memsite.storage.gateway import Gateway
from memsite.storage.paging import Page, SortCondition
from memsite.storage.tables import PK, SK, TableSpec
from memsite.storage.ttl import is_live, now_epoch

Item = dict[str, Any]
VERSION = "version"


@dataclass(frozen=True)
class PutResult:
    created: bool  # False: an identical item was already there (an idempotent retry)
    item: Item


class Table:
    def __init__(self, spec: TableSpec, gateway: Gateway) -> None:
        self.spec = spec
        self.gateway = gateway
        self.name = spec.physical_name(gateway.config.table_prefix)

    def _key(self, key: Mapping[str, Any]) -> dict[str, Any]:
        return {PK: encode_value(key[PK], PK), SK: encode_value(key[SK], SK)}

    def _live(self, item: Item) -> bool:
        return is_live(item, self.spec.ttl_attribute)

    def find(self, key: Mapping[str, Any], *, consistent: bool = False) -> Item | None:
        """The item, or None if it does not exist or has expired."""
        response = self.gateway.call("GetItem", TableName=self.name, Key=self._key(key), ConsistentRead=consistent)
        item = decode_item(response["Item"]) if "Item" in response else None
        return item if item is not None and self._live(item) else None

    def get(self, key: Mapping[str, Any], *, consistent: bool = False) -> Item:
        item = self.find(key, consistent=consistent)
        if item is None:
            raise NotFound(f"no item {key[PK]} / {key[SK]} in {self.spec.logical_name}")
        return item

    def put(self, item: Mapping[str, Any]) -> None:
        """Unconditional write: for items whose last writer may win (CURRENT state, STM keys)."""
        self.gateway.call("PutItem", TableName=self.name, Item=encode_item(item))

    def put_new(self, item: Mapping[str, Any]) -> PutResult:
        """Create-once write. A retry with identical content is not an error: it returns
        created=False; different content under the same key raises Conflict. An expired item
        does not hold its key (reads treat it as gone, so writes do too)."""
        names, values = {"#pk": PK}, {}
        condition = "attribute_not_exists(#pk)"
        if self.spec.ttl_attribute:
            condition += " OR #ttl <= :ttl_now"
            names["#ttl"] = self.spec.ttl_attribute
            values[":ttl_now"] = {"N": str(now_epoch())}
        try:
            self.gateway.call(
                "PutItem",
                TableName=self.name,
                Item=encode_item(item),
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                **({"ExpressionAttributeValues": values} if values else {}),
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            return PutResult(created=True, item=_as_stored(item))
        except Conflict as conflict:
            # dynalite does not return the old item with the failure; read it instead.
            current = conflict.current or self.find(item, consistent=True)
            # Compared encoded, so True and 1 (both == in Python) are different content.
            if current is not None and encode_item(current) == encode_item(item):
                return PutResult(created=False, item=current)
            raise Conflict(
                f"{item[PK]} / {item[SK]} already exists with different content",
                current=current,
                aws_code=conflict.aws_code,
                operation="PutItem",
            ) from None

    def put_new_or_existing(self, item: Mapping[str, Any]) -> Item | None:
        """Create-once write that reports instead of raising: None when this call created the
        item, else the item already stored under its key (identical content or not)."""
        try:
            result = self.put_new(item)
        except Conflict as conflict:
            if conflict.current is None:
                raise
            return conflict.current
        return None if result.created else result.item

    def update_versioned(self, key: Mapping[str, Any], changes: Mapping[str, Any], *, expected_version: int) -> Item:
        """Optimistic locking: apply `changes` only if the stored version is `expected_version`
        (0: the item must not exist yet); the version goes up by one. A None value removes the
        attribute (how an item leaves a sparse index). Conflict when the version moved on,
        NotFound when the item is gone."""
        if VERSION in changes or PK in changes or SK in changes:
            raise StorageError(f"update_versioned manages {VERSION!r} itself and cannot change the key")
        names = {"#v": VERSION} | {f"#a{i}": name for i, name in enumerate(changes)}
        values = {":next": {"N": str(expected_version + 1)}}
        sets, removes = ["#v = :next"], []
        for i, (name, value) in enumerate(changes.items()):
            if value is None:
                removes.append(f"#a{i}")
            else:
                sets.append(f"#a{i} = :a{i}")
                values[f":a{i}"] = encode_value(value, name)
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        if expected_version == 0:
            condition = "attribute_not_exists(#pk)"
            names["#pk"] = PK
        else:
            condition = "#v = :expected"
            values[":expected"] = {"N": str(expected_version)}
        try:
            response = self._update(
                key,
                expression,
                condition,
                names,
                values,
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except Conflict as conflict:
            return self._settle_update_conflict(key, changes, expected_version, conflict)
        return decode_item(response["Attributes"])

    def _update(
        self, key: Mapping[str, Any], expression: str, condition: str, names: dict, values: dict, **options: Any
    ) -> dict[str, Any]:
        return self.gateway.call(
            "UpdateItem",
            TableName=self.name,
            Key=self._key(key),
            UpdateExpression=expression,
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            **options,
        )

    def _settle_update_conflict(
        self, key: Mapping[str, Any], changes: Mapping[str, Any], expected_version: int, conflict: Conflict
    ) -> Item:
        current = conflict.current or self.find(key, consistent=True)
        if current is None:
            raise NotFound(f"no item {key[PK]} / {key[SK]} in {self.spec.logical_name}") from None
        stored = current.get(VERSION)
        # botocore retries a call whose reply was lost; if that first call did apply this very
        # change, the retry's condition fails against our own write: that is success.
        mine = all(current.get(name) == _as_stored_value(value) for name, value in changes.items())
        if stored == expected_version + 1 and mine:
            return current
        raise Conflict(
            f"{key[PK]} / {key[SK]} is at version {stored}, not {expected_version}",
            current=current,
            aws_code=conflict.aws_code,
            operation="UpdateItem",
        ) from None

    def update_fields(
        self,
        key: Mapping[str, Any],
        changes: Mapping[str, Any],
        *,
        increments: Mapping[str, int] | None = None,
        keep_existing: Mapping[str, Any] | None = None,
        must_exist: bool = True,
        expected_version: int | None = None,
        equals: Mapping[str, Any] | None = None,
        below: Mapping[str, int] | None = None,
    ) -> Item:
        """One write: SET `changes` (None removes), SET `keep_existing` only where the attribute
        is missing, ADD `increments`. A dotted name ("a.b.c") is a path into nested maps whose
        parents must exist. With `must_exist`, NotFound instead of creating the item; with
        `expected_version`, Conflict unless the item's `version` is that (0: no item yet); with
        `equals`, Conflict unless each attribute has that value; with `below`, Conflict unless
        each attribute is missing or less than the number given. Returns the item as stored."""
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        sets, removes, adds = [], [], []

        def path_of(tag: str, name: str) -> str:
            parts = name.split(".")
            names.update({f"#{tag}_{j}": part for j, part in enumerate(parts)})
            return ".".join(f"#{tag}_{j}" for j in range(len(parts)))

        for i, (name, value) in enumerate(changes.items()):
            path = path_of(f"s{i}", name)
            if value is None:
                removes.append(path)
            else:
                sets.append(f"{path} = :s{i}")
                values[f":s{i}"] = encode_value(value, name)
        for i, (name, value) in enumerate((keep_existing or {}).items()):
            path = path_of(f"k{i}", name)
            sets.append(f"{path} = if_not_exists({path}, :k{i})")
            values[f":k{i}"] = encode_value(value, name)
        for i, (name, amount) in enumerate((increments or {}).items()):
            adds.append(f"{path_of(f'n{i}', name)} :n{i}")
            values[f":n{i}"] = encode_value(amount, name)
        clauses = [("SET", sets), ("REMOVE", removes), ("ADD", adds)]
        expression = " ".join(f"{verb} {', '.join(parts)}" for verb, parts in clauses if parts)
        if not expression:
            raise StorageError("update_fields needs at least one change")
        conditions = []
        if must_exist:
            names["#pk"] = PK
            conditions.append("attribute_exists(#pk)")
        if expected_version is not None:
            names["#ver"] = VERSION
            values[":ver"] = {"N": str(expected_version)}
            conditions.append(
                "(attribute_not_exists(#ver) AND :ver = :zero)" if expected_version == 0 else "#ver = :ver"
            )
            if expected_version == 0:
                values[":zero"] = {"N": "0"}
        for i, (name, value) in enumerate((equals or {}).items()):
            conditions.append(f"{path_of(f'e{i}', name)} = :e{i}")
            values[f":e{i}"] = encode_value(value, name)
        for i, (name, ceiling) in enumerate((below or {}).items()):
            path = path_of(f"b{i}", name)
            conditions.append(f"(attribute_not_exists({path}) OR {path} < :b{i})")
            values[f":b{i}"] = encode_value(ceiling, name)
        params: dict[str, Any] = {
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
            "ReturnValues": "ALL_NEW",
        }
        if conditions:
            params["ConditionExpression"] = " AND ".join(conditions)
        if values:
            params["ExpressionAttributeValues"] = values
        try:
            response = self.gateway.call("UpdateItem", TableName=self.name, Key=self._key(key), **params)
        except Conflict as conflict:
            if expected_version is not None or equals or below:
                raise
            raise NotFound(f"no item {key[PK]} / {key[SK]} in {self.spec.logical_name}") from conflict
        return decode_item(response["Attributes"])

    def add_within(
        self, key: Mapping[str, Any], attribute: str, amount: int, *, ceiling: int, defaults: Mapping[str, Any]
    ) -> tuple[bool, Item]:
        """ADD `amount` to `attribute` only if the sum stays within `ceiling`, atomically: the
        check and the add are one conditional write, so concurrent callers can never overshoot.
        `defaults` are set where missing. Returns (applied, the item as it now stands)."""
        if amount > ceiling:
            return False, self.find(key, consistent=True) or dict(key)
        names = {"#a": attribute} | {f"#d{i}": name for i, name in enumerate(defaults)}
        values = {":amount": encode_value(amount, attribute), ":room": encode_value(ceiling - amount, attribute)}
        values |= {f":d{i}": encode_value(v, name) for i, (name, v) in enumerate(defaults.items())}
        sets = ", ".join(f"#d{i} = if_not_exists(#d{i}, :d{i})" for i in range(len(defaults)))
        try:
            response = self._update(
                key,
                "ADD #a :amount" + (f" SET {sets}" if sets else ""),
                "attribute_not_exists(#a) OR #a <= :room",
                names,
                values,
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except Conflict as conflict:
            return False, conflict.current or self.find(key, consistent=True) or dict(key)
        return True, decode_item(response["Attributes"])

    def add_once(
        self,
        key: Mapping[str, Any],
        counters: Mapping[str, int],
        *,
        tokens: Iterable[str],
        defaults: Mapping[str, Any] | None = None,
        token_attribute: str = "applied",
    ) -> bool:
        """Atomically ADD `counters`, unless any of `tokens` was applied before: the tokens go into a
        string set on the item in the same write, so a retried change is counted once. `defaults`
        are set only where the item lacks them. False when a token was already there."""
        tokens = sorted(set(tokens))
        names = {"#tokens": token_attribute} | {f"#c{i}": name for i, name in enumerate(counters)}
        values: dict[str, Any] = {":tokens": encode_value(set(tokens), token_attribute)}
        values |= {f":c{i}": encode_value(amount, name) for i, (name, amount) in enumerate(counters.items())}
        adds = ", ".join([f"#c{i} :c{i}" for i in range(len(counters))] + ["#tokens :tokens"])
        expression = "ADD " + adds
        if defaults:
            names |= {f"#d{i}": name for i, name in enumerate(defaults)}
            values |= {f":d{i}": encode_value(v, name) for i, (name, v) in enumerate(defaults.items())}
            expression += " SET " + ", ".join(f"#d{i} = if_not_exists(#d{i}, :d{i})" for i in range(len(defaults)))
        values |= {f":t{i}": encode_value(token, "token") for i, token in enumerate(tokens)}
        condition = " AND ".join(f"NOT contains(#tokens, :t{i})" for i in range(len(tokens)))
        try:
            self._update(key, expression, condition, names, values)
        except Conflict:
            return False
        return True

    def lease_take(self, key: Mapping[str, Any], *, owner: str, seconds: int) -> bool:
        """Hold the item at `key` as a lease for `seconds`, unless another owner holds it and it
        has not expired: one conditional write. The lease lives in the table's TTL attribute,
        so an abandoned one frees itself."""
        if not self.spec.ttl_attribute:
            raise StorageError(f"{self.spec.logical_name} has no TTL attribute to hold a lease")
        now = now_epoch()
        try:
            self.gateway.call(
                "PutItem",
                TableName=self.name,
                Item=encode_item(dict(key) | {"owner": owner, self.spec.ttl_attribute: now + seconds}),
                ConditionExpression="attribute_not_exists(#pk) OR #ttl <= :now OR #owner = :owner",
                ExpressionAttributeNames={"#pk": PK, "#ttl": self.spec.ttl_attribute, "#owner": "owner"},
                ExpressionAttributeValues={":now": {"N": str(now)}, ":owner": {"S": owner}},
            )
        except Conflict:
            return False
        return True

    def lease_release(self, key: Mapping[str, Any], *, owner: str) -> None:
        """Give the lease back, if `owner` still holds it."""
        with contextlib.suppress(Conflict):  # expired and taken by another owner, or gone
            self.gateway.call(
                "DeleteItem",
                TableName=self.name,
                Key=self._key(key),
                ConditionExpression="#owner = :owner",
                ExpressionAttributeNames={"#owner": "owner"},
                ExpressionAttributeValues={":owner": {"S": owner}},
            )

    def delete(self, key: Mapping[str, Any]) -> None:
        self.gateway.call("DeleteItem", TableName=self.name, Key=self._key(key))

    def query_page(
        self,
        partition_value: str,
        *,
        index: str | None = None,
        sort: SortCondition | None = None,
        limit: int = 50,
        cursor: str | None = None,
        newest_first: bool = True,
        where: Mapping[str, Any] | None = None,
        attributes: Sequence[str] | None = None,
        consistent: bool = False,
        max_calls: int = 1,
    ) -> Page:
        """One page (one Query call) of a partition, live items only, with the cursor to the next.
        `where` keeps only items whose attributes equal the given values (a FilterExpression);
        `consistent` reads the latest writes (base table only, twice the read units); `attributes`
        names the attributes to return (all by default); `max_calls` > 1 tops up a page that
        expired items thinned out, with up to that many Query calls."""
        return paging.query_page(
            self,
            partition_value,
            index=index,
            sort=sort,
            limit=limit,
            cursor=cursor,
            max_calls=max_calls,
            newest_first=newest_first,
            where=where,
            attributes=tuple(attributes) if attributes else None,
            consistent=consistent,
        )

    def query_partitions(
        self,
        partition_values: list[str],
        *,
        index: str | None = None,
        sort: SortCondition | None = None,
        limit: int = 50,
        cursor: str | None = None,
        newest_first: bool = True,
        where: Mapping[str, Any] | None = None,
        attributes: Sequence[str] | None = None,
        max_calls: int | None = None,
        evaluate: int | None = None,
    ) -> Page:
        """A page across several partitions read one after the other (day buckets, newest day
        first): at most one Query per partition, fewer when the page fills up; with `max_calls`,
        a page a filter thinned out is topped up (see paging.query_partitions)."""
        return paging.query_partitions(
            self,
            partition_values,
            index=index,
            sort=sort,
            limit=limit,
            cursor=cursor,
            max_calls=max_calls,
            evaluate=evaluate,
            newest_first=newest_first,
            where=where,
            attributes=tuple(attributes) if attributes else None,
        )

    def cursor_after(self, partition_values: list[str], item: Mapping[str, Any], **options: Any) -> str:
        """The cursor of query_partitions(partition_values, **options) that resumes after `item`."""
        return paging.cursor_after(self, partition_values, dict(item), **options)

    def query_all(self, partition_value: str, **options: Any) -> Iterator[Item]:
        """Every live item of a partition, following the pages: for partitions known to be small
        (a day's rollup rows, an agent's checkpoints), never for a timeline."""
        cursor = None
        while True:
            page = self.query_page(partition_value, cursor=cursor, **options)
            yield from page.items
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def batch_write(self, items: Iterable[Mapping[str, Any]], *, deadline: float | None = None) -> int:
        """Put many items (25 per request, several requests at once), retrying unprocessed ones;
        returns how many were written. With `deadline` (time.monotonic()), no request starts
        after it: Unavailable instead, for writers whose right to write runs out (a lease)."""
        return batch.write_all(self.gateway, self.name, (encode_item(item) for item in items), deadline=deadline)

    def batch_get(self, keys: Iterable[Mapping[str, Any]], *, consistent: bool = False) -> list[Item]:
        """The live items among `keys` (100 per request), in no particular order."""
        # DynamoDB refuses a batch that names one key twice.
        encoded = list({json.dumps(k, sort_keys=True): k for k in (self._key(key) for key in keys)}.values())
        found = batch.get_all(self.gateway, self.name, encoded, consistent=consistent)
        now = now_epoch()
        return [item for item in map(decode_item, found) if is_live(item, self.spec.ttl_attribute, now)]


def _as_stored(item: Mapping[str, Any]) -> Item:
    """What a stored copy of `item` reads back as (the codec leaves out None values)."""
    return decode_item(encode_item(item))


def _as_stored_value(value: Any) -> Any:
    return None if value is None else decode_value(encode_value(value))
