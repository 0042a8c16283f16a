"""manage.py agent_token list|rotate|revoke: an agent's API tokens."""

from django.core.management.base import BaseCommand, CommandError

from agents.selectors import agent_token_list
from agents.services import agent_token_revoke, agent_token_rotate
from memsite.errors import ApplicationError


class Command(BaseCommand):
    help = "List agents' API tokens, rotate an agent's token (new one on the last line), or revoke tokens."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["list", "rotate", "revoke"])
        parser.add_argument("agent_id", nargs="?", help="required for rotate and revoke")
        parser.add_argument("--prefix", help="revoke: only the token starting with this prefix")

    def handle(self, *args, action: str, agent_id: str | None, prefix: str | None, **options):
        if action == "list":
            return self._list(agent_id)
        if not agent_id:
            raise CommandError(f"{action} needs an agent id")
        try:
            if action == "rotate":
                issued = agent_token_rotate(agent_id=agent_id)
                self.stdout.write(f"older tokens of {agent_id} revoked; the new token (shown once):")
                self.stdout.write(issued.token)
            else:
                count = agent_token_revoke(agent_id=agent_id, prefix=prefix)
                self.stdout.write(f"{count} token(s) of {agent_id} revoked")
        except ApplicationError as exc:
            raise CommandError(exc.detail) from exc

    def _list(self, agent_id: str | None) -> None:
        tokens = agent_token_list(agent_id=agent_id)
        if not tokens:
            self.stdout.write("no tokens: register an agent with `manage.py agent_create <agent_id>`")
        for token in tokens:
            state = f"revoked {token.revoked_at:%Y-%m-%d %H:%M}" if token.revoked_at else "active"
            used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
            self.stdout.write(
                f"{token.agent_id:<24} {token.prefix}…  created {token.created_at:%Y-%m-%d %H:%M}  "
                f"last used {used}  {state}"
            )
