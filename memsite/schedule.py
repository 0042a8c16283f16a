"""The beat schedule: the one place periodic work is declared.

Beat reads schedules from the database (django-celery-beat), so operators change them in Django
admin (Periodic tasks). `manage.py bootstrap` installs these entries when they are missing and
never overwrites an entry that exists, so an edit made in admin survives restarts and deploys.
"""

from dataclasses import dataclass

from django.db import transaction


@dataclass(frozen=True)
class Entry:
    name: str
    task: str
    every_seconds: int
    description: str


SCHEDULE = (
    # Short-term into long-term memory: fans out one consolidation task per registered agent.
    # Ten minutes is the user's cycle; each run only reads what arrived since the last.
    Entry(
        name="consolidate all agents",
        task="patterns.tasks.consolidate_all",
        every_seconds=600,
        description="Fold new decisions and outcomes into patterns and strategies, one task per agent.",
    ),
    # Proves beat and a worker are alive: readiness (/health/ready) reports its age.
    Entry(
        name="worker heartbeat",
        task="memsite.tasks.worker_heartbeat",
        every_seconds=30,
        description="Beat sends it, a worker stores the time in Redis; /health/ready reports how old it is.",
    ),
    # Archetypes are clusters over a week of market contexts: hourly is fresh enough and cheap.
    Entry(
        name="rebuild archetypes",
        task="patterns.tasks.rebuild_archetypes",
        every_seconds=3600,
        description="Cluster the last week's market contexts into archetypes with their outcome stats.",
    ),
)


def schedule_install() -> list[str]:
    """Create the missing entries; returns the names created."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    created = []
    with transaction.atomic():
        for entry in SCHEDULE:
            if PeriodicTask.objects.filter(name=entry.name).exists():
                continue
            interval, _ = IntervalSchedule.objects.get_or_create(
                every=entry.every_seconds, period=IntervalSchedule.SECONDS
            )
            PeriodicTask.objects.create(
                name=entry.name, task=entry.task, interval=interval, description=entry.description
            )
            created.append(entry.name)
    return created


@dataclass(frozen=True)
class ScheduledTask:
    name: str
    task: str
    every: str
    enabled: bool
    last_run_at: object
    admin_id: int


def schedule_entries() -> list[ScheduledTask]:
    """The periodic tasks as beat sees them (after any edits in admin)."""
    from django_celery_beat.models import PeriodicTask

    tasks = PeriodicTask.objects.select_related("interval", "crontab").exclude(task="celery.backend_cleanup")
    return [
        ScheduledTask(
            name=t.name,
            task=t.task,
            every=str(t.interval or t.crontab or t.solar or t.clocked or "once"),
            enabled=t.enabled,
            last_run_at=t.last_run_at,
            admin_id=t.pk,
        )
        for t in tasks.order_by("name")
    ]
