"""Filters for reading context, reasoning and outcomes as text rather than raw JSON."""

from collections.abc import Mapping

from django import template

from decisions.charts import reasoning_summary

register = template.Library()


@register.filter
def is_mapping(value) -> bool:
    return isinstance(value, Mapping)


@register.filter
def is_sequence(value) -> bool:
    return isinstance(value, (list, tuple))


@register.filter
def humanize_key(key: str) -> str:
    """price_change_1h -> Price change 1h"""
    text = str(key).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


@register.filter
def readable_number(value):
    """Floats to a sensible precision; everything else unchanged."""
    if isinstance(value, float):
        return f"{value:,.6g}" if abs(value) < 1e15 else f"{value:.6e}"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10_000:
        return f"{value:,}"
    return value


@register.filter
def why(decision) -> str:
    """The decision's reasoning in one line."""
    return reasoning_summary(decision)
