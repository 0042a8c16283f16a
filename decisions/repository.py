"""agent_decisions items: decisions, their id claims, and the rollup counters behind the charts.
The mappers here are the only place that knows attribute names and key layout.

  decision  pk agent:{agent_id}#decision#{type}   sk {timestamp}#{decision_id}
  claim     pk decision#{decision_id}             sk CLAIM     (id -> key, only for ids that do not carry
                                                               their decision's time; first writer wins)
  rollup    pk rollup#{day}                       sk {HH}#{agent_id}   (counters, tokens; older rows: {HH}:{slot}#...)
  lease     pk ingest#{agent_id}                  sk LEASE     (one ingest request at a time per agent)
"""

import base64
import functools
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ulid import ULID

from decisions.schemas import RETENTION, Decision
from memsite import storage
from memsite.storage.codec import encode_item, format_timestamp
from memsite.storage.concurrency import parallel
from memsite.storage.tables import AGENT_DECISIONS

CLAIM = "CLAIM"


def _table() -> storage.Table:
    return storage.table(AGENT_DECISIONS)


def _day(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d")


def _expires_at(decision: Decision) -> int:
    return int((decision.timestamp + RETENTION).timestamp())


def sort_key(decision: Decision) -> str:
    return f"{format_timestamp(decision.timestamp)}#{decision.decision_id}"


def main_key(decision: Decision) -> dict[str, str]:
    return {"pk": f"agent:{decision.agent_id}#decision#{decision.type}", "sk": sort_key(decision)}


def claim_key(decision_id: str) -> dict[str, str]:
    return {"pk": f"decision#{decision_id}", "sk": CLAIM}


def _content(decision: Decision) -> bytes:
    """What makes two submissions of one decision_id 'the same': everything the agent sent."""
    sent = decision.model_dump(
        mode="json", include={"agent_id", "type", "timestamp", "cycle", "context", "reasoning", "links"}
    )
    sent["outcome"] = (
        decision.outcome.model_dump(mode="json", exclude={"reported_at", "reported_by"}) if decision.outcome else None
    )
    return json.dumps(sent, sort_keys=True, separators=(",", ":")).encode()


def content_hash(decision: Decision) -> str:
    """128 bits of SHA-256, 22 characters: collisions stay out of reach, and every byte of a
    decision item counts (it is written again in each index that holds it)."""
    return base64.urlsafe_b64encode(hashlib.sha256(_content(decision)).digest()[:16]).decode().rstrip("=")


def same_content(stored_hash: str, decision: Decision, digest: str) -> bool:
    """Whether `decision` is what was stored with `stored_hash`; items and claims written before
    hashes were shortened carry the whole SHA-256 in hex."""
    if len(stored_hash) == 64:
        return stored_hash == hashlib.sha256(_content(decision)).hexdigest()
    return stored_hash == digest


def learn_keys(decision: Decision) -> dict[str, str | None]:
    """A decision with an outcome is in the sparse `learn` index, sorted by when that outcome
    arrived: consolidation reads each arrival once, past its watermark. A new or corrected
    outcome moves it to the end."""
    if decision.outcome is None:
        return {"learn_pk": None, "learn_sk": None}
    return {
        "learn_pk": f"learn#{decision.agent_id}",
        "learn_sk": f"{format_timestamp(decision.outcome.reported_at)}#{decision.decision_id}",
    }


def _to_item(decision: Decision, *, digest: str | None = None) -> dict[str, Any]:
    record = decision.model_dump(mode="python", exclude_none=True)
    learn = {name: value for name, value in learn_keys(decision).items() if value is not None}
    return (
        main_key(decision)
        | record
        | learn
        | {
            "agent_pk": f"agent:{decision.agent_id}",
            "day_pk": f"day#{_day(decision.timestamp)}",
            "content_hash": digest or content_hash(decision),
            "expires_at": _expires_at(decision),
        }
    )


def stored_item(decision: Decision) -> dict[str, Any]:
    """The item the decision is stored as (decoded form): for tools that compare the write path
    with writing the same bytes directly (bench/)."""
    return _to_item(decision)


# What a decision reads back as: its own fields, not the index keys stored beside them.
DECISION_ATTRIBUTES = tuple(Decision.model_fields)


def _from_item(item: dict[str, Any]) -> Decision:
    return Decision.model_validate({name: item[name] for name in Decision.model_fields if name in item})


@dataclass(frozen=True)
class Claim:
    decision_id: str
    key: dict[str, str]
    content_hash: str


def claim_item(decision: Decision, *, digest: str | None = None) -> dict[str, Any]:
    key = main_key(decision)
    return claim_key(decision.decision_id) | {
        "main_pk": key["pk"],
        "main_sk": key["sk"],
        "content_hash": digest or content_hash(decision),
        "expires_at": _expires_at(decision),
    }


def _claim_from_item(item: dict[str, Any]) -> Claim:
    return Claim(
        decision_id=item["pk"].removeprefix("decision#"),
        key={"pk": item["main_pk"], "sk": item["main_sk"]},
        content_hash=item["content_hash"],
    )


# The values an agent chooses freely (cycle: any size of integer); the rest of the item is ours.
_FREE_FORM = ("context", "reasoning", "outcome", "links", "cycle")


def item_check(decision: Decision) -> None:
    """Raise storage.InvalidValue (naming the value's path) if DynamoDB cannot store the decision."""
    record = decision.model_dump(mode="python", include=set(_FREE_FORM), exclude_none=True)
    encode_item(record)


def key_carried_by_id(decision: Decision) -> bool:
    """True when the decision's id alone gives its sort key and day: a ULID whose time is the
    decision's timestamp (memclient and the API make ids so). Such a decision needs no claim
    item: a lookup by id reads the day index at the exact sort key."""
    return ULID.from_str(decision.decision_id).datetime == decision.timestamp


def claims_find(decision_ids: list[str]) -> dict[str, Claim]:
    """The stored claims among `decision_ids`, by id (read consistently)."""
    items = _table().batch_get([claim_key(decision_id) for decision_id in decision_ids], consistent=True)
    return {claim.decision_id: claim for claim in map(_claim_from_item, items)}


def claim_find(decision_id: str) -> Claim | None:
    item = _table().find(claim_key(decision_id), consistent=True)
    return _claim_from_item(item) if item else None


def carried_key_find(decision_id: str) -> dict[str, str] | None:
    """The key of a decision stored at the sort key its id carries: one exact Query of the day index."""
    moment = ULID.from_str(decision_id).datetime
    exact = storage.SortCondition("eq", (f"{format_timestamp(moment)}#{decision_id}",))
    page = _table().query_page(f"day#{_day(moment)}", index="day_time", sort=exact, limit=1)
    return {"pk": page.items[0]["pk"], "sk": page.items[0]["sk"]} if page.items else None


def key_find(decision_id: str) -> dict[str, str] | None:
    """The key of the decision with this id (a ULID): at the sort key the id carries; else, for
    ids that do not carry their decision's time, its claim."""
    if (key := carried_key_find(decision_id)) is not None:
        return key
    claim = claim_find(decision_id)
    return claim.key if claim else None


def keys_elsewhere(decisions: list[Decision]) -> dict[str, dict[str, str]]:
    """Where decisions with these ids are already stored under another key than theirs: an id
    sent again with another time or type. The claims of ids that carry their time (one
    consistent BatchGetItem: a claim there means the id was first sent with another time), and
    for ids that do not, the sort key their id carries (one exact Query each)."""
    if not decisions:
        return {}
    by_id = {d.decision_id: d for d in decisions}
    carried = [d for d in decisions if key_carried_by_id(d)]
    keys = {c.decision_id: c.key for c in claims_find([d.decision_id for d in carried]).values()} if carried else {}
    for decision in decisions:
        if not key_carried_by_id(decision) and (key := carried_key_find(decision.decision_id)) is not None:
            keys[decision.decision_id] = key
    keys |= keys_of_agent(decisions[0].agent_id, decisions)
    return {i: key for i, key in keys.items() if key != main_key(by_id[i])}


def keys_of_agent(agent_id: str, decisions: list[Decision]) -> dict[str, dict[str, str]]:
    """The keys the agent's stored decisions with these ids have, from one Query of its
    timeline over the time they span: a retry of an id under another type (another key) is
    found here. The index is read eventually consistently; an agent writes only as itself, and
    its earlier request was answered before it retried."""
    if not decisions:
        return {}
    wanted = {d.decision_id for d in decisions}
    sort = storage.SortCondition.between(min(map(sort_key, decisions)), max(map(sort_key, decisions)))
    items = _table().query_all(
        f"agent:{agent_id}", index="agent_time", sort=sort, limit=1000, attributes=("decision_id",)
    )
    return {i["decision_id"]: {"pk": i["pk"], "sk": i["sk"]} for i in items if i["decision_id"] in wanted}


@dataclass(frozen=True)
class Stored:
    """What a create-once write found under the decision's key, if anything."""

    decision: Decision
    content_hash: str


def decision_put_new(decision: Decision, *, digest: str) -> Stored | None:
    """Store the decision unless its key is taken (one conditional write, so no lease is
    needed): None when stored now, else what is stored there (a retry, or other content)."""
    existing = _table().put_new_or_existing(_to_item(decision, digest=digest))
    return None if existing is None else Stored(_from_item(existing), existing["content_hash"])


def claim_put_new(decision: Decision, *, digest: str) -> Claim | None:
    """Claim the id for this decision unless it is claimed: None when claimed now, else the claim."""
    existing = _table().put_new_or_existing(claim_item(decision, digest=digest))
    return None if existing is None else _claim_from_item(existing)


def stored_find(keys: list[dict[str, str]]) -> dict[str, Stored]:
    """The stored decisions at `keys` (read consistently), by decision id."""
    items = _table().batch_get(keys, consistent=True) if keys else []
    return {item["decision_id"]: Stored(_from_item(item), item["content_hash"]) for item in items}


def decisions_write(
    claims: list[Decision], items: list[Decision], *, digests: dict[str, str], deadline: float | None
) -> None:
    """Write the id claims of `claims` (new decisions whose id does not carry their key), then
    the `items`. Claims go first, so no item is ever stored without its claim (a retry would
    take it for new and write it again). The writes are unconditional: only the holder of the
    agent's ingest lease may call this, and no request starts after `deadline` (well before the
    lease ends), so no late writer can overwrite an item that a retry stored and an outcome
    changed since."""
    if claims:
        _table().batch_write([claim_item(d, digest=digests[d.decision_id]) for d in claims], deadline=deadline)
    if items:
        _table().batch_write([_to_item(d, digest=digests[d.decision_id]) for d in items], deadline=deadline)


def _ingest_lease_key(agent_id: str) -> dict[str, str]:
    return {"pk": f"ingest#{agent_id}", "sk": "LEASE"}


def ingest_lease_take(agent_id: str, *, owner: str, seconds: int) -> bool:
    return _table().lease_take(_ingest_lease_key(agent_id), owner=owner, seconds=seconds)


def ingest_lease_release(agent_id: str, *, owner: str) -> None:
    _table().lease_release(_ingest_lease_key(agent_id), owner=owner)


def decisions_find(keys: list[dict[str, str]]) -> list[Decision]:
    return [_from_item(item) for item in _table().batch_get(keys, consistent=True)] if keys else []


def decision_find(key: dict[str, str]) -> Decision | None:
    item = _table().find(key, consistent=True)
    return _from_item(item) if item else None


def decision_update_outcome(decision: Decision, *, expected_version: int) -> Decision:
    """Store `decision`'s outcome and history if the stored version is still `expected_version`."""
    # A new or corrected outcome is news for long-term memory: the decision moves to the end of
    # the learn index, so the next consolidation counts it (and takes back what it counted before).
    changes = learn_keys(decision) | {
        "outcome_status": decision.outcome_status,
        "outcome": decision.outcome.model_dump(mode="python", exclude_none=True) if decision.outcome else None,
        "outcome_history": [change.model_dump(mode="python", exclude_none=True) for change in decision.outcome_history],
    }
    item = _table().update_versioned(main_key(decision), changes, expected_version=expected_version)
    return _from_item(item)


# A filtered list tops its page up: up to this many Query calls, each examining up to
# FILTER_EVALUATE items (about 1 MB of decisions), so a page is empty only when no match is
# left in the window or none was among the FILTERED_CALLS * FILTER_EVALUATE decisions examined.
FILTERED_CALLS = 5
FILTER_EVALUATE = 1000


def decisions_query(
    partitions: list[str],
    *,
    index: str | None,
    sort: storage.SortCondition,
    limit: int,
    cursor: str | None,
    where: dict[str, str] | None,
) -> tuple[list[Decision], str | None]:
    """A page of whole decisions. On `day_time`, which holds keys and the type only, the page's
    items are then fetched in one BatchGetItem, and an outcome filter is applied to them: a
    page is topped up by up to FILTERED_CALLS rounds of a Query and a BatchGetItem, examining
    twice as many decisions each round (from what the page lacks, up to FILTER_EVALUATE). The
    outcome status is not in that index, so that an outcome report does not write it again."""
    spec = AGENT_DECISIONS.index(index) if index else None
    if spec is None or spec.projection == "ALL":
        page = _query(partitions, index, sort, limit, cursor, where, DECISION_ATTRIBUTES)
        return [_from_item(item) for item in page.items], page.next_cursor
    served = {k: v for k, v in (where or {}).items() if k in spec.included}
    after = {k: v for k, v in (where or {}).items() if k not in served}
    found: list[dict[str, Any]] = []
    for round_number in range(FILTERED_CALLS if after else 1):
        examine = min((limit - len(found)) * 2**round_number, FILTER_EVALUATE)
        page = _query(partitions, index, sort, examine, cursor, served or None, None)
        matches = [item for item in _fetched(page.items) if all(item.get(k) == v for k, v in after.items())]
        cursor = page.next_cursor
        if len(found) + len(matches) > limit:  # examined past the page's end: resume after its last
            found += matches[: limit - len(found)]
            options = {"index": index, "sort": sort, "where": served or None, "newest_first": True}
            return [_from_item(item) for item in found], _table().cursor_after(partitions, found[-1], **options)
        found += matches
        if cursor is None or len(found) >= limit:
            break
    return [_from_item(item) for item in found], cursor


def _query(partitions, index, sort, limit, cursor, where, attributes) -> storage.Page:
    return _table().query_partitions(
        partitions,
        index=index,
        sort=sort,
        limit=limit,
        cursor=cursor,
        where=where,
        attributes=attributes,
        max_calls=FILTERED_CALLS if where else None,
        evaluate=FILTER_EVALUATE if where else None,
    )


def _fetched(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items of index entries, in the entries' order, in one BatchGetItem."""
    if not entries:
        return []
    order = {entry["sk"]: position for position, entry in enumerate(entries)}
    items = _table().batch_get([{"pk": entry["pk"], "sk": entry["sk"]} for entry in entries])
    return sorted(items, key=lambda item: order[item["sk"]])


# The learn index: consolidation's queue, each outcome arrival read once.


@dataclass(frozen=True)
class Learned:
    """What consolidation counted for a decision before this store kept a ledger of batches
    (the `learned` attribute of decisions counted by earlier versions): the version whose
    outcome it counted and each contribution, so a later correction takes back exactly that."""

    version: int
    contributions: dict[str, Any]


@dataclass(frozen=True)
class Arrival:
    """One decision as the learn index shows it: a new or corrected outcome, at `position`."""

    decision: Decision
    position: str  # its learn_sk: {reported_at}#{decision_id}
    legacy_learned: Learned | None = None


def learn_page(
    agent_id: str, *, after: str | None, before: str, limit: int, cursor: str | None
) -> tuple[list[Arrival], str | None]:
    """Oldest first: one page of the agent's outcome arrivals after position `after` (a
    learn_sk) that arrived before `before` (a time), with what learning reads of each from the
    index itself, so each arrival costs one read of its entry and nothing more."""
    # Positions are "{time}#{id}": nothing sorts between a position and itself plus a space, and
    # every position of a millisecond sorts before that millisecond plus "#~".
    sort = storage.SortCondition.between(f"{after} " if after else " ", f"{before}#~")
    page = _table().query_page(
        f"learn#{agent_id}", index="learn", sort=sort, limit=limit, cursor=cursor, newest_first=False
    )
    arrivals = []
    for item in page.items:
        learned = item.get("learned")
        legacy = Learned(version=learned["version"], contributions=learned["contributions"]) if learned else None
        arrivals.append(Arrival(decision=_from_item(item), position=item["learn_sk"], legacy_learned=legacy))
    return arrivals, page.next_cursor


# Rollups: counters per agent and hour, kept on every write, so charts never read decisions.


def rollup_key(agent_id: str, moment: datetime) -> dict[str, str]:
    """One row per agent and hour (the charts' resolution): a batch spanning hours of history
    writes one row per hour it touches, and a row's set of applied tokens holds that hour's
    changes only (13 bytes each: see rollup_token). Rows of ten minutes ({HH}:{slot}#{agent}),
    written by earlier versions, are read alongside until they expire."""
    moment = moment.astimezone(UTC)
    return {"pk": f"rollup#{_day(moment)}", "sk": f"{moment:%H}#{agent_id}"}


@functools.lru_cache(maxsize=8)
def _hourly_rows_since(table_name: str) -> datetime | None:
    item = _table().find({"pk": "migration", "sk": "stm-to-learn"}, consistent=True)
    return datetime.fromtimestamp(int(item["done"]), UTC) if item and "done" in item else None


def counted_in_older_rows(at: datetime) -> bool:
    """Whether a change made at `at` was counted by an earlier version, in its rows of ten
    minutes with their longer tokens: catching it up again in an hourly row would count it twice.
    The store's upgrade (decisions.migrations) marks when this layout began; a store made by this
    version has no older rows."""
    since = _hourly_rows_since(_table().name)
    return since is not None and at < since


def rollup_token(kind: str, decision_id: str, version: int | None = None) -> str:
    """A change's token in its row: the id's last 12 characters are 60 random bits of the ULID,
    unique among one agent's decisions of one hour; a row pays for every byte it keeps."""
    return f"{kind}{decision_id[-12:]}" + (f":{version}" if version is not None else "")


@dataclass(frozen=True)
class RollupChange:
    """What one write adds to its agent's hourly row; `token` makes it count once."""

    agent_id: str
    moment: datetime
    counters: dict[str, int]
    token: str


def rollups_apply(changes: list[RollupChange]) -> None:
    """One atomic ADD per agent and hour for the whole batch; when part of it was applied before
    (a retried batch), each change is applied alone so only the missing ones count."""
    groups: dict[tuple[str, str], list[RollupChange]] = defaultdict(list)
    for change in changes:
        key = rollup_key(change.agent_id, change.moment)
        groups[(key["pk"], key["sk"])].append(change)
    parallel(_rollup_group_add, list(groups.values()))


def _rollup_group_add(group: list[RollupChange]) -> None:
    if not _rollup_add(group) and len(group) > 1:
        for change in group:
            _rollup_add([change])


def _rollup_add(changes: list[RollupChange]) -> bool:
    first = changes[0]
    counters: dict[str, int] = defaultdict(int)
    for change in changes:
        for name, amount in change.counters.items():
            counters[name] += amount
    defaults = {
        "agent_id": first.agent_id,
        "hour": f"{first.moment.astimezone(UTC):%Y-%m-%dT%H}",
        "expires_at": int((first.moment + RETENTION).timestamp()),
    }
    key = rollup_key(first.agent_id, first.moment)
    return _table().add_once(key, dict(counters), tokens=[c.token for c in changes], defaults=defaults)


def rollup_rows(day: str, first_hour: str, last_hour: str) -> list[dict[str, Any]]:
    """Every agent's counters of one day, hours first_hour..last_hour ("00".."23")."""
    sort = storage.SortCondition.between(f"{first_hour}#", f"{last_hour}:~")  # hourly rows, and older ten-minute ones
    rows = _table().query_all(f"rollup#{day}", sort=sort, newest_first=False, limit=1000)
    return [{k: v for k, v in row.items() if k not in ("pk", "sk", "applied", "expires_at")} for row in rows]
