"""The whole monthly bill the ops page shows next to the user's $3.50: DynamoDB throughput
(measured), DynamoDB storage (measured on AWS, estimated elsewhere) and CloudWatch (estimated
from the project's own log and metric volume). Each line says which it is and how it was made."""

from dataclasses import dataclass
from typing import Literal

from django.conf import settings

from memsite import metrics
from memsite.metrics import Activity, CapacityUsage
from memsite.status.selectors import SECONDS_PER_MONTH, CostProjection, cost_projection, storage_status

GB = 1e9
Basis = Literal["measured", "estimated"]


@dataclass(frozen=True)
class BillLine:
    name: str
    usd: float
    basis: Basis
    how: str


@dataclass(frozen=True)
class Bill:
    throughput: CostProjection
    lines: list[BillLine]
    budget_usd: float
    cloudwatch_share_usd: float

    @property
    def total_usd(self) -> float:
        return sum(line.usd for line in self.lines)

    @property
    def budget_share(self) -> float:
        return self.total_usd / self.budget_usd if self.budget_usd else 0.0


def monthly_bill(
    *, agents: int, usage: CapacityUsage | None = None, activity: Activity | None = None, stored_bytes: int | None
) -> Bill:
    """`stored_bytes`: what DynamoDB reports the tables and indexes hold (AWS), or None where the
    endpoint keeps no sizes (dynalite): then storage is estimated for `agents` after 90 days."""
    throughput = cost_projection(usage)
    activity = activity or metrics.activity()
    lines = [_throughput_line(throughput), _storage_line(agents, stored_bytes), _cloudwatch_line(throughput, activity)]
    return Bill(
        throughput=throughput,
        lines=lines,
        budget_usd=settings.MONTHLY_BUDGET_USD,
        cloudwatch_share_usd=settings.CLOUDWATCH_SHARE_USD,
    )


def stored_bytes_reported() -> int | None:
    """What the tables and their indexes hold, where DynamoDB says (AWS refreshes it about
    every six hours); None elsewhere (dynalite keeps no sizes, moto's are no one's bill)."""
    if settings.DYNAMODB_BACKEND != "aws":
        return None
    status = storage_status()
    if status.error:
        return None
    return sum((table.size_bytes or 0) + (table.index_size_bytes or 0) for table in status.tables)


def _throughput_line(throughput: CostProjection) -> BillLine:
    if throughput.backend == "aws":
        how = "request units DynamoDB reported, indexes included"
    elif throughput.index_write_units:
        how = "request units the endpoint reported for the tables, and index units counted from the index definitions"
    else:
        how = (
            "request units of the tables only: this endpoint reports none for indexes "
            "(turn on DYNAMODB_COUNT_INDEX_UNITS to count them), so this is a lower bound"
        )
    return BillLine("DynamoDB requests", throughput.monthly_usd, "measured", how)


def _storage_line(agents: int, stored_bytes: int | None) -> BillLine:
    price = settings.DYNAMODB_PRICES["storage_gb_month"]
    if stored_bytes is not None:
        gb = stored_bytes / GB
        return BillLine("DynamoDB storage", gb * price, "measured", f"{gb:.3f} GB stored now, as DynamoDB reports it")
    gb = agents * settings.STORAGE_GB_PER_AGENT_90_DAYS
    how = (
        f"{gb:.2f} GB: {agents} agents at {settings.STORAGE_GB_PER_AGENT_90_DAYS} GB each after 90 days "
        "of the simulated team's workload (make bench); this endpoint reports no sizes"
    )
    return BillLine("DynamoDB storage", gb * price, "estimated", how)


def _cloudwatch_line(throughput: CostProjection, activity: Activity) -> BillLine:
    prices, sizes = settings.CLOUDWATCH_PRICES, settings.LOG_BYTES
    per_month = SECONDS_PER_MONTH / throughput.seconds
    log_bytes = activity.requests * sizes["request"]
    metrics_count = 0
    if settings.METRICS_EMF:
        log_bytes += (
            activity.requests * sizes["request_emf"]
            + activity.storage_calls * sizes["storage_call_emf"]
            + activity.consolidation_runs * sizes["run_emf"]
        )
        # One metric per name and dimension set: two per route and status class, four per
        # storage operation, two per consolidation outcome (memsite/emf.py).
        metrics_count = 2 * activity.request_series + 4 * activity.operations + 2 * activity.run_statuses
    gb = log_bytes * per_month / GB
    logs_usd = gb * (prices["logs_ingested_gb"] + prices["logs_stored_gb_month"])
    usd = logs_usd + metrics_count * prices["custom_metric_month"]
    emf = f"{metrics_count} EMF metrics" if settings.METRICS_EMF else "no EMF metrics (METRICS_EMF is off)"
    how = f"{gb:.3f} GB of logs a month at this traffic, kept a month; {emf}; no alarms yet"
    return BillLine("CloudWatch", usd, "estimated", how)
