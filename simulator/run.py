"""Running the team: a backfill of history through the batch API, then live cycles."""

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from simulator.market import Market
from simulator.team import EXECUTOR, HUNTER, RISK, Agent, Client, MarketHunter, RiskManager, TradeExecutor

logger = logging.getLogger("simulator")
CYCLE = timedelta(minutes=10)  # the user's design: 144 cycles a day per agent


@dataclass
class Simulation:
    clients: dict[str, Client]
    seed: int = 7
    market: Market = field(init=False)
    agents: list[Agent] = field(init=False)

    def __post_init__(self) -> None:
        self.market = Market(self.seed)
        self.agents = [
            kind(agent_id, self.clients[agent_id], random.Random(f"{self.seed}:{agent_id}"))
            for kind, agent_id in ((MarketHunter, HUNTER), (RiskManager, RISK), (TradeExecutor, EXECUTOR))
        ]

    @property
    def logged(self) -> int:
        return sum(agent.logged for agent in self.agents)

    def backfill(
        self, days: float, *, progress: Callable[[str], None] = logger.info, stop: threading.Event | None = None
    ) -> int:
        """`days` of ten-minute cycles ending now, every outcome whose horizon has passed included;
        returns the decisions logged. Sent in batches by each client's spool."""
        now = datetime.now(UTC)
        at, end = now - timedelta(days=days), now
        cycles = int((end - at) / CYCLE)
        for number in range(1, cycles + 1):
            if stop is not None and stop.is_set():
                progress(f"backfill: stopped at day {number / 144:.1f}; what was logged is kept")
                break
            tick = self.market.step(at)
            for agent in self.agents:
                agent.cycle(tick, now)
            at += CYCLE
            if number % 144 == 0 or number == cycles:
                progress(f"backfill: day {number / 144:.1f} of {days:g}, {self.logged} decisions logged")
        return self.logged

    def live(
        self,
        *,
        seconds_per_cycle: float,
        cycles: int | None = None,
        stop: threading.Event | None = None,
        start: datetime | None = None,
        step: timedelta = CYCLE,
    ) -> int:
        """One cycle every `seconds_per_cycle` until `cycles` ran or `stop` is set. Cycles are
        stamped with the real time, or, given `start`, with a simulated clock: `start`, then `step`
        later each cycle (the bench runs the user's ten-minute cycles back to back). Outcomes are
        reported six cycles after their decisions."""
        stop = stop or threading.Event()
        for agent in self.agents:
            agent.live = True
        ran = 0
        while not stop.is_set() and (cycles is None or ran < cycles):
            tick = self.market.step(datetime.now(UTC) if start is None else start + step * ran)
            for agent in self.agents:
                agent.report_due(tick.cycle)
                try:
                    agent.cycle(tick, tick.at)
                except Exception:
                    logger.exception("%s: cycle %s failed", agent.agent_id, tick.cycle)
            ran += 1
            if ran % 10 == 0:
                logger.info("live: cycle %s (%s regime), %s decisions logged", tick.cycle, tick.regime, self.logged)
            stop.wait(seconds_per_cycle)
        return ran
