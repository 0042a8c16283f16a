"""Celery on Redis; beat schedules live in the database (django-celery-beat)."""

from memsite.env import env_int, env_url

REDIS_URL = env_url("REDIS_URL", "redis://127.0.0.1:6379/0", schemes=("redis", "rediss", "unix"))

CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A task whose worker died unacknowledged goes back to the queue after this long. Consolidation is
# idempotent (and leased per agent), so a redelivery while the first copy still runs is harmless.
# kombu 5.7 looks for such tasks only every unacked_restore_interval x unacked_restore_throttle
# seconds (100 by default, whatever the timeout): every 10 s at most, or each timeout if shorter.
_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 900, minimum=1)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": _VISIBILITY_TIMEOUT,
    "unacked_restore_interval": min(10, _VISIBILITY_TIMEOUT),
    "unacked_restore_throttle": 1,
}

# Consolidation: decisions folded per batch (one open batch per agent at a time), and how long a
# run holds its agent's lease before another run may take over (renewed after every batch).
CONSOLIDATION_BATCH_SIZE = env_int("CONSOLIDATION_BATCH_SIZE", 100, minimum=1, maximum=1000)
CONSOLIDATION_LEASE_SECONDS = env_int("CONSOLIDATION_LEASE_SECONDS", 900, minimum=1)
# Outcome arrivals younger than this wait for the next run: the learn index is read past a
# watermark, and an arrival must be visible before the watermark passes it. It is stamped when its
# request is read and written within 42 s (the ingest lease's write window), then the index's lag
# and clock differences between web hosts come on top.
CONSOLIDATION_SETTLE_SECONDS = env_int("CONSOLIDATION_SETTLE_SECONDS", 60, minimum=0, maximum=3600)
# Workers log through Django's LOGGING (JSON lines in production), not Celery's own handlers.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
