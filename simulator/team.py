"""The three agents of the user's design, each driving its own memclient.

Every cycle each agent looks at the market tick and logs what it decides, with context and
reasoning a desk would recognise. Outcomes are drawn from the planted probabilities (effects.py)
when the decision is made, and reported once the horizon has passed: inline when backfilling
history, later in live mode. Live mode also talks: signals between agents, rate-limited queries,
heartbeats, state and checkpoints.
"""

import logging
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from simulator import effects
from simulator.market import Tick

logger = logging.getLogger("simulator")

HORIZON = timedelta(hours=1)
HORIZON_CYCLES = 6  # live mode: outcomes are known six cycles later, however fast the cycles run
HUNTER, RISK, EXECUTOR = "market-hunter", "risk-manager", "trade-executor"
TEAM = {HUNTER: "Market Hunter", RISK: "Risk Manager", EXECUTOR: "Trade Executor"}
SOURCES = tuple(effects.SOURCE_QUALITY)
BOOKS = ("spot", "perp")
CHECKPOINT_EVERY = 36  # cycles: every six hours at ten-minute cycles
RECALL_EVERY = 12  # cycles between looks at long-term memory (config, learned patterns, similar situations)


class Client(Protocol):
    """What the team needs of memclient.MemClient."""

    def log_decision(self, **fields: Any) -> str: ...
    def report_outcome(self, decision_id: str, **fields: Any) -> None: ...
    def publish_signal(self, **fields: Any) -> Any: ...
    def get_my_signals(self, limit: int = 50) -> list: ...
    def ack(self, signal_ids: list[str]) -> dict: ...
    def consume_rate_limit(self, source: str, **fields: Any) -> Any: ...
    def heartbeat(self, **fields: Any) -> None: ...
    def save_state(self, state: dict) -> None: ...
    def checkpoint(self, name: str, state: dict) -> None: ...
    def remember(self, key: str, value: Any, ttl_seconds: int = 86400) -> None: ...


@dataclass
class Pending:
    due_cycle: int
    decision_id: str
    outcome: dict


@dataclass
class Agent:
    agent_id: str
    client: Client
    rng: random.Random
    live: bool = False
    pending: list[Pending] = field(default_factory=list)
    logged: int = 0

    def decide(self, tick: Tick, now: datetime, **decision: Any) -> str:
        """Log a decision with its outcome, now if the horizon has passed, else later."""
        outcome = decision.pop("outcome")
        known = not self.live and tick.at + HORIZON <= now  # history: the horizon has passed
        decision_id = self.client.log_decision(
            timestamp=tick.at, cycle=tick.cycle, outcome=outcome if known else None, **decision
        )
        if not known:
            self.pending.append(Pending(tick.cycle + HORIZON_CYCLES, decision_id=decision_id, outcome=outcome))
        self.logged += 1
        return decision_id

    def report_due(self, cycle: int) -> int:
        due = [p for p in self.pending if p.due_cycle <= cycle]
        self.pending = [p for p in self.pending if p.due_cycle > cycle]
        for item in due:
            self.client.report_outcome(item.decision_id, **item.outcome)
        return len(due)

    def draw(self, probability: float, **metrics: Any) -> dict:
        success = self.rng.random() < probability
        return {"status": "SUCCESS" if success else "FAILURE", "metrics": metrics}

    def read_signals(self) -> list[str]:
        """The inbox, acknowledged: what this cycle's decisions consumed."""
        if not self.live:
            return []
        ids = [s.signal_id for s in self.client.get_my_signals(limit=50)]
        if ids:
            self.client.ack(ids)
        return ids

    def recall(self, tick: Tick) -> dict:
        """Now and then, what long-term memory says: the agent's configuration (ETag-cached), the
        active learned patterns, and the past situation nearest this market."""
        if not self.live or tick.cycle % RECALL_EVERY:
            return {}
        config = self.client.get_config()
        active = self.client.patterns(status="active")
        similar = self.client.similar_situations(tick.context(), limit=5)
        return {
            "config_version": config.version,
            "active_patterns": sorted({p.pattern_id for p in active}),
            "nearest_archetype": similar.archetype.label if similar.archetype else None,
        }

    def keep_alive(self, tick: Tick, state: dict) -> None:
        if not self.live:
            return
        state = state | self.recall(tick)
        self.client.heartbeat(interval_seconds=60, status=f"cycle {tick.cycle}")
        self.client.save_state({"cycle": tick.cycle, "market": tick.context(), **state})
        if tick.cycle % CHECKPOINT_EVERY == 0:
            self.client.checkpoint(f"cycle-{tick.cycle}", {"cycle": tick.cycle, **state})


class MarketHunter(Agent):
    """Chooses a data source, queries it within its rate limit, and raises signals."""

    def cycle(self, tick: Tick, now: datetime) -> None:
        market = tick.context()
        weights = [3 if (s == "whale_alert") == (tick.regime == "trend") else 1 for s in SOURCES]
        source = self.rng.choices(SOURCES, weights=weights)[0]
        self.decide(
            tick,
            now,
            type="SOURCE_SELECTION",
            context=market | {"candidates": list(SOURCES)},
            reasoning={"selected_source": source, "summary": f"{source} fits a {tick.regime} market"},
            outcome=self.draw(effects.SOURCE_QUALITY[source], freshness_s=self.rng.randint(1, 40)),
        )
        allowed, remaining = True, None
        if self.live:
            limit = self.client.consume_rate_limit(source, cost=1, limit=50, window_seconds=3600)
            allowed, remaining = limit.allowed, limit.remaining
        self.decide(
            tick,
            now,
            type="QUERY_EXECUTION",
            context=market | {"source": source, "rate_limit_remaining": remaining},
            reasoning={"action": "query" if allowed else "skip", "query": f"btc flows last 10m via {source}"},
            outcome=self.draw(effects.QUERY_SUCCESS if allowed else 0.0, latency_ms=self.rng.randint(40, 900)),
        )
        raised = 0
        for venue in tick.venues:
            triggers = [t for t, on in (("whale", venue.whale_activity), ("volume_spike", venue.volume_spike)) if on]
            for trigger in triggers:
                raised += self._signal(tick, now, market, venue, trigger)
        if raised and tick.venues[0].whale_activity and self.live:
            self.client.remember("last_whale", {"cycle": tick.cycle, "btc": tick.venues[0].whale_btc}, 3600)
        self.keep_alive(tick, {"source": source, "signals_raised": raised})

    def _signal(self, tick: Tick, now: datetime, market: dict, venue: Any, trigger: str) -> int:
        probability = effects.signal_success(tick.regime, trigger)
        direction = "up" if tick.regime != "chop" or self.rng.random() < 0.5 else "down"
        confidence = round(min(0.95, probability + self.rng.uniform(-0.1, 0.1)), 2)
        links = {}
        if self.live:
            signal_type = "WHALE_ACTIVITY" if trigger == "whale" else "VOLUME_SPIKE"
            signal = self.client.publish_signal(
                type=signal_type,
                confidence=confidence,
                target_agents=[RISK, EXECUTOR],
                payload={"venue": venue.venue, "direction": direction, "btc": venue.whale_btc or venue.volume_btc},
            )
            links = {"produced_signals": [signal.signal_id]}
        self.decide(
            tick,
            now,
            type="SIGNAL_GENERATION",
            context=market
            | {
                "venue": venue.venue,
                "whale_activity": trigger == "whale",
                "volume_spike": trigger == "volume_spike",
                "whale_btc": venue.whale_btc,
                "volume_btc": venue.volume_btc,
            },
            reasoning={
                "action": f"signal_{direction}",
                "confidence": confidence,
                "summary": f"{trigger.replace('_', ' ')} on {venue.venue} in a {tick.regime} market",
            },
            links=links or None,
            outcome=self.draw(probability, return_pct=round(self.rng.uniform(0.1, 1.5), 2)),
        )
        return 1


class RiskManager(Agent):
    """Reads the hunter's signals, assesses the risk of each book, and warns the executor."""

    def cycle(self, tick: Tick, now: datetime) -> None:
        market = tick.context()
        consumed = self.read_signals()
        if self.live and tick.regime == "high_vol" and self.rng.random() < 0.3:
            self.client.publish_signal(
                type="RISK_ALERT",
                confidence=0.7,
                target_agents=[EXECUTOR],
                payload={"regime": tick.regime, "volatility": market["volatility"]},
            )
        for book in BOOKS:
            action = self._action(tick.regime)
            probability = effects.risk_success(tick.regime, action)
            outcome = self.draw(probability)
            pnl = round(self.rng.uniform(0, 400) if outcome["status"] == "SUCCESS" else -self.rng.uniform(1, 900), 2)
            outcome["metrics"] = {"pnl_usd": pnl}
            self.decide(
                tick,
                now,
                type="RISK_ASSESSMENT",
                context=market | {"book": book, "signals_seen": len(consumed)},
                reasoning={"action": action, "summary": f"{action} the {book} book: {tick.regime} regime"},
                links={"consumed_signals": consumed} if consumed else None,
                outcome=outcome,
            )
        self.keep_alive(tick, {"signals_seen": len(consumed)})

    def _action(self, regime: str) -> str:
        if regime == "high_vol":
            return self.rng.choices(["reduce", "hedge", "flat", "hold", "increase"], [4, 3, 1, 1.5, 0.5])[0]
        return self.rng.choices(["hold", "increase", "reduce", "hedge"], [5, 3, 1.5, 0.5])[0]


class TradeExecutor(Agent):
    """Reads both agents' signals and trades on each venue."""

    def cycle(self, tick: Tick, now: datetime) -> None:
        market = tick.context()
        consumed = self.read_signals()
        for venue in tick.venues:
            if self.rng.random() >= 0.8:
                continue
            side = "long" if tick.regime == "trend" or self.rng.random() < 0.5 else "short"
            size = round(self.rng.uniform(0.05, 1.5), 3)
            outcome = self.draw(effects.trade_success(tick.funding_rate))
            won = outcome["status"] == "SUCCESS"
            outcome["metrics"] = {"pnl_usd": round((1 if won else -1) * size * self.rng.uniform(20, 600), 2)}
            self.decide(
                tick,
                now,
                type="TRADE_EXECUTION",
                context=market | {"venue": venue.venue, "signals_seen": len(consumed)},
                reasoning={"side": side, "size_btc": size, "summary": f"{side} {size} BTC on {venue.venue}"},
                links={"consumed_signals": consumed} if consumed else None,
                outcome=outcome,
            )
        self.keep_alive(tick, {"open_positions": len(tick.venues)})
