"""Expiry. DynamoDB deletes expired items lazily (up to days late) and dynalite never
does, so every read filters out items whose TTL attribute is in the past."""

import time
from collections.abc import Mapping
from typing import Any


def now_epoch() -> int:
    return int(time.time())


def expires_in(seconds: int) -> int:
    """The TTL attribute value for an item that should live `seconds` from now."""
    return now_epoch() + seconds


def is_live(item: Mapping[str, Any], ttl_attribute: str | None, now: int | None = None) -> bool:
    """`item` is decoded; an item without the attribute never expires."""
    if ttl_attribute is None or ttl_attribute not in item:
        return True
    return item[ttl_attribute] > (now_epoch() if now is None else now)


def live_filter(ttl_attribute: str, now: int) -> tuple[str, dict[str, str], dict[str, Any]]:
    """A FilterExpression (with its names and values) that drops expired items server-side."""
    return (
        "(attribute_not_exists(#ttl) OR #ttl > :ttl_now)",
        {"#ttl": ttl_attribute},
        {":ttl_now": {"N": str(now)}},
    )
