import pytest
import yaml
from django.core.management import call_command

from memsite import storage
from memsite.storage.cloudformation import template
from memsite.storage.provision import create_tables, delete_tables, describe_tables
from memsite.storage.tables import AGENT_DECISIONS, AGENT_STATE, ALL_TABLES
from tests.servers import gateway_for


@pytest.fixture(params=["dynalite", "moto_server"])
def fresh_gateway(request, unique):
    server = request.getfixturevalue(request.param)
    gateway = gateway_for(server.endpoint_url, f"fresh{unique[-6:].lower()}_")
    yield gateway
    delete_tables(gateway, ALL_TABLES)


def test_creating_the_tables_twice_creates_them_once(fresh_gateway):
    first = create_tables(fresh_gateway, ALL_TABLES)
    second = create_tables(fresh_gateway, ALL_TABLES)

    assert len(first) == 4
    assert second == []
    statuses = describe_tables(fresh_gateway, ALL_TABLES)
    assert [status.status for status in statuses] == ["ACTIVE"] * 4


def test_created_tables_have_the_specified_indexes(fresh_gateway):
    create_tables(fresh_gateway, ALL_TABLES)

    by_name = {status.spec.logical_name: status for status in describe_tables(fresh_gateway, ALL_TABLES)}

    for spec in ALL_TABLES:
        assert sorted(index["name"] for index in by_name[spec.logical_name].indexes) == sorted(
            index.name for index in spec.indexes
        )


def test_ttl_is_enabled_where_the_endpoint_supports_it(moto_server, unique):
    gateway = gateway_for(moto_server.endpoint_url, f"ttl{unique[-6:].lower()}_")
    create_tables(gateway, ALL_TABLES)

    by_name = {status.spec.logical_name: status.ttl for status in describe_tables(gateway, ALL_TABLES)}

    assert by_name == {
        "agent_decisions": "ENABLED",
        "agent_memory_ltm": "ENABLED",
        "agent_state": "ENABLED",
        "agent_signals": "ENABLED",
    }
    delete_tables(gateway, ALL_TABLES)


def test_missing_tables_are_described_as_missing(dynalite, unique):
    gateway = gateway_for(dynalite.endpoint_url, f"none{unique[-6:].lower()}_")

    statuses = describe_tables(gateway, ALL_TABLES)

    assert [status.exists for status in statuses] == [False] * 4


def test_the_cloudformation_template_parses_and_matches_the_specs():
    document = yaml.safe_load(template(ALL_TABLES, default_prefix="prod_"))

    tables = {name: r for name, r in document["Resources"].items() if r["Type"] == "AWS::DynamoDB::Table"}
    assert len(tables) == 4
    decisions = tables["AgentDecisionsTable"]["Properties"]
    assert decisions["TableName"] == {"Fn::Sub": "${TablePrefix}agent_decisions"}
    assert decisions["BillingMode"] == "PAY_PER_REQUEST"
    assert decisions["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert [i["IndexName"] for i in decisions["GlobalSecondaryIndexes"]] == [i.name for i in AGENT_DECISIONS.indexes]
    day_time = next(i for i in decisions["GlobalSecondaryIndexes"] if i["IndexName"] == "day_time")
    assert day_time["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["type"]}
    assert document["Parameters"]["TablePrefix"]["Default"] == "prod_"


def test_every_index_key_has_an_attribute_definition():
    document = yaml.safe_load(template(ALL_TABLES, default_prefix="memsite_"))

    for resource in document["Resources"].values():
        properties = resource["Properties"]
        defined = {d["AttributeName"] for d in properties["AttributeDefinitions"]}
        used = {k["AttributeName"] for k in properties["KeySchema"]}
        for index in properties.get("GlobalSecondaryIndexes", []):
            used |= {k["AttributeName"] for k in index["KeySchema"]}
        assert used == defined


def test_the_create_command_says_nothing_to_do_the_second_time(capsys):
    call_command("dynamodb_tables", "create")

    assert "nothing to do" in capsys.readouterr().out


def test_the_describe_command_lists_tables_and_indexes(capsys):
    call_command("dynamodb_tables", "describe")

    out = capsys.readouterr().out
    for spec in ALL_TABLES:
        assert spec.physical_name(storage.gateway().config.table_prefix) in out
    assert "index agent_time" in out
    assert "index registry" in out


def test_describe_exact_counts_every_item(capsys, unique):
    state = storage.table(AGENT_STATE)
    call_command("dynamodb_tables", "describe", "--exact")
    before = _count_of(capsys.readouterr().out, state.name)
    state.batch_write([{"pk": f"agent:{unique}", "sk": f"STM#{n}"} for n in range(3)])

    call_command("dynamodb_tables", "describe", "--exact")

    assert _count_of(capsys.readouterr().out, state.name) == before + 3


def _count_of(output: str, table_name: str) -> int:
    line = next(line for line in output.splitlines() if line.startswith(table_name))
    return int(line.split()[2])


def test_the_cloudformation_command_prints_yaml(capsys):
    call_command("dynamodb_tables", "cloudformation")

    assert len(yaml.safe_load(capsys.readouterr().out)["Resources"]) == 4


def test_create_adds_the_indexes_the_spec_gained_and_drops_the_ones_it_lost_keeping_every_item(fresh_gateway, unique):
    from dataclasses import replace

    from memsite.storage import SortCondition, Table
    from memsite.storage.migrate import extra_indexes, missing_indexes
    from memsite.storage.tables import IndexSpec

    retired = IndexSpec(name="by_day", partition_key="day_pk", sort_key="day_sk", purpose="the old day index")
    old_spec = replace(AGENT_DECISIONS, indexes=(AGENT_DECISIONS.indexes[0], retired))
    create_tables(fresh_gateway, (old_spec,))
    items = [
        {
            "pk": "agent:a#decision#X",
            "sk": f"2026-11-27T10:00:0{n}.000Z#{n}",
            "day_pk": "day#2026-11-27",
            "day_sk": f"2026-11-27T10:00:0{n}.000Z#{n}",
            "n": n,
            "ratio": 0.1 * n,
        }
        for n in range(5)
    ]
    Table(old_spec, fresh_gateway).batch_write(items)

    create_tables(fresh_gateway, (AGENT_DECISIONS,))

    table = Table(AGENT_DECISIONS, fresh_gateway)
    by_day = table.query_page("day#2026-11-27", index="day_time", sort=SortCondition.begins_with("2026"), limit=10)
    assert len(by_day.items) == 5
    assert missing_indexes(fresh_gateway, AGENT_DECISIONS) == []
    assert extra_indexes(fresh_gateway, AGENT_DECISIONS) == []
    assert sorted(table.query_all("agent:a#decision#X"), key=lambda i: i["n"]) == items
    assert create_tables(fresh_gateway, (AGENT_DECISIONS,)) == []


def test_storage_calls_in_a_celery_worker_retry_as_a_worker(storage_settings):
    from memsite.celery import storage_retries_as_a_worker

    storage_retries_as_a_worker(sender="test-worker")
    try:
        in_a_task = storage.gateway().config
        assert in_a_task.max_attempts == storage.gateway("worker").config.max_attempts
        assert in_a_task.max_attempts > storage.gateway("request").config.max_attempts
    finally:
        storage.set_process_role("request")
    assert storage.gateway().config.max_attempts == storage.gateway("request").config.max_attempts
