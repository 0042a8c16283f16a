"""The storage contract, run against both dynalite and moto server over real HTTP.

Each test uses its own partition (the `unique` fixture), so the session's tables are shared safely.
"""

import threading
import time

import pytest

from memsite import storage
from memsite.storage import Conflict, InvalidCursor, NotFound, SortCondition, Table, TooLarge
from memsite.storage.tables import AGENT_DECISIONS, AGENT_STATE
from memsite.storage.ttl import now_epoch


@pytest.fixture
def state(backend_gateway: storage.Gateway) -> Table:
    return Table(AGENT_STATE, backend_gateway)


@pytest.fixture
def decisions(backend_gateway: storage.Gateway) -> Table:
    return Table(AGENT_DECISIONS, backend_gateway)


def test_conditional_create_twice_keeps_one_item_and_the_retry_is_idempotent(state, unique):
    item = {"pk": f"agent:{unique}", "sk": "CURRENT", "cycle": 7, "market": {"price": 64123.5}}

    first = state.put_new(item)
    second = state.put_new(item)

    assert first.created is True
    assert second.created is False
    assert second.item == item
    assert list(state.query_all(f"agent:{unique}")) == [item]


def test_conditional_create_with_different_content_is_a_conflict_and_keeps_the_first(state, unique):
    key = {"pk": f"agent:{unique}", "sk": "CURRENT"}
    state.put_new(key | {"cycle": 1})

    with pytest.raises(Conflict) as raised:
        state.put_new(key | {"cycle": 2})

    assert raised.value.current == key | {"cycle": 1}
    assert raised.value.aws_code == "ConditionalCheckFailedException"
    assert state.get(key) == key | {"cycle": 1}


def test_an_optimistic_update_race_has_exactly_one_winner(state, unique):
    key = {"pk": f"agent:{unique}", "sk": "CONFIG"}
    state.update_versioned(key, {"body": "v1"}, expected_version=0)
    contenders = 8
    barrier = threading.Barrier(contenders)
    outcomes: list[str] = []

    def save(n: int) -> None:
        barrier.wait()
        try:
            state.update_versioned(key, {"body": f"edit {n}"}, expected_version=1)
            outcomes.append("won")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=save, args=(n,)) for n in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["conflict"] * (contenders - 1) + ["won"]
    stored = state.get(key, consistent=True)
    assert stored["version"] == 2
    assert stored["body"].startswith("edit ")


def test_a_stale_version_is_a_conflict_that_names_the_stored_version(state, unique):
    key = {"pk": f"agent:{unique}", "sk": "CONFIG"}
    state.update_versioned(key, {"body": "v1"}, expected_version=0)
    state.update_versioned(key, {"body": "v2"}, expected_version=1)

    with pytest.raises(Conflict, match="at version 2, not 1") as raised:
        state.update_versioned(key, {"body": "stale"}, expected_version=1)

    assert raised.value.current["body"] == "v2"


def _timeline(decisions: Table, agent: str, count: int, *, padding: int = 0) -> list[dict]:
    items = [
        {
            "pk": f"agent:{agent}#decision#QUERY_EXECUTION",
            "sk": f"2026-11-27T10:{n // 60:02d}:{n % 60:02d}.000Z#{n:05d}",
            "n": n,
            "blob": "x" * padding,
        }
        for n in range(count)
    ]
    assert decisions.batch_write(items) == count
    return items


def test_paging_over_more_than_1mb_returns_every_item_exactly_once(decisions, unique):
    items = _timeline(decisions, unique, 150, padding=10_000)  # about 1.5 MB in one partition
    pk = items[0]["pk"]

    seen, pages, cursor = [], 0, None
    while True:
        page = decisions.query_page(pk, limit=1000, cursor=cursor)
        seen += [item["n"] for item in page.items]
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor

    assert sorted(seen) == list(range(150))
    assert len(seen) == len(set(seen))
    assert seen == sorted(seen, reverse=True), "newest first"
    assert pages >= 2


def test_small_pages_follow_the_cursor_to_the_end(decisions, unique):
    items = _timeline(decisions, unique, 23)

    pages = []
    cursor = None
    while True:
        page = decisions.query_page(items[0]["pk"], limit=5, cursor=cursor, newest_first=False)
        pages.append([item["n"] for item in page.items])
        if not (cursor := page.next_cursor):
            break

    assert [n for page in pages for n in page] == list(range(23))
    assert all(len(page) == 5 for page in pages[:4])


def test_a_sort_key_condition_limits_the_range(decisions, unique):
    items = _timeline(decisions, unique, 30)
    window = SortCondition.between("2026-11-27T10:00:10", "2026-11-27T10:00:20")

    page = decisions.query_page(items[0]["pk"], sort=window, limit=100, newest_first=False)

    assert [item["n"] for item in page.items] == list(range(10, 20))


def test_a_moving_floor_that_overtakes_a_cursor_starts_the_next_page_at_the_floor(decisions, unique):
    """As the inbox pages: the floor is "now minus the longest life", later on every request."""
    items = _timeline(decisions, unique, 20)
    first = decisions.query_page(
        items[0]["pk"], sort=SortCondition("gt", ("2026-11-27T10:00:00.5",), moving=True), limit=5, newest_first=False
    )
    assert [item["n"] for item in first.items] == [1, 2, 3, 4, 5]

    later = SortCondition("gt", ("2026-11-27T10:00:08.5",), moving=True)  # past the cursor (item 5)
    rest = decisions.query_page(items[0]["pk"], sort=later, limit=50, cursor=first.next_cursor, newest_first=False)
    still_behind = SortCondition("gt", ("2026-11-27T10:00:03.5",), moving=True)
    resumed = decisions.query_page(
        items[0]["pk"], sort=still_behind, limit=3, cursor=first.next_cursor, newest_first=False
    )

    assert [item["n"] for item in rest.items] == list(range(9, 20))
    assert [item["n"] for item in resumed.items] == [6, 7, 8]


def test_a_tampered_cursor_is_refused_with_a_clear_error(decisions, unique):
    items = _timeline(decisions, unique, 5)
    cursor = decisions.query_page(items[0]["pk"], limit=2).next_cursor
    assert cursor
    tampered = cursor[:-3] + ("AAA" if not cursor.endswith("AAA") else "BBB")

    with pytest.raises(InvalidCursor, match="altered"):
        decisions.query_page(items[0]["pk"], limit=2, cursor=tampered)
    with pytest.raises(InvalidCursor):
        decisions.query_page(items[0]["pk"], limit=2, cursor="not-a-cursor")


def test_a_cursor_from_another_query_is_refused(decisions, unique):
    items = _timeline(decisions, unique, 5)
    cursor = decisions.query_page(items[0]["pk"], limit=2).next_cursor

    with pytest.raises(InvalidCursor, match="different query"):
        decisions.query_page("agent:someone-else#decision#QUERY_EXECUTION", limit=2, cursor=cursor)


def test_a_batch_write_of_1000_items_stores_them_all(state, unique):
    items = [{"pk": f"agent:{unique}", "sk": f"STM#{n:04d}", "value": n} for n in range(1000)]

    assert state.batch_write(items) == 1000

    stored = list(state.query_all(f"agent:{unique}", limit=1000))
    assert sorted(item["value"] for item in stored) == list(range(1000))
    fetched = state.batch_get([{"pk": f"agent:{unique}", "sk": f"STM#{n:04d}"} for n in range(0, 1000, 7)])
    assert sorted(item["value"] for item in fetched) == list(range(0, 1000, 7))


def test_a_batch_naming_one_key_twice_stores_the_later_item(state, unique):
    key = {"pk": f"agent:{unique}", "sk": "STM#k"}

    written = state.batch_write([key | {"value": 1}, key | {"value": 2}])

    assert state.get(key)["value"] == 2
    assert written == 1


def test_floats_and_integers_round_trip_without_precision_surprises(state, unique):
    values = {
        "tenth": 0.1,
        "tiny": 1e-7,
        "price": 64123.45678901234,
        "negative": -0.000123,
        "big_int": 2**63 - 1,
        "nested": {"scores": [0.3, 0.7, 1.0e21], "ok": True, "none": None, "empty": ""},
    }
    key = {"pk": f"agent:{unique}", "sk": "CURRENT"}

    state.put(key | values)
    stored = state.get(key)

    assert stored["tenth"] == 0.1
    assert stored["tiny"] == 1e-7
    assert stored["price"] == 64123.45678901234
    assert stored["negative"] == -0.000123
    assert stored["big_int"] == 2**63 - 1
    assert stored["nested"] == {"scores": [0.3, 0.7, 1.0e21], "ok": True, "none": None, "empty": ""}


def test_an_item_over_400_kb_is_too_large(state, unique):
    with pytest.raises(TooLarge, match="400 KB"):
        state.put({"pk": f"agent:{unique}", "sk": "BIG", "blob": "x" * 410_000})

    assert state.find({"pk": f"agent:{unique}", "sk": "BIG"}) is None


def test_expired_items_are_never_returned(state, unique):
    pk = f"agent:{unique}"
    expired = {"pk": pk, "sk": "STM#old", "value": 1, "expires_at": now_epoch() - 5}
    live = {"pk": pk, "sk": "STM#new", "value": 2, "expires_at": now_epoch() + 3600}
    forever = {"pk": pk, "sk": "CURRENT", "value": 3}
    state.batch_write([expired, live, forever])

    assert state.find({"pk": pk, "sk": "STM#old"}) is None
    with pytest.raises(NotFound):
        state.get({"pk": pk, "sk": "STM#old"})
    assert sorted(item["value"] for item in state.query_all(pk)) == [2, 3]
    assert sorted(item["value"] for item in state.batch_get([expired, live, forever])) == [2, 3]


def test_an_item_that_expires_while_stored_disappears_from_reads(state, unique):
    key = {"pk": f"agent:{unique}", "sk": "STM#soon"}
    state.put(key | {"expires_at": now_epoch() + 2})  # + 1 could be over by the time find reads it
    assert state.find(key) is not None

    time.sleep(3.1)

    assert state.find(key) is None


def test_a_missing_item_is_not_found(state, unique):
    with pytest.raises(NotFound):
        state.get({"pk": f"agent:{unique}", "sk": "nothing"})


def test_a_page_across_partitions_reads_them_in_order_and_resumes_from_the_cursor(decisions, unique):
    days = [f"agent:{unique}-{day}#decision#RISK_ASSESSMENT" for day in ("d3", "d2", "d1")]
    for n, pk in enumerate(days):
        decisions.batch_write(
            [{"pk": pk, "sk": f"2026-11-2{n}T10:00:0{i}.000Z#{i}", "day": n, "i": i} for i in range(4)]
        )

    seen, cursor, pages = [], None, 0
    while True:
        page = decisions.query_partitions(days, limit=3, cursor=cursor)
        seen += [(item["day"], item["i"]) for item in page.items]
        pages += 1
        if not (cursor := page.next_cursor):
            break

    assert seen == [(day, i) for day in range(3) for i in reversed(range(4))]
    assert pages >= 4


def test_a_page_across_partitions_steps_over_empty_ones(decisions, unique):
    days = [f"agent:{unique}-{day}#decision#RISK_ASSESSMENT" for day in ("d3", "d2", "d1")]
    decisions.batch_write(
        [{"pk": days[0], "sk": "2026-11-27T10:00:00.000Z#a"}, {"pk": days[2], "sk": "2026-11-25T10:00:00.000Z#b"}]
    )

    page = decisions.query_partitions(days, limit=10)

    assert [item["sk"][-1] for item in page.items] == ["a", "b"]
    assert page.next_cursor is None


def test_an_equality_filter_keeps_only_matching_items(decisions, unique):
    pk = f"agent:{unique}#decision#TRADE_EXECUTION"
    decisions.batch_write(
        [
            {"pk": pk, "sk": f"2026-11-27T10:00:0{i}.000Z#{i}", "outcome_status": "SUCCESS" if i % 2 else "FAILURE"}
            for i in range(6)
        ]
    )

    page = decisions.query_page(pk, where={"outcome_status": "SUCCESS"}, limit=10)

    assert [item["sk"][-1] for item in page.items] == ["5", "3", "1"]


def test_add_once_counts_each_token_once(state, unique):
    key = {"pk": f"agent:{unique}", "sk": "ROLLUP"}

    assert state.add_once(key, {"total": 2, "t_TRADE": 2}, tokens=["c:1", "c:2"], defaults={"agent": "a"})
    assert not state.add_once(key, {"total": 1}, tokens=["c:2"])
    assert state.add_once(key, {"total": 1, "t_TRADE": -1}, tokens=["c:3"], defaults={"agent": "b"})

    stored = state.get(key)
    assert stored["total"] == 3
    assert stored["t_TRADE"] == 1
    assert stored["agent"] == "a"
    assert stored["applied"] == {"c:1", "c:2", "c:3"}


def test_a_retry_with_1_where_true_was_stored_is_different_content(state, unique):
    key = {"pk": f"agent:{unique}", "sk": "CURRENT"}
    state.put_new(key | {"flag": True})

    with pytest.raises(Conflict):
        state.put_new(key | {"flag": 1})


def test_an_expired_item_does_not_hold_its_key(state, unique):
    key = {"pk": f"agent:{unique}", "sk": "STM#k"}
    state.put(key | {"value": "old", "expires_at": now_epoch() - 1})

    result = state.put_new(key | {"value": "new", "expires_at": now_epoch() + 60})

    assert result.created is True
    assert state.get(key)["value"] == "new"


def test_a_versioned_update_removes_attributes_given_as_none(state, unique):
    key = {"pk": f"agent:{unique}", "sk": "DOC"}
    state.update_versioned(key, {"body": "v1", "draft": "yes"}, expected_version=0)

    updated = state.update_versioned(key, {"body": "v2", "draft": None}, expected_version=1)

    assert updated == key | {"body": "v2", "version": 2}


def test_creating_with_version_0_refuses_an_item_that_exists(state, unique):
    key = {"pk": f"agent:{unique}", "sk": "DOC"}
    state.put(key | {"body": "written without a version"})

    with pytest.raises(Conflict):
        state.update_versioned(key, {"body": "v1"}, expected_version=0)


def test_updating_a_missing_item_is_not_found(state, unique):
    with pytest.raises(NotFound):
        state.update_versioned({"pk": f"agent:{unique}", "sk": "DOC"}, {"body": "v2"}, expected_version=3)


def test_a_batch_get_naming_a_key_twice_returns_the_item_once(state, unique):
    key = {"pk": f"agent:{unique}", "sk": "CURRENT"}
    state.put(key | {"v": 1})

    assert state.batch_get([key, key]) == [key | {"v": 1}]


def test_a_ttl_attribute_that_is_not_a_number_never_expires_the_item(state, unique):
    key = {"pk": f"agent:{unique}", "sk": "STM#odd"}
    state.put(key | {"expires_at": "tomorrow"})

    assert state.find(key) is not None


def test_add_within_refuses_an_amount_above_the_ceiling_even_on_a_new_item(state, unique):
    applied, _ = state.add_within({"pk": f"agent:{unique}", "sk": "RATE#x"}, "used", 10, ceiling=5, defaults={})

    assert applied is False
    assert state.find({"pk": f"agent:{unique}", "sk": "RATE#x"}) is None


def test_update_fields_conditions_on_equal_and_below_values(state, unique):
    key = {"pk": f"agent:{unique}", "sk": "RUN"}
    state.update_fields(key, {"owner": "run-a", "mark": {"seq": 3}}, must_exist=False)

    state.update_fields(key, {"note": "ok"}, equals={"owner": "run-a"}, below={"mark.seq": 4})
    with pytest.raises(storage.Conflict):
        state.update_fields(key, {"note": "stale owner"}, equals={"owner": "run-b"})
    with pytest.raises(storage.Conflict):
        state.update_fields(key, {"note": "not below"}, below={"mark.seq": 3})
    state.update_fields(key, {"fresh": 1}, below={"missing.seq": 1})

    stored = state.get(key, consistent=True)
    assert stored["note"] == "ok"
    assert stored["fresh"] == 1


def test_a_lease_has_one_holder_until_it_is_released_or_expires(state, unique):
    key = {"pk": f"agent:{unique}", "sk": "LEASE"}

    assert state.lease_take(key, owner="first", seconds=60) is True
    assert state.lease_take(key, owner="second", seconds=60) is False
    assert state.lease_take(key, owner="first", seconds=60) is True  # the holder may renew
    state.lease_release(key, owner="second")  # not the holder: nothing happens
    assert state.lease_take(key, owner="second", seconds=60) is False

    state.lease_release(key, owner="first")
    assert state.lease_take(key, owner="second", seconds=0) is True  # expires at once
    assert state.lease_take(key, owner="third", seconds=60) is True


def test_a_lease_taken_by_many_at_once_has_exactly_one_holder(state, unique):
    key = {"pk": f"agent:{unique}", "sk": "LEASE"}
    contenders = 8
    barrier = threading.Barrier(contenders)
    taken: list[bool] = []

    def take(n: int) -> None:
        barrier.wait()
        taken.append(state.lease_take(key, owner=f"owner-{n}", seconds=60))

    threads = [threading.Thread(target=take, args=(n,)) for n in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(taken) == [False] * (contenders - 1) + [True]


def test_a_batch_write_past_its_deadline_writes_nothing(state, unique):
    items = [{"pk": f"agent:{unique}", "sk": f"item#{n:03d}"} for n in range(60)]

    with pytest.raises(storage.Unavailable):
        state.batch_write(items, deadline=time.monotonic() - 1)

    assert list(state.query_all(f"agent:{unique}")) == []


def test_a_query_can_return_only_the_attributes_asked_for(decisions, unique):
    partition = f"agent:{unique}#decision#T"
    decisions.batch_write([{"pk": partition, "sk": f"{n}", "kept": n, "left": "x" * 100} for n in range(3)])

    page = decisions.query_page(partition, attributes=["pk", "kept"], newest_first=False)

    # The keys come back too: a page cut short resumes from its last item's key.
    assert page.items == [{"pk": partition, "sk": f"{n}", "kept": n} for n in range(3)]


def test_a_projected_query_still_drops_expired_items(decisions, unique):
    partition = f"agent:{unique}#decision#T"
    decisions.batch_write(
        [
            {"pk": partition, "sk": "1", "kept": 1, "expires_at": now_epoch() - 10},
            {"pk": partition, "sk": "2", "kept": 2, "expires_at": now_epoch() + 3600},
        ]
    )

    page = decisions.query_page(partition, attributes=["kept"], newest_first=False)

    assert [item["kept"] for item in page.items] == [2]
