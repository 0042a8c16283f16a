"""python -m bench.capacity [bench/results-full.json]: the cost tables of docs/capacity.md, from a
bench run's measured request units and the prices in memsite/settings/costs.py.

Base-table units are measured (the team workload of the bench: the simulated agents through
memclient for a day of live cycles, consolidated every cycle). dynalite does not report index
units, so those are added from the index definitions: every write of a decision item costs the
item's units again in each index the item is in before or after the write (all five decision
indexes project ALL; an index whose key changes takes a delete and a put)."""

import json
import math
import os
import sys
from pathlib import Path

# Only builds figures: no server, no secrets (the settings package wants one with DEBUG off).
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "memsite.settings")

from memsite.settings.costs import DYNAMODB_PRICES, MONTHLY_BUDGET_USD

CYCLES_PER_DAY = 144  # the user's design: a cycle every ten minutes
DAYS_PER_MONTH = 30
RETENTION_DAYS = 90
TEAMS = (3, 100, 1_000)
# Index writes over one decision's life (see the module docstring):
#   logged: one in each of the 5 indexes
#   outcome reported: by_agent, by_type, by_day and stm updated, by_outcome moved (2)  -> 6
#   counted by consolidation while under a day old (what it learned is recorded)      -> 5
#   released from short-term memory a day later (stm entry deleted, 4 others updated) -> 5
INDEX_WRITES_PER_DECISION = 5 + 6 + 5 + 5
DECISION_COPIES = 1 + 5  # the item and its five ALL-projected index entries
INDEX_OVERHEAD_BYTES = 100  # DynamoDB's per-item overhead in each index


def model(results: dict, item_bytes: float) -> dict:
    team, item_units = results["figures"]["team"], results["figures"]["item_units"]
    decisions = team["decisions_per_agent_cycle"]
    base_write = team["api_write_units_per_agent_cycle"] + team["consolidation_write_units_per_agent_cycle"]
    base_read = team["api_read_units_per_agent_cycle"] + team["consolidation_read_units_per_agent_cycle"]
    index_write = decisions * INDEX_WRITES_PER_DECISION * item_units
    stored_decisions = decisions * CYCLES_PER_DAY * RETENTION_DAYS
    storage_gb = stored_decisions * DECISION_COPIES * (item_bytes + INDEX_OVERHEAD_BYTES) / 1e9
    per_agent_month = {
        "write_units": (base_write + index_write) * CYCLES_PER_DAY * DAYS_PER_MONTH,
        "read_units": base_read * CYCLES_PER_DAY * DAYS_PER_MONTH,
        "storage_gb": storage_gb,
    }
    rows = []
    for agents in TEAMS:
        writes = per_agent_month["write_units"] * agents
        reads = per_agent_month["read_units"] * agents
        storage = per_agent_month["storage_gb"] * agents
        cost = (
            writes / 1e6 * DYNAMODB_PRICES["write_request_units_per_million"]
            + reads / 1e6 * DYNAMODB_PRICES["read_request_units_per_million"]
            + storage * DYNAMODB_PRICES["storage_gb_month"]
        )
        rows.append({"agents": agents, "writes": writes, "reads": reads, "storage_gb": storage, "usd": cost})
    return {
        "per_agent_cycle": {
            "decisions": decisions,
            "base_write": base_write,
            "index_write": index_write,
            "base_read": base_read,
            "consolidation_write": team["consolidation_write_units_per_agent_cycle"],
            "consolidation_read": team["consolidation_read_units_per_agent_cycle"],
        },
        "per_agent_month": per_agent_month,
        "teams": rows,
    }


def markdown(figures: dict) -> str:
    cycle = figures["per_agent_cycle"]
    lines = [
        "| per agent and cycle | measured (base table) | added (indexes) |",
        "|---|---|---|",
        f"| decisions logged | {cycle['decisions']:.2f} | |",
        f"| write units | {cycle['base_write']:.1f} (consolidation {cycle['consolidation_write']:.1f}) "
        f"| {cycle['index_write']:.1f} |",
        f"| read units | {cycle['base_read']:.1f} (consolidation {cycle['consolidation_read']:.1f}) | |",
        "",
        f"| agents | write units / month | read units / month | storage (GB, {RETENTION_DAYS} days) "
        f"| on-demand $ / month ({DYNAMODB_PRICES['region']}, prices of {DYNAMODB_PRICES['taken']}) "
        f"| vs ${MONTHLY_BUDGET_USD:.2f} |",
        "|---|---|---|---|---|---|",
    ]
    for row in figures["teams"]:
        within = "within" if row["usd"] <= MONTHLY_BUDGET_USD else f"{row['usd'] / MONTHLY_BUDGET_USD:.0f} times"
        lines.append(
            f"| {row['agents']:,} | {_millions(row['writes'])} | {_millions(row['reads'])} "
            f"| {row['storage_gb']:.1f} | {row['usd']:.2f} | {within} |"
        )
    return "\n".join(lines)


def _millions(units: float) -> str:
    return f"{units / 1e6:.2f} M" if units < 1e8 else f"{math.floor(units / 1e6):,} M"


def main() -> int:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "bench/results-full.json")
    results = json.loads(path.read_text())
    item_bytes = results["figures"].get("item_bytes") or _item_bytes_of_the_workload()
    print(markdown(model(results, item_bytes)))
    print(f"\n(decision items average {item_bytes:,.0f} bytes, {results['figures']['item_units']:g} write units)")
    return 0


def _item_bytes_of_the_workload() -> float:
    """For results recorded before the bench measured item sizes: the same workload's items."""
    import django

    django.setup()
    from bench.measures import average_item_bytes
    from bench.workload import Desk, desk_history

    return average_item_bytes(desk_history(Desk("large"), decisions=1000, days=1, seed=11))


if __name__ == "__main__":
    sys.exit(main())
