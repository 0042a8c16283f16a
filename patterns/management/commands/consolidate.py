"""manage.py consolidate [--agent ID]: the beat job's consolidation, now, with progress."""

from django.core.management.base import BaseCommand, CommandError

from agents.schemas import AGENT_ID_PATTERN
from agents.selectors import agent_list
from patterns import consolidation
from patterns.memory_schemas import ConsolidationRun


class Command(BaseCommand):
    help = "Fold new decisions and outcomes into long-term memory now (what beat runs every 10 minutes)."

    def add_arguments(self, parser):
        parser.add_argument("--agent", help="only this agent (default: every registered agent)")

    def handle(self, *args, agent: str | None, **options):
        if agent is not None and not AGENT_ID_PATTERN.match(agent):
            raise CommandError(f"--agent: {agent!r} is not an agent id")
        agent_ids = [agent] if agent else [a.agent_id for a in agent_list()]
        if not agent_ids:
            self.stdout.write("no agents registered yet: nothing to consolidate (create one with agent_create)")
            return
        failed = []
        for position, agent_id in enumerate(agent_ids, 1):
            self.stdout.write(f"[{position}/{len(agent_ids)}] {agent_id}")
            try:
                run = consolidation.consolidate_agent(agent_id, trigger="command", progress=self._progress)
            except Exception as error:
                self.stderr.write(f"  failed: {type(error).__name__}: {error}")
                failed.append(agent_id)
                continue
            self.stdout.write(f"  {run.status}: {self._summary(run)}" + (f" ({run.error})" if run.error else ""))
        if failed:
            raise CommandError(f"consolidation failed for {', '.join(failed)}; the next run finishes what they started")

    def _progress(self, run: ConsolidationRun) -> None:
        self.stdout.write(f"  ... {self._summary(run)}")

    @staticmethod
    def _summary(run: ConsolidationRun) -> str:
        return (
            f"{run.decisions_read} outcomes read, {run.decisions_counted} counted, "
            f"{run.patterns_changed} patterns changed"
        )
