"""agent_state items of rate-limit windows: RATE#{source}#{window_seconds}#{window_start}.

A fixed window per (source, length); each window is its own item, so a new window starts from
zero without any reset write, and the old one expires by TTL.
"""

from datetime import UTC, datetime
from typing import Any

from agents.schemas import RateLimitWindow
from memsite import storage
from memsite.storage.tables import AGENT_STATE, TTL_ATTRIBUTE

RATE = "RATE#"
USED = "used"


def _table() -> storage.Table:
    return storage.table(AGENT_STATE)


def _window_start(now: datetime, window_seconds: int) -> int:
    epoch = int(now.timestamp())
    return epoch - epoch % window_seconds


def _from_item(agent_id: str, item: dict[str, Any]) -> RateLimitWindow:
    start = datetime.fromtimestamp(item["window_start"], UTC)
    return RateLimitWindow(
        agent_id=agent_id,
        source=item["source"],
        window_seconds=item["window_seconds"],
        limit=item["limit"],
        used=item.get(USED, 0),
        window_start=start,
        reset_at=datetime.fromtimestamp(item["window_start"] + item["window_seconds"], UTC),
    )


def consume(agent_id: str, source: str, *, cost: int, limit: int, window_seconds: int) -> tuple[bool, RateLimitWindow]:
    """Take `cost` from the current window if it fits: one conditional UpdateItem, exact under
    any number of concurrent callers."""
    start = _window_start(datetime.now(UTC), window_seconds)
    key = {"pk": f"agent:{agent_id}", "sk": f"{RATE}{source}#{window_seconds}#{start}"}
    defaults = {
        "source": source,
        "window_seconds": window_seconds,
        "window_start": start,
        "limit": limit,
        # Kept a while after the window ends, so the agent page can show the last window's use.
        TTL_ATTRIBUTE: start + window_seconds + max(window_seconds, 3600),
    }
    allowed, item = _table().add_within(key, USED, cost, ceiling=limit, defaults=defaults)
    return allowed, _from_item(agent_id, defaults | {USED: 0} | item | {"limit": limit})


def windows_list(agent_id: str) -> list[RateLimitWindow]:
    """The agent's rate-limit windows that have not expired, newest last."""
    items = _table().query_all(
        f"agent:{agent_id}", sort=storage.SortCondition.begins_with(RATE), newest_first=False, limit=500
    )
    return [_from_item(agent_id, item) for item in items]
