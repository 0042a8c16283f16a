"""manage.py agent_create <agent_id> [--name ...]: register an agent; its token is the last line."""

from django.core.management.base import BaseCommand, CommandError

from agents.config_schemas import KINDS
from agents.services import agent_create
from memsite.errors import ApplicationError


class Command(BaseCommand):
    help = "Register an agent and print a new API token on the last line (shown once; stored hashed)."

    def add_arguments(self, parser):
        parser.add_argument("agent_id")
        parser.add_argument("--name", help="display name (default: the agent id)")
        parser.add_argument(
            "--kind",
            choices=sorted(KINDS),
            help="which configuration schema applies (default: the agent id if it names a kind, else generic)",
        )

    def handle(self, *args, agent_id: str, name: str | None, kind: str | None, **options):
        try:
            issued = agent_create(agent_id=agent_id, name=name, kind=kind)
        except ApplicationError as exc:
            raise CommandError(exc.detail) from exc
        self.stdout.write(f"agent {agent_id} registered; its API token (shown once, send as 'Authorization: Bearer'):")
        self.stdout.write(issued.token)
