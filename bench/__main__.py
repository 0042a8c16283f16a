"""make bench: the system's speed and cost against raw boto3 on the same endpoint, in one run.

    python -m bench [--size short|full] [--out bench/results.json]

Loads the simulated team's decisions through the real write paths (the batch API under
gunicorn, memclient), reads them back through the API and the pages, consolidates, and puts
each figure next to raw boto3 doing the same work on the same dynalite. These machines are
shared and noisy: the targets are ratios and counts; absolute times are recorded only.
"""

import argparse
import json
import math
import platform
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench import measures
from bench.harness import Stack
from bench.workload import Desk, desk_history
from simulator.team import TEAM


@dataclass(frozen=True)
class Size:
    history_large: int
    history_small: int
    new: int
    memclient: int
    timeline_requests: int
    page_requests: int
    signals: int
    team_cycles: int
    span_days: float = 30  # the large desk's history and new decisions; well inside the 90-day retention


SIZES = {
    "smoke": Size(600, 200, 200, 100, 10, 3, 3, 8, span_days=2),  # for the test that keeps the bench working
    "short": Size(10_000, 1_000, 1_000, 2_000, 100, 20, 20, 24),
    "full": Size(100_000, 10_000, 10_000, 10_000, 300, 50, 50, 144),
}
ROUNDS = 5  # the API and the raw baseline take turns, so both see the same table sizes and machine
UNITS_SAMPLE = 1_000  # at most this many decisions logged for the units of one decision


def say(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="short")
    parser.add_argument("--out", type=Path, default=Path("bench/results.json"))
    options = parser.parse_args()
    size = SIZES[options.size]
    # Stopped from outside, still stop the servers this run started (the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    stack = Stack()
    started = time.time()
    try:
        stack.start(say)
        figures = run(stack, size)
    finally:
        stack.stop()
    rows = verdicts(figures)
    result = {
        "size": options.size,
        "sizes": size.__dict__,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(time.time() - started, 1),
        "machine": {"python": platform.python_version(), "cpus": _cpus(), "platform": platform.platform()},
        "figures": figures,
        "targets": rows,
    }
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text(json.dumps(result, indent=2) + "\n")
    print_table(rows)
    say(f"written to {options.out} after {result['seconds']:.0f} s")
    return 0 if all(row["ok"] is not False for row in rows) else 1


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0))


def run(stack: Stack, size: Size) -> dict:
    figures: dict = {}
    step_days = size.span_days / (size.history_large + size.new)
    large, small, client_desk = Desk("large"), Desk("small"), Desk("client")
    say("generating the simulated team's decisions")
    large_all = desk_history(large, decisions=size.history_large + size.new, days=size.span_days, seed=11)
    small_all = desk_history(
        small, decisions=size.history_small + size.new, days=step_days * (size.history_small + size.new), seed=12
    )
    client_decisions = desk_history(client_desk, decisions=size.memclient, days=step_days * size.memclient, seed=13)
    units_desk, sample = Desk("units"), min(size.new, UNITS_SAMPLE)
    units_decisions = desk_history(units_desk, decisions=sample, days=step_days * sample, seed=14)
    large_history, large_new = large_all[: size.history_large], large_all[size.history_large :]
    small_history, small_new = small_all[: size.history_small], small_all[size.history_small :]

    say("registering agents")
    desks = (large, small, client_desk, units_desk)
    tokens = {agent: stack.agent_token(agent) for desk in desks for agent in desk.agent_ids}
    raw_gateway = measures.raw_tables(stack)

    say(f"ingest: {len(large_history)} decisions through the batch API and, turn about, raw BatchWriteItem")
    api, raw = _ingest_rounds(stack, raw_gateway, large_history, tokens)
    figures["ingest_api"], figures["ingest_raw"] = api, raw
    say(f"  API {api['rate']:.0f}/s, raw {raw['rate']:.0f}/s")

    say(f"loading the small desk's {len(small_history)} decisions")
    measures.api_ingest(stack, small_history, tokens)
    say("consolidating both histories (counted once, before the measured runs)")
    figures["consolidation_history_large"] = measures.consolidate(large.agent_ids)
    figures["consolidation_history_small"] = measures.consolidate(small.agent_ids)
    say(f"  {figures['consolidation_history_large']['rate']:.0f} decisions/s")

    say(f"consolidating {size.new} new decisions per desk, with {size.history_large} vs {size.history_small} behind")
    figures["consolidation_new"] = _consolidation_rounds(stack, tokens, large, small, large_new, small_new)

    say(f"timeline: {size.timeline_requests} API reads vs raw Query, with {size.history_large + size.new}+ stored")
    figures["timeline"] = measures.timeline(
        stack, large.agent_ids[0], tokens[large.agent_ids[0]], requests=size.timeline_requests
    )
    say("overview page")
    figures["overview"] = measures.overview_page(
        stack, requests=size.page_requests, raw_query_p50=figures["timeline"]["raw_p50"]
    )
    say(f"signals: {size.signals} published and read from the target's inbox")
    figures["signals"] = measures.signals(stack, small.agent_ids[0], small.agent_ids[1], tokens, count=size.signals)

    say(f"memclient: {len(client_decisions)} decisions spooled and shipped")
    with tempfile.TemporaryDirectory(prefix="bench-spool-") as spool_dir:
        figures["ingest_memclient"] = measures.memclient_ingest(stack, client_decisions, tokens, Path(spool_dir))
    figures.update(_units(stack, size, tokens, units_decisions, sender=small.agent_ids[0], target=small.agent_ids[1]))
    figures["item_units"] = _item_units(raw_gateway, large_history[:100])
    figures["item_bytes"] = measures.average_item_bytes(large_history[:1000])
    figures["web_worker_peak_rss_bytes"] = stack.web_worker_peak_rss()
    return figures


def _units(stack: Stack, size: Size, tokens: dict, decisions: list[dict], *, sender: str, target: str) -> dict:
    """Request units, table and indexes, on the server that counts index units: one decision
    logged, one signal, and the team's own workload with what it costs a month."""
    from bench.capacity import month

    counting = stack.start_counting_web(say)
    say(f"units: {len(decisions)} decisions logged and {size.signals} signals, counting index units")
    figures = {"decision_units": measures.decision_units(counting, decisions, tokens)}
    figures["signal_units"] = measures.signal_units(counting, sender, target, tokens, count=size.signals)
    say(f"the team's own workload: {size.team_cycles} live cycles ten simulated minutes apart, each consolidated")
    with tempfile.TemporaryDirectory(prefix="bench-team-") as spool_dir:
        team_tokens = {agent: stack.agent_token(agent) for agent in TEAM}
        team = measures.team_day(counting, team_tokens, Path(spool_dir), cycles=size.team_cycles)
    stored = measures.stored_decisions(list(TEAM))
    team |= {
        "decision_item_bytes": stored["item_bytes"],
        "stored_bytes_per_decision": stored["stored_bytes"],
    }
    three = month(team, 3)
    team["projected_dynamodb_usd_month_3_agents"] = three["usd"]
    team["projected_storage_gb_3_agents"] = three["storage_gb"]
    figures["team"] = team
    return figures


def _ingest_rounds(stack: Stack, raw_gateway, decisions: list[dict], tokens: dict) -> tuple[dict, dict]:
    totals = {"api": {}, "raw": {}}
    share = math.ceil(len(decisions) / ROUNDS)
    for number in range(ROUNDS):
        part = decisions[number * share : (number + 1) * share]
        for name, figures in (
            ("api", measures.api_ingest(stack, part, tokens)),
            ("raw", measures.raw_ingest(stack, raw_gateway, part)),
        ):
            for key, value in figures.items():
                if key not in ("rate", "threads"):
                    totals[name][key] = totals[name].get(key, 0) + value
                else:
                    totals[name][key] = value
    for figures in totals.values():
        figures["rate"] = figures["decisions"] / figures["seconds"]
    return totals["api"], totals["raw"]


def _consolidation_rounds(stack, tokens, large: Desk, small: Desk, large_new: list, small_new: list) -> dict:
    """Half the new decisions of each desk, consolidated in turns, twice: both see the same machine."""
    seconds = {"large": 0.0, "small": 0.0}
    counted = {"large": 0, "small": 0}
    calls = {"large": 0, "small": 0}
    for half in (0, 1):
        for name, desk, new in (("small", small, small_new), ("large", large, large_new)):
            part = new[: len(new) // 2] if half == 0 else new[len(new) // 2 :]
            measures.api_ingest(stack, part, tokens)
            run = measures.consolidate(desk.agent_ids)
            seconds[name] += run["seconds"]
            counted[name] += run["decisions_counted"]
            calls[name] += run["storage_calls"]
    return {
        "large_seconds": seconds["large"],
        "small_seconds": seconds["small"],
        "large_counted": counted["large"],
        "small_counted": counted["small"],
        # Decisions whose outcome is known (older than the hour's horizon) are what counting takes.
        "large_with_outcome": sum("outcome" in decision for decision in large_new),
        "small_with_outcome": sum("outcome" in decision for decision in small_new),
        "ratio": seconds["large"] / seconds["small"],
        "large_storage_calls": calls["large"],
        "small_storage_calls": calls["small"],
    }


def _item_units(raw_gateway, sample: list[dict]) -> float:
    """Write units of one decision item on its own (base table), as the endpoint reports them."""
    from memsite.storage.tables import AGENT_DECISIONS

    table_name = AGENT_DECISIONS.physical_name(raw_gateway.config.table_prefix)
    units = 0.0
    items = [item for own in measures.stored_items(sample).values() for item in own]
    for item in items:
        answer = raw_gateway.client.put_item(TableName=table_name, Item=item, ReturnConsumedCapacity="TOTAL")
        units += answer["ConsumedCapacity"]["CapacityUnits"]
    return units / len(items)


def verdicts(f: dict) -> list[dict]:
    return [*_speed_rows(f), *_unit_rows(f), *_team_rows(f["team"]), _rss_row(f)]


def _speed_rows(f: dict) -> list[dict]:
    api, raw = f["ingest_api"], f["ingest_raw"]
    return [
        _row(
            "API batch ingest rate / raw BatchWriteItem",
            api["rate"] / raw["rate"],
            ">= 0.8",
            lambda v: v >= 0.8,
            f"{api['rate']:.0f} vs {raw['rate']:.0f} decisions/s",
        ),
        _row(
            "memclient end-to-end ingest rate / raw",
            f["ingest_memclient"]["rate"] / raw["rate"],
            "recorded",
            None,
            f"{f['ingest_memclient']['rate']:.0f} decisions/s",
        ),
        _row(
            "timeline: storage calls per request",
            f["timeline"]["storage_calls_per_request"],
            "<= 2",
            lambda v: v <= 2,
            "",
        ),
        _row(
            "timeline p50 / raw Query p50",
            f["timeline"]["api_p50"] / f["timeline"]["raw_p50"],
            "<= 1.5",
            lambda v: v <= 1.5,
            f"{f['timeline']['api_p50'] * 1000:.1f} vs {f['timeline']['raw_p50'] * 1000:.1f} ms",
        ),
        _row(
            "timeline p95 / raw Query p95",
            f["timeline"]["api_p95"] / f["timeline"]["raw_p95"],
            "<= 1.5",
            lambda v: v <= 1.5,
            f"{f['timeline']['api_p95'] * 1000:.1f} vs {f['timeline']['raw_p95'] * 1000:.1f} ms",
        ),
        _row(
            "overview page p50 (ms)",
            f["overview"]["p50"] * 1000,
            "< 300",
            lambda v: v < 300,
            f"{f['overview']['per_raw_query']:.1f} raw Queries",
        ),
        _row(
            "consolidation of new: large / small history",
            f["consolidation_new"]["ratio"],
            "<= 1.2",
            lambda v: v <= 1.2,
            f"{f['consolidation_new']['large_seconds']:.1f} vs {f['consolidation_new']['small_seconds']:.1f} s; "
            f"storage calls {f['consolidation_new']['large_storage_calls']}"
            f" vs {f['consolidation_new']['small_storage_calls']}",
        ),
        _row(
            "signal publish -> in target inbox p50 (ms)",
            f["signals"]["visible_p50"] * 1000,
            "recorded",
            None,
            f"p95 {f['signals']['visible_p95'] * 1000:.1f} ms",
        ),
    ]


def _unit_rows(f: dict) -> list[dict]:
    """A decision and a signal against their own item's write plus its index entries (counted)."""
    item_units, decision, signals = f["item_units"], f["decision_units"], f["signal_units"]
    per_decision, decision_index = decision["write_units_per_decision"], decision["index_write_units_per_decision"]
    per_signal, signal_index = signals["write_units_per_signal"], signals["index_write_units_per_signal"]
    return [
        _row(
            "write units per decision logged",
            per_decision,
            f"<= {item_units + decision_index:.3g}",
            lambda v: v <= item_units + decision_index + 1e-9,
            f"{per_decision - decision_index:.2f} base + {decision_index:.2f} in indexes (counted)",
        ),
        _row(
            "write units per signal (one target)",
            per_signal,
            f"<= {1 + signal_index:.3g}",
            lambda v: v <= 1 + signal_index + 1e-9,
            f"{per_signal - signal_index:.2f} base (signal, inbox item, flow counter)"
            f" + {signal_index:.2f} in indexes (counted)",
        ),
        _row(
            "inbox read: storage reads per request",
            signals["read_calls_per_inbox_read"],
            "1",
            lambda v: v == 1,
            f"{signals['read_units_per_inbox_read']:.2f} read units for"
            f" {signals['signals_per_inbox_read']:.0f} signals;"
            f" {signals['write_units_per_inbox_read']:.2f} write units marking them delivered",
        ),
    ]


def _team_rows(team: dict) -> list[dict]:
    """The cost goal: the user's workload, three agents, a cycle every ten minutes."""
    consolidation_write = team["consolidation_write_units_per_agent_cycle"]
    return [
        _row(
            "team workload: write units per agent-cycle (table + indexes)",
            team["total_write_units_per_agent_cycle"],
            "<= 20",
            lambda v: v <= 20,
            f"{team['index_write_units_per_agent_cycle']:.1f} in indexes (counted);"
            f" {consolidation_write:.1f} consolidation; {team['decisions_per_agent_cycle']:.1f} decisions",
        ),
        _row(
            "team workload: read units per agent-cycle",
            team["total_read_units_per_agent_cycle"],
            "<= 40",
            lambda v: v <= 40,
            f"{team['consolidation_read_units_per_agent_cycle']:.1f} of it consolidation",
        ),
        _row(
            "team workload: projected DynamoDB $ / month, 3 agents",
            team["projected_dynamodb_usd_month_3_agents"],
            "<= 0.5",
            lambda v: v <= 0.5,
            f"storage after 90 days {team['projected_storage_gb_3_agents']:.2f} GB"
            f" ({team['stored_bytes_per_decision']:,.0f} bytes a decision with its index copies)",
        ),
    ]


def _rss_row(f: dict) -> dict:
    return _row("web worker peak RSS (MiB)", f["web_worker_peak_rss_bytes"] / 2**20, "recorded", None, "")


def _row(name: str, value: float, target: str, check, note: str) -> dict:
    return {
        "measure": name,
        "value": round(value, 3),
        "target": target,
        "ok": None if check is None else check(value),
        "note": note,
    }


def print_table(rows: list[dict]) -> None:
    width = max(len(row["measure"]) for row in rows)
    print()
    print(f"{'measure':<{width}}  {'value':>10}  {'target':<10}  {'':4}  note")
    for row in rows:
        verdict = {True: "ok", False: "MISS", None: ""}[row["ok"]]
        print(f"{row['measure']:<{width}}  {row['value']:>10.3f}  {row['target']:<10}  {verdict:4}  {row['note']}")
    print()


if __name__ == "__main__":
    sys.exit(main())
