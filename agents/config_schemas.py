"""Configuration schemas, one per agent kind. An agent's kind picks its schema; a kind without
one gets the permissive default (any JSON object). Add a kind by adding a model to KINDS."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class AnyConfig(BaseModel):
    """The permissive default: any JSON object."""

    model_config = ConfigDict(extra="allow")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SourceWeights(_Strict):
    glassnode: float = Field(default=0.4, ge=0, le=1)
    binance: float = Field(default=0.4, ge=0, le=1)
    coinglass: float = Field(default=0.2, ge=0, le=1)


class MarketHunterConfig(_Strict):
    cycle_minutes: int = Field(default=10, ge=1, le=1440, description="minutes between cycles")
    sources: SourceWeights = Field(default_factory=SourceWeights)
    whale_threshold_btc: float = Field(default=500, gt=0, description="transfers at least this large are whales")
    min_signal_confidence: float = Field(default=0.6, ge=0, le=1)
    query_budget_per_hour: int = Field(default=60, ge=1, le=10_000)


class RiskManagerConfig(_Strict):
    max_position_btc: float = Field(default=2.0, gt=0)
    max_drawdown_pct: float = Field(default=5.0, gt=0, le=100)
    risk_level: Literal["low", "medium", "high"] = "medium"
    volatility_window_hours: int = Field(default=24, ge=1, le=720)


class TradeExecutorConfig(_Strict):
    order_type: Literal["market", "limit"] = "limit"
    max_slippage_bps: int = Field(default=25, ge=0, le=1000)
    min_confidence_to_trade: float = Field(default=0.7, ge=0, le=1)
    dry_run: bool = True


KINDS: dict[str, type[BaseModel]] = {
    "generic": AnyConfig,
    "market-hunter": MarketHunterConfig,
    "risk-manager": RiskManagerConfig,
    "trade-executor": TradeExecutorConfig,
}


def schema_for(kind: str) -> type[BaseModel]:
    return KINDS.get(kind, AnyConfig)


def kind_for_new_agent(agent_id: str, requested: str | None) -> str:
    """The kind asked for, else the agent id when it names a kind (market-hunter), else generic."""
    if requested:
        return requested
    return agent_id if agent_id in KINDS else "generic"


def defaults_for(kind: str) -> dict[str, Any]:
    return schema_for(kind)().model_dump(mode="json")
