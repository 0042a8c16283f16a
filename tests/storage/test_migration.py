"""A store made by the version before the cost work (five ALL-projected decision indexes, the `stm`
queue, no TTL on long-term memory) moves to today's layout with `dynamodb_tables create`'s steps,
and every item comes through: compared attribute by attribute, before and after."""

from dataclasses import replace

import pytest

from decisions.migrations import decisions_upgrade
from memsite.storage.migrate import extra_indexes, missing_indexes
from memsite.storage.provision import create_tables, delete_tables
from memsite.storage.table import Table
from memsite.storage.tables import AGENT_DECISIONS, AGENT_MEMORY_LTM, AGENT_SIGNALS, AGENT_STATE, ALL_TABLES, IndexSpec
from tests.servers import gateway_for

OLD_DECISIONS = replace(
    AGENT_DECISIONS,
    indexes=tuple(
        IndexSpec(name=name, partition_key=f"{key}_pk", sort_key=f"{key}_sk", purpose=name, sparse=name == "stm")
        for name, key in (
            ("by_agent", "agent"),
            ("by_type", "type"),
            ("by_outcome", "outcome"),
            ("by_day", "day"),
            ("stm", "stm"),
        )
    ),
)
OLD_LTM = replace(AGENT_MEMORY_LTM, ttl_attribute=None)
OLD_TABLES = (OLD_DECISIONS, OLD_LTM, AGENT_STATE, AGENT_SIGNALS)


def old_decision(n: int, *, outcome: str | None, counted: bool, waiting: bool) -> dict:
    stamp = f"2026-11-27T10:00:{n:02d}.000Z"
    decision_id = f"01JDECISION{n:015d}"
    sk = f"{stamp}#{decision_id}"
    item = {
        "pk": "agent:hunter#decision#SIGNAL_GENERATION",
        "sk": sk,
        "decision_id": decision_id,
        "agent_id": "hunter",
        "type": "SIGNAL_GENERATION",
        "timestamp": stamp,
        "recorded_at": stamp,
        "version": 2 if outcome else 1,
        "context": {"regime": "trend", "price": 64000.5 + n},
        "reasoning": {"action": "long"},
        "outcome_status": outcome or "PENDING",
        "agent_pk": "agent:hunter",
        "agent_sk": sk,
        "type_pk": "type#SIGNAL_GENERATION#2026-11-27",
        "type_sk": sk,
        "outcome_pk": f"outcome#{outcome or 'PENDING'}#2026-11-27",
        "outcome_sk": sk,
        "day_pk": "day#2026-11-27",
        "day_sk": sk,
        "content_hash": "f" * 64,
        "expires_at": 4102444800,
    }
    if outcome:
        item["outcome"] = {"status": outcome, "reported_at": stamp, "reported_by": "agent:hunter"}
        item["outcome_history"] = [{"previous": None, "replaced_at": stamp, "replaced_by": "agent:hunter"}]
    if counted:
        item["learned"] = {"version": item["version"], "contributions": {"hunter/p": [1, 5]}, "batch": 3}
    if waiting:
        item |= {"stm_pk": "stm#hunter", "stm_sk": sk}
    return item


OTHERS = [
    (
        AGENT_STATE,
        [
            {"pk": "agent:hunter", "sk": "CONFIG#v000001", "config": {"risk": 0.2}, "author": "alice", "note": "v1"},
            {"pk": "agent:hunter", "sk": "CURRENT", "state": {"cycle": 7}, "version": 3},
        ],
    ),
    (
        AGENT_MEMORY_LTM,
        [
            {"pk": "agent:hunter#memory#PATTERN", "sk": "p", "confidence": 0.7, "conf_pk": "PATTERN#hunter"},
            {"pk": "agent:hunter#memory#PATTERN", "sk": "p#v00000004", "confidence": 0.7, "version": 4},
        ],
    ),
    (
        AGENT_SIGNALS,
        [
            {
                "pk": "signal#WHALE_ACTIVITY",
                "sk": "2026-11-27T10:00:00.000Z#01JSIGNAL",
                "day_pk": "day#2026-11-27",
                "day_sk": "2026-11-27T10:00:00.000Z#01JSIGNAL",
                "payload": {"btc": 12.5},
                "expires_at": 4102444800,
            }
        ],
    ),
]


def everything(gateway, specs) -> dict:
    found = {}
    for spec in specs:
        name = spec.physical_name(gateway.config.table_prefix)
        response = gateway.client.scan(TableName=name)
        found[spec.logical_name] = {(i["pk"]["S"], i["sk"]["S"]): i for i in response["Items"]}
    return found


@pytest.fixture(params=["dynalite", "moto_server"])
def old_store(request, unique):
    server = request.getfixturevalue(request.param)
    gateway = gateway_for(server.endpoint_url, f"mig{unique[-6:].lower()}_")
    create_tables(gateway, OLD_TABLES)
    decisions = [
        old_decision(1, outcome=None, counted=False, waiting=True),  # pending, in the old queue
        old_decision(2, outcome="SUCCESS", counted=True, waiting=True),  # counted, still under a day old
        old_decision(3, outcome="FAILURE", counted=False, waiting=True),  # its outcome not counted yet
        old_decision(4, outcome="SUCCESS", counted=True, waiting=False),  # counted and out of the queue
    ]
    Table(OLD_DECISIONS, gateway).batch_write(decisions)
    for spec, items in OTHERS:
        Table(spec, gateway).batch_write(items)
    yield gateway
    delete_tables(gateway, ALL_TABLES)


def test_an_old_store_keeps_every_item_and_waiting_outcomes_join_the_learn_index(old_store):
    before = everything(old_store, OLD_TABLES)

    create_tables(old_store, ALL_TABLES, report=lambda message: None)
    joined = decisions_upgrade(report=lambda message: None, gateway=old_store)

    after = everything(old_store, ALL_TABLES)
    for spec in ALL_TABLES:
        assert missing_indexes(old_store, spec) == []
        assert extra_indexes(old_store, spec) == []
    assert joined == 1
    migrated = {key: item for key, item in after["agent_decisions"].items() if key[0] != "migration"}
    assert migrated.keys() == before["agent_decisions"].keys()
    for key, old in before["agent_decisions"].items():
        new = migrated[key]
        if old["decision_id"]["S"].endswith("3"):  # the one whose outcome was waiting to be counted
            assert {k: v for k, v in new.items() if not k.startswith("learn_")} == {
                k: v for k, v in old.items() if not k.startswith("stm_")
            }
            assert new["learn_pk"] == {"S": "learn#hunter"}
        else:
            assert new == old
    for name in ("agent_state", "agent_memory_ltm", "agent_signals"):
        assert after[name] == before[name]
    assert decisions_upgrade(report=lambda message: None, gateway=old_store) == 0  # once
