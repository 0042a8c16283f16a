"""python -m bench.capacity [bench/results-full.json]: the cost tables of docs/capacity.md, from a
bench run's request units and the prices in memsite/settings/costs.py.

Everything comes from the bench's team workload (the simulated agents through memclient, one
cycle every ten simulated minutes, each consolidated): the table's units as the endpoint reports
them, the indexes' units counted by the gateway from each write's items by AWS's rules
(DYNAMODB_COUNT_INDEX_UNITS, memsite/storage/index_units.py: dynalite reports none), and storage
from the decision items as stored at the end of the run, each with its copy in every index it is
in, sized by the index specs."""

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
RETENTION_DAYS = 90  # decisions expire 90 days after they are made: storage stops growing then
TEAMS = (3, 100, 1_000)
GB = 1e9


def month(team: dict, agents: int) -> dict:
    """What `agents` agents cost in a 30-day month on demand: throughput at the measured units
    per agent and cycle, and the decisions stored once retention is full (after 90 days)."""
    cycles = agents * CYCLES_PER_DAY * DAYS_PER_MONTH
    writes = team["total_write_units_per_agent_cycle"] * cycles
    reads = team["total_read_units_per_agent_cycle"] * cycles
    stored = team["decisions_per_agent_cycle"] * agents * CYCLES_PER_DAY * RETENTION_DAYS
    storage_gb = stored * team["stored_bytes_per_decision"] / GB
    usd = (
        writes / 1e6 * DYNAMODB_PRICES["write_request_units_per_million"]
        + reads / 1e6 * DYNAMODB_PRICES["read_request_units_per_million"]
        + storage_gb * DYNAMODB_PRICES["storage_gb_month"]
    )
    return {"agents": agents, "writes": writes, "reads": reads, "storage_gb": storage_gb, "usd": usd}


def markdown(team: dict) -> str:
    write, index = team["total_write_units_per_agent_cycle"], team["index_write_units_per_agent_cycle"]
    consolidation = team["consolidation_write_units_per_agent_cycle"]
    consolidation_index = team["consolidation_index_write_units_per_agent_cycle"]
    read = team["total_read_units_per_agent_cycle"]
    lines = [
        "| per agent and cycle | table | indexes (counted) | total |",
        "|---|---|---|---|",
        f"| decisions logged | {team['decisions_per_agent_cycle']:.2f} | | |",
        f"| write units | {write - index:.1f} (consolidation {consolidation - consolidation_index:.1f}) "
        f"| {index:.1f} (consolidation {consolidation_index:.1f}) | {write:.1f} |",
        f"| read units | {read:.1f} (consolidation {team['consolidation_read_units_per_agent_cycle']:.1f}) "
        f"| | {read:.1f} |",
        "",
        f"A decision item averages {team['decision_item_bytes']:,.0f} bytes; with DynamoDB's 100 bytes of "
        f"overhead and its copies in the indexes it is in, it keeps {team['stored_bytes_per_decision']:,.0f} "
        "bytes in storage.",
        "",
        f"| agents | write units / month | read units / month | storage (GB, {RETENTION_DAYS} days) "
        f"| on-demand $ / month ({DYNAMODB_PRICES['region']}, prices of {DYNAMODB_PRICES['taken']}) "
        f"| vs ${MONTHLY_BUDGET_USD:.2f} |",
        "|---|---|---|---|---|---|",
    ]
    for row in (month(team, agents) for agents in TEAMS):
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
    team = json.loads(path.read_text())["figures"]["team"]
    if "index_write_units_per_agent_cycle" not in team:
        print(f"{path} predates counted index units: run the bench again (make bench-full)", file=sys.stderr)
        return 1
    print(markdown(team))
    return 0


if __name__ == "__main__":
    sys.exit(main())
