"""CloudWatch Embedded Metric Format (EMF): with METRICS_EMF on, every request, storage call and
consolidation run also writes one JSON object on stdout (logger memsite.emf, no other wrapping),
from which CloudWatch Logs extracts metrics once the line reaches it (Lambda, ECS with awslogs,
the CloudWatch agent). Format:
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html

A few lines of the documented format rather than aws-embedded-metrics: that library flushes
through asyncio and decorators, probes the environment (Lambda, EC2 metadata, the agent's socket)
to choose where to send, and would add a dependency to every process for one json.dumps.

Like the Prometheus metrics, these never fail the work they measure."""

import json
import logging
import time
from collections.abc import Mapping
from typing import Any

from django.conf import settings

logger = logging.getLogger("memsite.emf")
# memsite.emf writes to stdout as it is; what goes wrong goes to the ordinary log.
_errors = logging.getLogger("memsite.metrics")

COUNT = "Count"
MILLISECONDS = "Milliseconds"

Metrics = Mapping[str, tuple[float, str]]  # name -> (value, CloudWatch unit)


def document(
    namespace: str,
    dimensions: Mapping[str, str],
    metrics: Metrics,
    properties: Mapping[str, Any] | None = None,
    *,
    timestamp_ms: int | None = None,
) -> dict[str, Any]:
    """One EMF object: the `_aws` directive, then the dimension values, metric values and any other
    properties as top-level members (properties are searchable in Logs Insights but are not metrics)."""
    return {
        **(properties or {}),
        "_aws": {
            "Timestamp": int(time.time() * 1000) if timestamp_ms is None else timestamp_ms,
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": [list(dimensions)],
                    "Metrics": [{"Name": name, "Unit": unit} for name, (_, unit) in metrics.items()],
                }
            ],
        },
        **dimensions,
        **{name: value for name, (value, _) in metrics.items()},
    }


def emit(dimensions: Mapping[str, str], metrics: Metrics, properties: Mapping[str, Any] | None = None) -> None:
    """Writes one line when METRICS_EMF is on. Never raises."""
    try:
        if settings.METRICS_EMF:
            line = document(settings.METRICS_EMF_NAMESPACE, dimensions, metrics, properties)
            logger.info(json.dumps(line, separators=(",", ":")))
    except Exception:
        _errors.exception("could not write a CloudWatch metric line")


def request(route: str, status: int, seconds: float) -> None:
    emit(
        {"Route": route, "StatusClass": f"{status // 100}xx"},
        {"Requests": (1, COUNT), "RequestLatency": (seconds * 1000, MILLISECONDS)},
    )


def storage_call(operation: str, seconds: float, error: str | None, consumed: Any) -> None:
    """A storage observer (memsite.storage.observe)."""
    if not settings.METRICS_EMF:
        return
    try:
        entries = consumed if isinstance(consumed, list) else [consumed] if consumed else []
        units = sum(float(entry.get("CapacityUnits", 0.0)) for entry in entries)
    except Exception:
        _errors.exception("could not read the consumed capacity of a storage call")
        return
    emit(
        {"Operation": operation},
        {
            "StorageCalls": (1, COUNT),
            "StorageLatency": (seconds * 1000, MILLISECONDS),
            "StorageErrors": (1 if error else 0, COUNT),
            "StorageCapacityUnits": (units, COUNT),
        },
        {"Error": error} if error else None,
    )


def consolidation_run(status: str, decisions_counted: int) -> None:
    emit({"Status": status}, {"ConsolidationRuns": (1, COUNT), "DecisionsCounted": (decisions_counted, COUNT)})
