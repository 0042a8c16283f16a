"""Each measure runs the product and its raw boto3 baseline side by side, on the same endpoint in
the same run, and returns figures; bench/__main__.py decides the sizes and prints the table."""

import dataclasses
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bench.harness import RAW_PREFIX, Stack, Web, timed
from bench.workload import batches_by_agent
from memsite.storage.index_units import item_size, stored_bytes


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def in_threads(work: list[Callable[[], Any]]) -> None:
    """Run each callable in its own thread and wait; the first error is raised."""
    errors: list[BaseException] = []

    def run(job: Callable[[], Any]) -> None:
        try:
            job()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(job,)) for job in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def _per_agent(batches: list[list[dict]]) -> dict[str, list[list[dict]]]:
    grouped: dict[str, list[list[dict]]] = {}
    for batch in batches:
        grouped.setdefault(batch[0]["agent_id"], []).append(batch)
    return grouped


def _post_batches(base_url: str, decisions: list[dict], tokens: dict[str, str]) -> int:
    """POST the decisions in batches of 100, each agent from its own thread (a team logging at
    once); every batch must come back 200 with every decision created. Returns the threads."""

    def send(agent_id: str, own: list[list[dict]]) -> None:
        with httpx.Client(base_url=base_url, timeout=120) as client:
            headers = {"Authorization": f"Bearer {tokens[agent_id]}"}
            for batch in own:
                response = client.post("/api/v1/decisions/", json=batch, headers=headers)
                statuses = {result["status"] for result in response.json()["results"]}
                if response.status_code != 200 or statuses != {"created"}:
                    raise RuntimeError(f"batch refused: {response.status_code} {response.text[:300]}")

    grouped = _per_agent(batches_by_agent(decisions))
    in_threads([lambda a=a, own=own: send(a, own) for a, own in grouped.items()])
    return len(grouped)


def api_ingest(stack: Stack, decisions: list[dict], tokens: dict[str, str]) -> dict[str, Any]:
    """The batch API's ingest rate (on the server that does not count index units)."""
    before, cpu_before = stack.counters(), stack.dynalite_cpu_seconds()
    seconds, threads = timed(_post_batches, stack.base_url, decisions, tokens)
    after = stack.counters()
    return {
        "decisions": len(decisions),
        "seconds": seconds,
        "rate": len(decisions) / seconds,
        "threads": threads,
        "dynalite_cpu_seconds": stack.dynalite_cpu_seconds() - cpu_before,
        "write_units": after["units:write"] - before["units:write"],
        "read_units": after["units:read"] - before["units:read"],
        "storage_calls": after["storage_calls"] - before["storage_calls"],
    }


def decision_units(web: Web, decisions: list[dict], tokens: dict[str, str]) -> dict[str, Any]:
    """What logging a decision costs, table and indexes, through the batch API of the server that
    counts index units: the same batches as the ingest measure, untimed."""
    before = web.counters()
    _post_batches(web.base_url, decisions, tokens)
    after = web.counters()
    return {
        "decisions": len(decisions),
        "write_units_per_decision": (after["units:write"] - before["units:write"]) / len(decisions),
        "index_write_units_per_decision": (after["units:index_write"] - before["units:index_write"]) / len(decisions),
    }


def raw_tables(stack: Stack):
    """The same four tables under another prefix on the same endpoint, for the raw baseline."""
    from memsite import storage
    from memsite.storage import provision
    from memsite.storage.tables import ALL_TABLES

    gateway = storage.Gateway(dataclasses.replace(storage.gateway().config, table_prefix=RAW_PREFIX))
    provision.create_tables(gateway, ALL_TABLES, report=lambda message: None)
    return gateway


def stored_items(decisions: list[dict]) -> dict[str, list[dict]]:
    """Per agent, the DynamoDB items the API stores for these decisions (encoded), made by the
    app's own mapper, so the baseline writes exactly the same bytes."""
    from decisions import repository, services
    from memsite.storage.codec import encode_item

    items: dict[str, list[dict]] = {}
    for decision in decisions:
        actor = services.Actor(label=f"agent:{decision['agent_id']}", agent_id=decision["agent_id"])
        parsed = services.decision_parse(decision, actor=actor)
        items.setdefault(decision["agent_id"], []).append(encode_item(repository.stored_item(parsed)))
    return items


def raw_ingest(stack: Stack, gateway, decisions: list[dict]) -> dict[str, Any]:
    """The same items with plain BatchWriteItem calls (25 a call, unprocessed ones resent), with
    the same threads as the API run: one per agent."""
    from memsite.storage.tables import AGENT_DECISIONS

    table_name = AGENT_DECISIONS.physical_name(RAW_PREFIX)
    client = gateway.client  # the bare boto3 client
    per_agent = stored_items(decisions)
    cpu_before = stack.dynalite_cpu_seconds()

    def write(items: list[dict]) -> None:
        for start in range(0, len(items), 25):
            requests = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
            while requests:
                response = client.batch_write_item(RequestItems={table_name: requests})
                requests = response.get("UnprocessedItems", {}).get(table_name, [])

    seconds, _ = timed(in_threads, [lambda items=items: write(items) for items in per_agent.values()])
    return {
        "decisions": len(decisions),
        "seconds": seconds,
        "rate": len(decisions) / seconds,
        "threads": len(per_agent),
        "dynalite_cpu_seconds": stack.dynalite_cpu_seconds() - cpu_before,
    }


def memclient_ingest(stack: Stack, decisions: list[dict], tokens: dict[str, str], spool_dir) -> dict[str, Any]:
    """The same path an agent uses: memclient spools each decision and its sender thread ships
    batches; timed from the first log_decision until every spool is empty."""
    from memclient import MemClient

    grouped: dict[str, list[dict]] = {}
    for decision in decisions:
        grouped.setdefault(decision["agent_id"], []).append(decision)
    clients = {
        agent_id: MemClient(stack.base_url, tokens[agent_id], agent_id, spool_path=str(spool_dir / f"{agent_id}.db"))
        for agent_id in grouped
    }

    def log_all(agent_id: str) -> None:
        client = clients[agent_id]
        for decision in grouped[agent_id]:
            fields = {k: v for k, v in decision.items() if k != "agent_id"}
            fields["timestamp"] = datetime.fromisoformat(fields["timestamp"])
            client.log_decision(**fields)
        client.flush(timeout=600)  # FlushTimeout if the spool is not empty by then

    try:
        seconds, _ = timed(in_threads, [lambda a=a: log_all(a) for a in grouped])
        dead = sum(len(client.dead_letters()) for client in clients.values())
    finally:
        for client in clients.values():
            client.close()
    if dead:
        raise RuntimeError(f"{dead} decisions were dead-lettered")
    return {"decisions": len(decisions), "seconds": seconds, "rate": len(decisions) / seconds}


def timeline(stack: Stack, agent_id: str, token: str, *, requests: int) -> dict[str, Any]:
    """The timeline's API read (one agent, last day, 50 rows) against the raw Query of the same
    key, interleaved so both see the same machine."""
    from memsite import storage
    from memsite.storage.tables import AGENT_DECISIONS

    since = datetime.now(UTC) - timedelta(days=1)
    since_text = since.isoformat().replace("+00:00", "Z")
    raw_client = storage.gateway().client
    table_name = AGENT_DECISIONS.physical_name(storage.gateway().config.table_prefix)
    # the index of one agent's timeline (its name and sort key follow the spec)
    timeline_index = next(index for index in AGENT_DECISIONS.indexes if index.partition_key == "agent_pk")
    query = {
        "TableName": table_name,
        "IndexName": timeline_index.name,
        "KeyConditionExpression": f"agent_pk = :pk AND {timeline_index.sort_key} >= :since",
        "ExpressionAttributeValues": {":pk": {"S": f"agent:{agent_id}"}, ":since": {"S": since_text}},
        "ScanIndexForward": False,
        "Limit": 50,
    }
    api_times, raw_times, rows = [], [], 0
    before = stack.counters()
    with httpx.Client(base_url=stack.base_url, headers={"Authorization": f"Bearer {token}"}) as client:
        params = {"agent": agent_id, "since": since_text, "limit": 50}
        client.get("/api/v1/decisions/", params=params).raise_for_status()  # warm: connections, caches
        raw_client.query(**query)
        before = stack.counters()
        for _ in range(requests):
            seconds, response = timed(client.get, "/api/v1/decisions/", params=params)
            response.raise_for_status()
            rows = len(response.json()["results"])
            api_times.append(seconds)
            seconds, answer = timed(raw_client.query, **query)
            raw_times.append(seconds)
    after = stack.counters()
    if rows != 50 or len(answer["Items"]) != 50:
        raise RuntimeError(f"expected 50 rows, the API gave {rows} and the raw Query {len(answer['Items'])}")
    return {
        "requests": requests,
        "storage_calls_per_request": (after["storage_calls"] - before["storage_calls"]) / requests,
        "read_units_per_request": (after["units:read"] - before["units:read"]) / requests,
        "api_p50": percentile(api_times, 0.5),
        "api_p95": percentile(api_times, 0.95),
        "raw_p50": percentile(raw_times, 0.5),
        "raw_p95": percentile(raw_times, 0.95),
    }


def overview_page(stack: Stack, *, requests: int, raw_query_p50: float) -> dict[str, Any]:
    session = stack.login()
    session.get("/").raise_for_status()
    times = []
    for _ in range(requests):
        seconds, response = timed(session.get, "/")
        response.raise_for_status()
        if "plotly" not in response.text.lower():
            raise RuntimeError("the overview page came back without its charts")
        times.append(seconds)
    p50 = percentile(times, 0.5)
    return {"requests": requests, "p50": p50, "p95": percentile(times, 0.95), "per_raw_query": p50 / raw_query_p50}


def consolidate(agent_ids: list[str]) -> dict[str, Any]:
    """Consolidate the agents in this process (as a worker would), timed, with its storage calls."""
    from memsite import storage
    from patterns import consolidation

    counted = 0
    meter_before = storage.meter().snapshot()
    started = time.perf_counter()
    for agent_id in agent_ids:
        run = consolidation.consolidate_agent(agent_id, trigger="bench")
        if run.status != "succeeded":
            raise RuntimeError(f"consolidation of {agent_id} {run.status}: {run.error}")
        counted += run.decisions_counted
    seconds = time.perf_counter() - started
    calls = storage.meter().snapshot().minus(meter_before).calls
    return {
        "seconds": seconds,
        "decisions_counted": counted,
        "storage_calls": calls,
        "rate": counted / seconds if seconds else 0.0,
    }


@dataclass
class _Signalling:
    """One agent publishing to another over HTTP, and the other's inbox."""

    publish: httpx.Client
    inbox: httpx.Client
    target: str

    @classmethod
    def open(cls, base_url: str, sender: str, target: str, tokens: dict[str, str]) -> "_Signalling":
        def client(agent_id: str) -> httpx.Client:
            return httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {tokens[agent_id]}"})

        return cls(client(sender), client(target), target)

    def send(self, number: int) -> str:
        body = {"type": "WHALE_ACTIVITY", "confidence": 0.85, "payload": {"n": number}, "target_agents": [self.target]}
        response = self.publish.post("/api/v1/signals/", json=body)
        response.raise_for_status()
        return response.json()["signal_id"]

    def read(self) -> list[str]:
        page = self.inbox.get("/api/v1/signals/inbox/", params={"limit": 50})
        page.raise_for_status()
        return [item["signal_id"] for item in page.json()["results"]]

    def ack(self, signal_ids: list[str]) -> None:
        self.inbox.post("/api/v1/signals/ack/", json={"signal_ids": signal_ids}).raise_for_status()

    def close(self) -> None:
        self.publish.close()
        self.inbox.close()


def signals(stack: Stack, sender: str, target: str, tokens: dict[str, str], *, count: int) -> dict[str, Any]:
    """Publish -> visible in the target's inbox, polled until it shows."""
    latencies = []
    talk = _Signalling.open(stack.base_url, sender, target, tokens)
    try:
        for number in range(count):
            started = time.perf_counter()
            signal_id = talk.send(number)
            while signal_id not in talk.read():
                pass
            latencies.append(time.perf_counter() - started)
            talk.ack([signal_id])
    finally:
        talk.close()
    return {"signals": count, "visible_p50": statistics.median(latencies), "visible_p95": percentile(latencies, 0.95)}


def signal_units(web: Web, sender: str, target: str, tokens: dict[str, str], *, count: int) -> dict[str, Any]:
    """On the server that counts index units: the units of publishing alone, and of reading the
    inbox alone, with the storage reads one inbox request makes."""
    talk = _Signalling.open(web.base_url, sender, target, tokens)
    try:
        before = web.counters()
        sent = [talk.send(number) for number in range(count)]
        published = web.counters()
        shown = sum(len(talk.read()) for _ in range(count))
        after = web.counters()
        talk.ack(sent)
    finally:
        talk.close()
    return {
        "write_units_per_signal": (published["units:write"] - before["units:write"]) / count,
        "index_write_units_per_signal": (published["units:index_write"] - before["units:index_write"]) / count,
        "read_units_per_inbox_read": (after["units:read"] - published["units:read"]) / count,
        "signals_per_inbox_read": shown / count,
        "read_calls_per_inbox_read": sum(
            after[f"storage_calls:{op}"] - published[f"storage_calls:{op}"]
            for op in ("Query", "GetItem", "BatchGetItem")
        )
        / count,
        # The first read of a signal marks it delivered (the sender sees when): writes, by a read.
        "write_units_per_inbox_read": (after["units:write"] - published["units:write"]) / count,
    }


def team_day(web: Web, tokens: dict[str, str], spool_dir, *, cycles: int) -> dict[str, Any]:
    """The user's workload itself: the simulated team (three agents through memclient: decisions,
    outcomes six cycles later, signals, inbox reads, rate limits, heartbeats, state, checkpoints,
    config and memory reads) for `cycles` live cycles ten simulated minutes apart, ending now,
    each followed by the consolidation beat runs every ten minutes. On the server that counts
    index units, and counting them in this process's consolidation too. Units per agent and
    cycle, API and consolidation apart."""
    from django.test import override_settings

    from memclient import MemClient
    from memsite import storage
    from simulator.run import CYCLE, Simulation
    from simulator.team import TEAM

    clients = {
        agent_id: MemClient(web.base_url, tokens[agent_id], agent_id, spool_path=str(spool_dir / f"{agent_id}.db"))
        for agent_id in TEAM
    }
    simulation = Simulation(clients, seed=7)
    start = datetime.now(UTC) - CYCLE * (cycles - 1)
    api_before, worker_before = web.counters(), storage.meter().snapshot()
    try:
        with override_settings(DYNAMODB_COUNT_INDEX_UNITS=True):
            for number in range(cycles):
                simulation.live(seconds_per_cycle=0, cycles=1, start=start + CYCLE * number)
                for client in clients.values():
                    client.flush(timeout=120)
                consolidate(list(TEAM))
    finally:
        for client in clients.values():
            client.close()
    api, worker = _delta(web.counters(), api_before), storage.meter().snapshot().minus(worker_before)
    agent_cycles = cycles * len(TEAM)
    per = {
        "api_write_units": api["units:write"],
        "api_index_write_units": api["units:index_write"],
        "api_read_units": api["units:read"],
        "api_calls": api["storage_calls"],
        "consolidation_write_units": worker.write_units,
        "consolidation_index_write_units": worker.index_write_units,
        "consolidation_read_units": worker.read_units,
        "total_write_units": api["units:write"] + worker.write_units,
        "index_write_units": api["units:index_write"] + worker.index_write_units,
        "total_read_units": api["units:read"] + worker.read_units,
        "decisions": simulation.logged,
    }
    return {"cycles": cycles, "agents": len(TEAM), "decisions": simulation.logged} | {
        f"{name}_per_agent_cycle": value / agent_cycles for name, value in per.items()
    }


def _delta(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    return {name: after.get(name, 0.0) - before.get(name, 0.0) for name in after.keys() | before.keys()}


def stored_decisions(agent_ids: list[str]) -> dict[str, Any]:
    """The agents' decision items as stored now (outcomes, consolidation marks and all), and what
    each keeps in storage: itself and its copy in each index it is in, by the specs."""
    from decisions.schemas import DECISION_TYPES
    from memsite import storage
    from memsite.storage.tables import AGENT_DECISIONS

    client = storage.gateway().client
    table_name = AGENT_DECISIONS.physical_name(storage.gateway().config.table_prefix)
    items = []
    for agent_id in agent_ids:
        for decision_type in DECISION_TYPES:
            query = {
                "TableName": table_name,
                "KeyConditionExpression": "pk = :pk",
                "ExpressionAttributeValues": {":pk": {"S": f"agent:{agent_id}#decision#{decision_type}"}},
            }
            while True:
                page = client.query(**query)
                items += page["Items"]
                if "LastEvaluatedKey" not in page:
                    break
                query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    if not items:
        raise RuntimeError(f"no decisions of {', '.join(agent_ids)} are stored")
    return {
        "items": len(items),
        "item_bytes": sum(item_size(item) for item in items) / len(items),
        "stored_bytes": sum(stored_bytes(AGENT_DECISIONS, item) for item in items) / len(items),
    }


def average_item_bytes(decisions: list[dict]) -> float:
    """The average size of the items the API stores for `decisions`."""
    items = [item for own in stored_items(decisions).values() for item in own]
    return sum(item_size(item) for item in items) / len(items)
