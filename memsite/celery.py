"""The Celery app: configured from Django settings (CELERY_*), tasks found in each app's tasks.py."""

import logging
import os

from celery import Celery
from celery.signals import celeryd_after_setup, celeryd_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "memsite.settings")

logger = logging.getLogger(__name__)

app = Celery("memsite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@celeryd_init.connect
def storage_retries_as_a_worker(sender, **kwargs) -> None:
    """Sent in the worker's main process before its pool forks: every storage call of a task then
    retries as workers do (more attempts, longer waits) unless the code asks for another role."""
    from memsite import storage

    storage.set_process_role("worker")


@celeryd_after_setup.connect
def warn_when_metrics_stay_in_the_worker(sender, **kwargs) -> None:
    """Sent once per worker start, after logging is set up. /metrics is answered by a web process, so
    without PROMETHEUS_MULTIPROC_DIR what the worker counts (consolidation runs, its storage calls)
    never reaches it."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        logger.warning(
            "Celery worker %s counts metrics in its own processes and PROMETHEUS_MULTIPROC_DIR is not set: "
            "/metrics will show only the counts of the web process answering the scrape, none of this worker's. "
            "Set PROMETHEUS_MULTIPROC_DIR to an empty folder shared by the web and Celery worker processes "
            "(make run uses var/prometheus)",
            sender,
        )
