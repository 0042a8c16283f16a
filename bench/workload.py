"""What the bench loads: the simulated team's own decisions (simulator/), recorded instead of
sent, so every figure is measured on the traffic the product is built for."""

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ulid import ULID

from simulator.market import Market
from simulator.team import MarketHunter, RiskManager, TradeExecutor

DECISIONS_PER_CYCLE = 7.5  # the three agents together, on average (seed 1 and 7: 7.5 to 7.6)


@dataclass
class RecordingClient:
    """Stands in for memclient while generating: keeps each decision as the JSON the API takes."""

    agent_id: str
    decisions: list[dict[str, Any]] = field(default_factory=list)

    def log_decision(self, **fields: Any) -> str:
        timestamp: datetime = fields["timestamp"]
        decision_id = str(ULID.from_datetime(timestamp))
        body = {"decision_id": decision_id, "agent_id": self.agent_id, "type": fields["type"]}
        body |= {"timestamp": timestamp.isoformat(), "cycle": fields.get("cycle")}
        body |= {"context": fields.get("context") or {}, "reasoning": fields.get("reasoning") or {}}
        if fields.get("outcome"):
            body["outcome"] = fields["outcome"]
        self.decisions.append(body)
        return decision_id

    def __getattr__(self, name: str) -> Any:  # signals, heartbeats, state: not part of a backfill
        return lambda *args, **kwargs: None


@dataclass(frozen=True)
class Desk:
    """One team of three agents (hunter, risk manager, executor) under a common prefix."""

    prefix: str

    @property
    def agent_ids(self) -> list[str]:
        return [f"{self.prefix}-hunter", f"{self.prefix}-risk", f"{self.prefix}-executor"]


def desk_history(desk: Desk, *, decisions: int, days: float, seed: int, end: datetime | None = None) -> list[dict]:
    """The newest `decisions` decisions of `desk` (cycles spread evenly over about `days` up to
    `end`, now by default), oldest first, outcomes included wherever their horizon has passed."""
    end = end or datetime.now(UTC)
    cycles = max(1, round(decisions / DECISIONS_PER_CYCLE))
    step = timedelta(days=days) / cycles
    clients = [RecordingClient(agent_id) for agent_id in desk.agent_ids]
    kinds = (MarketHunter, RiskManager, TradeExecutor)
    agents = [
        kind(c.agent_id, c, random.Random(f"{seed}:{c.agent_id}")) for kind, c in zip(kinds, clients, strict=True)
    ]
    market = Market(seed)
    at = end - step * cycles
    for _ in range(cycles):
        tick = market.step(at)
        for agent in agents:
            agent.cycle(tick, end)
        at += step
    merged = [decision for client in clients for decision in client.decisions]
    merged.sort(key=lambda decision: decision["timestamp"])
    return merged[-decisions:]  # the newest, so the last day has its share


def batches_by_agent(decisions: list[dict], size: int = 100) -> list[list[dict]]:
    """Batches of up to `size`, each of one agent (an agent writes only as itself), in time order."""
    by_agent: dict[str, list[dict]] = {}
    for decision in decisions:
        by_agent.setdefault(decision["agent_id"], []).append(decision)
    batches = []
    for own in by_agent.values():
        batches += [own[start : start + size] for start in range(0, len(own), size)]
    batches.sort(key=lambda batch: batch[0]["timestamp"])
    return batches
