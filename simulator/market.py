"""A synthetic BTC market, reproducible from its seed: regimes (trend, chop, high volatility)
that persist for hours, a price random walk shaped by them, funding that turns negative for
stretches, and per venue whale transfers and volume spikes."""

import math
import random
from dataclasses import dataclass, field
from datetime import datetime

REGIMES = ("trend", "chop", "high_vol")
# Sticky regimes: on average a regime lasts about 1 / (1 - stay) cycles (a few hours at 10 minutes).
STAY = 0.97
REGIME_WEIGHTS = {"trend": 0.45, "chop": 0.30, "high_vol": 0.25}
VENUES = ("binance", "coinbase")
WHALE_CHANCE = 0.5  # per venue and cycle: whale-alert style transfers above 500 BTC are frequent
VOLUME_SPIKE_CHANCE = 0.45
VOLATILITY = {"trend": 0.004, "chop": 0.002, "high_vol": 0.012}  # per-cycle log-return stdev


@dataclass(frozen=True)
class VenueTick:
    venue: str
    whale_activity: bool
    whale_btc: float
    volume_spike: bool
    volume_btc: float


@dataclass(frozen=True)
class Tick:
    at: datetime
    cycle: int
    regime: str
    price_usd: float
    funding_rate: float
    volatility: float
    venues: tuple[VenueTick, ...]

    def context(self) -> dict:
        """The market context every agent records with its decisions."""
        return {
            "regime": self.regime,
            "price_usd": round(self.price_usd, 2),
            "funding_rate": round(self.funding_rate, 5),
            "volatility": round(self.volatility, 5),
        }


@dataclass
class Market:
    seed: int
    price_usd: float = 64_000.0
    regime: str = "trend"
    funding_rate: float = 0.008
    cycle: int = 0
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def step(self, at: datetime) -> Tick:
        rng = self.rng
        self.cycle += 1
        if rng.random() > STAY:
            self.regime = rng.choices(REGIMES, weights=[REGIME_WEIGHTS[r] for r in REGIMES])[0]
        drift = 0.0006 if self.regime == "trend" else 0.0
        self.price_usd *= math.exp(rng.gauss(drift, VOLATILITY[self.regime]))
        # Funding wanders and flips negative for stretches (crowded shorts).
        self.funding_rate = max(min(0.9 * self.funding_rate + rng.gauss(0.0005, 0.006), 0.05), -0.05)
        venues = tuple(
            VenueTick(
                venue=venue,
                whale_activity=(whale := rng.random() < WHALE_CHANCE),
                whale_btc=round(rng.uniform(500, 5000), 1) if whale else 0.0,
                volume_spike=rng.random() < VOLUME_SPIKE_CHANCE,
                volume_btc=round(rng.lognormvariate(7, 0.5), 1),
            )
            for venue in VENUES
        )
        return Tick(
            at=at,
            cycle=self.cycle,
            regime=self.regime,
            price_usd=self.price_usd,
            funding_rate=self.funding_rate,
            volatility=VOLATILITY[self.regime] * rng.uniform(0.8, 1.2),
            venues=venues,
        )
