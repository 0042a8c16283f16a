"""The planted effects: how likely each kind of decision is to succeed, by construction.

The learner must find these numbers from outcomes alone; a test checks it does (within ±0.05).
Each row matches one built-in pattern definition (patterns/builtin_patterns.yaml) exactly: every
decision a pattern covers has the same planted probability, so the confidence it learns has one
true value. docs/simulator.md has the same table.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Effect:
    pattern_id: str
    description: str
    probability: float


WHALE_IN_TREND = Effect("whale-inflow-price-up", "whale activity in a trend: price up within the horizon", 0.78)
VOLUME_SPIKE_IN_TREND = Effect("volume-spike-breakout", "volume spike in a trend: the breakout holds", 0.70)
SIGNALS_IN_CHOP = Effect("chop-fade-signals", "any signal in a choppy market follows through", 0.35)
RISK_CUT_IN_HIGH_VOL = Effect(
    "high-volatility-risk-cut", "reducing, hedging or going flat in high volatility: no loss", 0.80
)
NEGATIVE_FUNDING_TRADES = Effect("negative-funding-squeeze", "a trade while funding is negative succeeds", 0.65)

PLANTED = (WHALE_IN_TREND, VOLUME_SPIKE_IN_TREND, SIGNALS_IN_CHOP, RISK_CUT_IN_HIGH_VOL, NEGATIVE_FUNDING_TRADES)

# Everything no pattern covers: plausible, and never equal to a planted value by accident.
SIGNAL_OTHERWISE = 0.52
RISK_OTHERWISE = 0.58
TRADE_OTHERWISE = 0.48
QUERY_SUCCESS = 0.93
SOURCE_QUALITY = {"whale_alert": 0.9, "glassnode": 0.82, "binance_ws": 0.95, "coinglass": 0.86}
CUT_ACTIONS = ("reduce", "hedge", "flat")


def signal_success(regime: str, trigger: str) -> float:
    if regime == "chop":
        return SIGNALS_IN_CHOP.probability
    if regime == "trend" and trigger == "whale":
        return WHALE_IN_TREND.probability
    if regime == "trend" and trigger == "volume_spike":
        return VOLUME_SPIKE_IN_TREND.probability
    return SIGNAL_OTHERWISE


def risk_success(regime: str, action: str) -> float:
    """Success of a risk assessment: its position did not lose money over the horizon."""
    if regime == "high_vol" and action in CUT_ACTIONS:
        return RISK_CUT_IN_HIGH_VOL.probability
    return RISK_OTHERWISE


def trade_success(funding_rate: float) -> float:
    return NEGATIVE_FUNDING_TRADES.probability if funding_rate < 0 else TRADE_OTHERWISE
