"""gunicorn reads this file from the directory it starts in (the project root here and in the image).
Settings stay on the command line (Procfile, Dockerfile); this only adds a start-up check."""

import os


def on_starting(server) -> None:
    """Several workers count metrics apart: without PROMETHEUS_MULTIPROC_DIR, /metrics shows only the
    counts of the worker that happens to answer the scrape."""
    workers = server.cfg.workers
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        server.log.warning(
            "%d gunicorn workers count metrics separately and PROMETHEUS_MULTIPROC_DIR is not set: /metrics will "
            "show only the counts of the worker answering the scrape. Set PROMETHEUS_MULTIPROC_DIR to an empty "
            "folder shared by the web and Celery worker processes (make run uses var/prometheus)",
            workers,
        )
