"""The beat schedule installed once and kept as edited; the consolidate command."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from memsite.schedule import SCHEDULE, schedule_install
from patterns import memory_repository as repo
from tests.patterns.helpers import log


@pytest.mark.django_db
def test_the_schedule_is_installed_once_and_an_admin_edit_survives_reinstalling():
    assert schedule_install() == [entry.name for entry in SCHEDULE]
    consolidation = PeriodicTask.objects.get(name="consolidate all agents")
    assert (consolidation.interval.every, consolidation.interval.period) == (600, IntervalSchedule.SECONDS)
    assert consolidation.task == "patterns.tasks.consolidate_all"

    consolidation.interval = IntervalSchedule.objects.create(every=5, period=IntervalSchedule.MINUTES)
    consolidation.save()

    assert schedule_install() == []
    assert PeriodicTask.objects.get(name="consolidate all agents").interval.every == 5


def test_the_command_consolidates_one_agent_with_progress(agent, marker, definition):
    for status in ["SUCCESS", "FAILURE"]:
        log(agent, marker, outcome=status)
    out = StringIO()

    call_command("consolidate", "--agent", agent, stdout=out)

    output = out.getvalue()
    assert f"[1/1] {agent}" in output
    assert "succeeded: 2 outcomes read, 2 counted" in output
    assert repo.state_find(definition.id, agent).state.support == 2


def test_the_command_refuses_what_is_no_agent_id(db):
    with pytest.raises(CommandError, match="--agent"):
        call_command("consolidate", "--agent", "Not An Agent")
