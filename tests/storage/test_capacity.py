from memsite.storage import Table
from memsite.storage.tables import AGENT_DECISIONS
from tests.servers import gateway_for


def test_every_call_is_metered_with_the_units_dynamodb_reports(dynalite, unique):
    from memsite import storage

    gateway = gateway_for(dynalite.endpoint_url, storage.gateway().config.table_prefix)
    decisions = Table(AGENT_DECISIONS, gateway)
    item = {
        "pk": f"agent:{unique}#decision#TRADE_EXECUTION",
        "sk": f"2026-11-27T10:00:00.000Z#{unique}",
        "agent_pk": f"agent:{unique}",
        "agent_sk": f"2026-11-27T10:00:00.000Z#{unique}",
    }
    before = gateway.meter.snapshot()

    decisions.put(item)
    decisions.get(item)
    decisions.query_page(item["pk"])

    used = gateway.meter.snapshot().minus(before)
    usage = used.tables[decisions.name]
    assert used.operations == {"PutItem": 1, "GetItem": 1, "Query": 1}
    assert usage.calls == 3
    # AWS also charges the index the item lands in; dynalite reports the base table only
    assert usage.write_units >= 1
    assert usage.read_units >= 1
