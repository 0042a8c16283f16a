"""Reading configuration from the environment, failing loudly on bad values.

Every setting that comes from the environment goes through these helpers, so a
typo such as DEBUG=ture stops the process with a message naming the variable
instead of silently meaning False.
"""

import os
import re
from collections.abc import Sequence

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_RATE = re.compile(r"^[1-9]\d*/(s|sec|second|m|min|minute|h|hour|d|day)$")


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    return None if value is None else value.strip()


def _fail(name: str, raw: str, expected: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"environment variable {name}={raw!r}: expected {expected}")


def env_str(name: str, default: str) -> str:
    raw = _raw(name)
    return default if raw is None or raw == "" else raw


def env_optional(name: str) -> str | None:
    raw = _raw(name)
    return raw or None


def env_bool(name: str, default: bool) -> bool:
    raw = _raw(name)
    if raw is None:
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise _fail(name, raw, "one of 1/0, true/false, yes/no, on/off")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    raw = _raw(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _fail(name, raw, "an integer") from None
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise _fail(name, raw, f"an integer between {minimum} and {maximum}")
    return value


def env_list(name: str, default: Sequence[str]) -> list[str]:
    raw = _raw(name)
    if raw is None or raw == "":
        return list(default)
    return [part.strip() for part in raw.split(",") if part.strip()]


def env_choice(name: str, choices: Sequence[str], default: str) -> str:
    raw = _raw(name)
    if raw is None or raw == "":
        return default
    if raw not in choices:
        raise _fail(name, raw, "one of " + ", ".join(choices))
    return raw


def env_url(name: str, default: str | None, *, schemes: Sequence[str]) -> str | None:
    raw = _raw(name)
    if raw is None or raw == "":
        return default
    scheme, sep, rest = raw.partition("://")
    if not sep or scheme not in schemes or not rest:
        raise _fail(name, raw, "a URL starting with " + " or ".join(f"{s}://" for s in schemes))
    return raw


def env_rate(name: str, default: str) -> str:
    """A request rate as Django REST framework's throttles read it: "3000/min"."""
    raw = env_str(name, default)
    if not _RATE.match(raw):
        raise _fail(name, raw, "a rate such as 3000/min (per s, min, hour or day)")
    return raw
