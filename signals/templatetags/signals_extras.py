from datetime import datetime

from django import template

register = template.Library()


@register.filter
def time_left(expires_at: datetime, now: datetime) -> str:
    """'3h 12m', '45s', or 'expired'."""
    seconds = int((expires_at - now).total_seconds())
    if seconds <= 0:
        return "expired"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"
