"""Expiry. DynamoDB deletes expired items lazily (up to days late) and dynalite never
does, so every read filters out items whose TTL attribute is in the past."""

import time
from collections.abc import Mapping
from typing import Any


def now_epoch() -> int:
    return int(time.time())


def is_live(item: Mapping[str, Any], ttl_attribute: str | None, now: int | None = None) -> bool:
    """`item` is decoded; an item without the attribute never expires."""
    expires = item.get(ttl_attribute) if ttl_attribute else None
    # As on AWS, a TTL attribute that is not a number never expires the item.
    if not isinstance(expires, (int, float)) or isinstance(expires, bool):
        return True
    return expires > (now_epoch() if now is None else now)


def live_filter(ttl_attribute: str, now: int) -> tuple[str, dict[str, str], dict[str, Any]]:
    """A FilterExpression (with its names and values) that drops expired items server-side."""
    return (
        "(attribute_not_exists(#ttl) OR #ttl > :ttl_now)",
        {"#ttl": ttl_attribute},
        {":ttl_now": {"N": str(now)}},
    )
