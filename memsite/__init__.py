"""memsite: hierarchical memory, decision log and signal bus for trading agents."""

from memsite.celery import app as celery_app

__all__ = ["celery_app"]
