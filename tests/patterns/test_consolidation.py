"""Consolidation against the real local DynamoDB: counts, idempotence, crash retry, watermarks,
outcome corrections, the learn index read once past a watermark, strategies."""

import time
from datetime import UTC, datetime, timedelta

import pytest

from memsite import storage
from memsite.storage.tables import AGENT_DECISIONS
from patterns import consolidation, learner
from patterns import memory_repository as repo
from patterns.memory_schemas import SHARED, Batch, ConsolidationRun, Counted
from tests.patterns.helpers import log, report


def state(pattern_id: str, scope: str):
    stored = repo.state_find(pattern_id, scope)
    return stored.state if stored else None


def learn_queue(agent: str) -> list[str]:
    items = storage.table(AGENT_DECISIONS).query_all(f"learn#{agent}", index="learn", limit=500, newest_first=False)
    return [item["decision_id"] for item in items]


def test_outcomes_become_decayed_counts_with_an_interval_for_the_agent_and_for_everyone(agent, marker, definition):
    for status in ["SUCCESS"] * 6 + ["FAILURE"] * 2:
        log(agent, marker, outcome=status)
    log(agent, marker, outcome=None)  # pending: nothing to count yet

    run = consolidation.consolidate_agent(agent)

    assert run.status == "succeeded"
    assert run.decisions_read == 8  # the pending one is not in the learn index until its outcome arrives
    assert run.decisions_counted == 8
    mine, everyone = state(definition.id, agent), state(definition.id, SHARED)
    assert mine.support == everyone.support == 8
    assert mine.hits == pytest.approx(6, abs=0.01)
    assert mine.misses == pytest.approx(2, abs=0.01)
    expected = learner.confidence(learner.Evidence(hits=mine.hits, misses=mine.misses, support=8))
    assert (mine.confidence, mine.low, mine.high) == pytest.approx((expected.mean, expected.low, expected.high))
    assert mine.low < mine.confidence < mine.high
    assert len(mine.sample_hits) == 6
    assert len(mine.sample_misses) == 2
    assert [v.version for v in repo.versions_list(definition.id, agent)] == [1]


def test_running_twice_counts_nothing_twice(agent, marker, definition):
    for status in ["SUCCESS", "FAILURE", "SUCCESS"]:
        log(agent, marker, outcome=status)
    consolidation.consolidate_agent(agent)
    first = state(definition.id, agent)

    again = consolidation.consolidate_agent(agent)

    assert again.decisions_counted == 0
    assert again.patterns_changed == 0
    assert state(definition.id, agent).model_dump() == first.model_dump()


def test_a_crash_after_some_states_were_written_is_finished_by_the_next_run_exactly_once(
    agent, marker, definition, monkeypatch
):
    for status in ["SUCCESS"] * 4 + ["FAILURE"]:
        log(agent, marker, outcome=status)
    real_fold = consolidation._fold_state
    calls = []

    def crash_after_the_first_state(*args, **kwargs):
        if calls:
            raise ConnectionError("worker lost")
        calls.append(1)
        return real_fold(*args, **kwargs)

    monkeypatch.setattr(consolidation, "_fold_state", crash_after_the_first_state)
    with pytest.raises(ConnectionError):
        consolidation.consolidate_agent(agent)
    monkeypatch.setattr(consolidation, "_fold_state", real_fold)
    assert repo.open_batch_find(agent) is not None  # the batch stays open for the retry
    assert [state(definition.id, scope) is not None for scope in (agent, SHARED)] == [True, False]

    consolidation.consolidate_agent(agent)

    assert repo.open_batch_find(agent) is None
    for scope in (agent, SHARED):
        counted = state(definition.id, scope)
        assert counted.support == 5
        assert counted.hits == pytest.approx(4, abs=0.01)


def test_a_corrected_outcome_is_taken_back_and_counted_anew(agent, marker, definition):
    decision = log(agent, marker, outcome="SUCCESS")
    log(agent, marker, outcome="SUCCESS")
    consolidation.consolidate_agent(agent)

    report(decision, "FAILURE")
    consolidation.consolidate_agent(agent)

    corrected = state(definition.id, agent)
    assert corrected.support == 2
    assert corrected.hits == pytest.approx(1, abs=0.01)
    assert corrected.misses == pytest.approx(1, abs=0.01)
    assert decision.decision_id in corrected.sample_misses
    assert decision.decision_id not in corrected.sample_hits


def test_a_late_outcome_joins_the_queue_and_is_counted_once_without_writing_to_any_decision(agent, marker, definition):
    old_pending = log(agent, marker, outcome=None, age=timedelta(days=2))
    old_done = log(agent, marker, outcome="SUCCESS", age=timedelta(days=2))
    young = log(agent, marker, outcome="SUCCESS")
    assert learn_queue(agent) == [old_done.decision_id, young.decision_id]  # in the order outcomes arrived
    consolidation.consolidate_agent(agent)
    assert state(definition.id, agent).support == 2

    report(old_pending, "FAILURE")
    assert learn_queue(agent)[-1] == old_pending.decision_id
    before = storage.meter().snapshot()
    consolidation.consolidate_agent(agent)
    writes = storage.meter().snapshot().minus(before).tables

    assert state(definition.id, agent).support == 3
    assert old_done.decision_id in state(definition.id, agent).sample_hits
    decisions_table = AGENT_DECISIONS.physical_name(storage.gateway().config.table_prefix)
    assert writes.get(decisions_table, storage.capacity.TableUsage()).write_units == 0
    assert consolidation.consolidate_agent(agent).decisions_counted == 0


def test_cost_follows_the_new_decisions_not_history(agent, marker, definition, unique):
    other = f"agent-{unique[-9:].lower()}x"
    for _ in range(30):
        log(agent, marker, outcome="SUCCESS", age=timedelta(days=2))  # history, consolidated below
    log(other, marker, outcome="SUCCESS", age=timedelta(days=2))  # a history of one
    for who in (agent, other):
        consolidation.consolidate_agent(who)
    for who in (agent, other):
        for _ in range(5):
            log(who, marker, outcome="SUCCESS", age=timedelta(days=2))

    calls = {}
    for who in (agent, other):
        before = storage.meter().snapshot()
        consolidation.consolidate_agent(who)
        calls[who] = storage.meter().snapshot().calls - before.calls

    assert calls[agent] == calls[other]


def test_a_second_run_for_the_same_agent_is_skipped_while_the_lease_is_held(agent):
    now = datetime.now(UTC)
    other = ConsolidationRun(run_id="other-run", agent_id=agent, trigger="test", started_at=now, status="running")
    assert repo.lease_take(agent, run=other, until=now + timedelta(minutes=5), now=now).holder is None

    run = consolidation.consolidate_agent(agent)

    assert run.status == "skipped"
    assert "other-run" in run.error
    repo.lease_release(agent, owner="other-run")
    assert consolidation.consolidate_agent(agent).status == "succeeded"


def test_a_run_that_died_holding_the_lease_is_recorded_as_interrupted_once_its_lease_ran_out(agent):
    now = datetime.now(UTC)
    died = ConsolidationRun(run_id="dead-run", agent_id=agent, trigger="beat", started_at=now, status="running")
    repo.run_save(died)
    repo.lease_take(agent, run=died, until=now + timedelta(milliseconds=300), now=now)
    assert consolidation.consolidate_agent(agent).status == "skipped"
    time.sleep(0.4)

    takeover = consolidation.consolidate_agent(agent)

    assert takeover.status == "succeeded"
    runs = {r.run_id: r for r in repo.runs_recent([f"{now:%Y-%m-%d}"], limit=500) if r.agent_id == agent}
    assert runs["dead-run"].status == "interrupted"


def test_a_run_that_lost_its_lease_cannot_open_or_close_a_batch(agent, marker, definition):
    log(agent, marker, outcome="SUCCESS")
    now = datetime.now(UTC)
    mine = ConsolidationRun(run_id="run-a", agent_id=agent, trigger="test", started_at=now, status="running")
    other = ConsolidationRun(run_id="run-b", agent_id=agent, trigger="test", started_at=now, status="running")
    repo.lease_take(agent, run=mine, until=now - timedelta(seconds=1), now=now)
    repo.lease_take(agent, run=other, until=now + timedelta(minutes=5), now=now)

    batch = Batch(entries=[Counted(decision_id="D", stamp="s", version=1, position="p")])
    with pytest.raises(storage.Conflict):
        repo.batch_open(agent, batch, owner="run-a")
    number = repo.batch_open(agent, batch, owner="run-b")
    with pytest.raises(storage.Conflict):
        repo.batch_close(agent, number, owner="run-a", watermark="p")
    repo.batch_close(agent, number, owner="run-b", watermark="p")
    assert repo.control_find(agent).closed_seq == number


def test_a_stale_read_of_the_index_counts_nothing_twice(agent, marker, definition, monkeypatch):
    """The learn index is read eventually consistently: a page may still show arrivals that a
    moment ago were counted, even behind the watermark. Their versions are known, and skipped."""
    for status in ["SUCCESS", "FAILURE", "SUCCESS"]:
        log(agent, marker, outcome=status)
    stale_page = storage.table(AGENT_DECISIONS).query_page(
        f"learn#{agent}", index="learn", limit=100, newest_first=False
    )
    consolidation.consolidate_agent(agent)
    real_query_page = storage.Table.query_page

    def stale(table, partition, **options):
        return stale_page if partition == f"learn#{agent}" else real_query_page(table, partition, **options)

    monkeypatch.setattr(storage.Table, "query_page", stale)
    consolidation.consolidate_agent(agent)
    monkeypatch.undo()

    assert state(definition.id, agent).support == 3


def test_the_pattern_becomes_active_once_the_interval_clears_the_bar(agent, marker, definition):
    for _ in range(4):
        log(agent, marker, outcome="SUCCESS")
    consolidation.consolidate_agent(agent)
    assert state(definition.id, agent).status == "candidate"  # support 4 < min_support 5

    for _ in range(8):
        log(agent, marker, outcome="SUCCESS")
    consolidation.consolidate_agent(agent)

    active = state(definition.id, agent)
    assert active.status == "active"
    assert active.low >= 0.6
    assert [t.status for t in active.history] == ["candidate", "active"]
    assert len(repo.versions_list(definition.id, agent)) == 2


def test_strategies_count_each_action_per_context_bucket(agent, marker, definition):
    for status in ["SUCCESS", "SUCCESS", "FAILURE"]:
        log(agent, marker, outcome=status, action="long")
    log(agent, marker, outcome="FAILURE", action="short")
    consolidation.consolidate_agent(agent)

    [stored] = repo.strategies_of(agent)

    assert (stored.decision_type, stored.bucket) == ("SIGNAL_GENERATION", "trend")
    assert stored.actions == {"long": {"s": 2, "f": 1}, "short": {"s": 0, "f": 1}}


def test_batches_are_pages_of_the_queue(agent, marker, definition, settings):
    settings.CONSOLIDATION_BATCH_SIZE = 3
    for _ in range(7):
        log(agent, marker, outcome="SUCCESS")

    run = consolidation.consolidate_agent(agent)

    assert run.decisions_counted == 7
    assert state(definition.id, agent).support == 7
    assert len(repo.versions_list(definition.id, agent)) == 3  # one version per batch that changed it
