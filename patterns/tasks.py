"""Celery tasks: thin (ids in, a service call), acknowledged only when done (acks_late), retried
only on transient storage errors. Consolidation is idempotent, so a redelivery is harmless."""

from celery import shared_task
from django.conf import settings

from agents.selectors import agent_list
from memsite import storage
from patterns import consolidation
from patterns.archetype_services import archetypes_rebuild

TRANSIENT = (storage.Unavailable, storage.Conflict)
LEASE_RETRIES = 3


# Fire and forget: nobody reads these two tasks' results (runs are recorded in DynamoDB). A task
# whose result is kept makes .delay() subscribe to the result store first, which, with Redis down,
# retries for about 20 s before failing: the ops page's "run now" would hang that long.
@shared_task(acks_late=True, ignore_result=True)
def consolidate_all() -> list[str]:
    """Beat's entry point: one consolidation task per registered agent, so agents run in parallel
    on as many workers as there are."""
    agent_ids = [agent.agent_id for agent in agent_list()]
    for agent_id in agent_ids:
        consolidate_agent.delay(agent_id, trigger="beat")
    return agent_ids


@shared_task(bind=True, acks_late=True, autoretry_for=TRANSIENT, retry_backoff=5, retry_backoff_max=300, max_retries=5)
def consolidate_agent(self, agent_id: str, trigger: str = "task") -> dict:
    run = consolidation.consolidate_agent(agent_id, trigger=trigger)
    if run.status == "skipped" and self.request.retries < LEASE_RETRIES:
        # Another run holds the agent's lease: a live one finishes the work, a dead one's lease
        # runs out; either way, come back once it could have.
        raise self.retry(countdown=min(settings.CONSOLIDATION_LEASE_SECONDS, 300), max_retries=LEASE_RETRIES)
    return run.model_dump(mode="json")


@shared_task(acks_late=True, ignore_result=True, autoretry_for=TRANSIENT, retry_backoff=30, max_retries=3)
def rebuild_archetypes() -> dict:
    return archetypes_rebuild().model_dump(mode="json")
