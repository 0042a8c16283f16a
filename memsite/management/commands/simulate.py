"""manage.py simulate: the simulated trading team, over HTTP through memclient like any agent.

Registers the three agents when missing and keeps their tokens in var/simulator/tokens.json (0600,
printed once when issued), optionally backfills history, then runs live cycles until stopped.
"""

import json
import logging
import os
import signal
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from agents.models import AgentToken
from agents.services import agent_create, agent_token_issue, hash_token
from decisions.selectors import DecisionFilter, decision_list
from memclient import FlushTimeout, MemClient
from simulator.run import Simulation
from simulator.team import HUNTER, TEAM

logger = logging.getLogger("simulator")


class Command(BaseCommand):
    help = "Run the simulated trading team (Market Hunter, Risk Manager, Trade Executor) against the API."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="the API's base URL")
        parser.add_argument("--speed", type=float, default=5.0, help="seconds per live cycle (default 5)")
        parser.add_argument(
            "--backfill-days",
            type=float,
            default=0,
            help="first log this many days of history, if the team has logged nothing yet",
        )
        parser.add_argument("--seed", type=int, default=7, help="the market's seed (default 7)")
        parser.add_argument("--cycles", type=int, help="stop after this many live cycles (default: run until stopped)")
        parser.add_argument("--no-live", action="store_true", help="stop after the backfill")
        parser.add_argument("--wait", type=float, default=120.0, help="seconds to wait for the API to answer")

    def handle(self, *args, url: str, speed: float, backfill_days: float, seed: int, **options):
        if speed <= 0 or backfill_days < 0 or backfill_days > 80:
            raise CommandError("--speed must be above 0 and --backfill-days within 0..80 (decisions are kept 90 days)")
        self._wait_for_api(url, options["wait"])
        folder = Path(settings.VAR_DIR) / "simulator"
        folder.mkdir(parents=True, exist_ok=True)
        tokens = self._tokens(folder / "tokens.json")
        clients = {
            agent_id: MemClient(
                base_url=url, token=token, agent_id=agent_id, spool_path=str(folder / f"spool-{agent_id}.sqlite3")
            )
            for agent_id, token in tokens.items()
        }
        simulation = Simulation(clients, seed=seed)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            if backfill_days:
                self._backfill(simulation, clients, backfill_days, folder / "backfill.done", stop)
            if not options["no_live"]:
                self.stdout.write(f"live: one cycle every {speed:g} s; Ctrl-C stops")
                simulation.live(seconds_per_cycle=speed, cycles=options["cycles"], stop=stop)
        except KeyboardInterrupt:
            self.stdout.write("stopping: sending what is spooled")
        finally:
            for client in clients.values():
                client.close()
        self.stdout.write(f"done: {simulation.logged} decisions logged")

    def _backfill(
        self, simulation: Simulation, clients: dict[str, MemClient], days: float, done: Path, stop: threading.Event
    ) -> None:
        """Once per store: not when a backfill finished before, the team has history, or an earlier
        run's decisions are still spooled (they are being replayed)."""
        until = datetime.now(UTC)
        logged, _ = decision_list(filters=DecisionFilter(agent=HUNTER, since=until - timedelta(days=90), limit=1))
        if done.exists() or logged or any(client.pending() for client in clients.values()):
            self.stdout.write("backfill skipped: the team has history already (it is kept)")
            return
        self.stdout.write(f"backfill: {days:g} days of ten-minute cycles through the batch API ...")
        started = time.monotonic()
        simulation.backfill(days, progress=self.stdout.write, stop=stop)
        try:
            for client in clients.values():
                client.flush(timeout=600)
        except FlushTimeout as timeout:
            self.stderr.write(f"backfill: the API is slow or down ({timeout}); the spool sends the rest later")
        done.write_text(datetime.now(UTC).isoformat())
        self.stdout.write(f"backfill: {simulation.logged} decisions in {time.monotonic() - started:.0f} s")
        self._consolidate_soon()

    def _consolidate_soon(self) -> None:
        """Learn from the backfill now rather than at beat's next tick (when a worker is listening)."""
        try:
            from patterns.tasks import consolidate_all, rebuild_archetypes

            consolidate_all.delay()
            rebuild_archetypes.delay()
            self.stdout.write("consolidation and archetypes queued for the worker")
        except Exception as error:  # Redis down: beat catches up later
            self.stdout.write(f"could not queue consolidation ({type(error).__name__}); beat will run it")

    def _tokens(self, path: Path) -> dict[str, str]:
        """The team's tokens: read back, or issued (and printed once) for agents that have none here."""
        tokens = json.loads(path.read_text()) if path.exists() else {}
        changed = False
        for agent_id, name in TEAM.items():
            known = tokens.get(agent_id)
            if known and AgentToken.objects.filter(token_hash=hash_token(known), revoked_at__isnull=True).exists():
                continue  # still valid: Django's database and the tokens file agree
            has_any = AgentToken.objects.filter(agent_id=agent_id).exists()
            issued = agent_token_issue(agent_id=agent_id) if has_any else agent_create(agent_id=agent_id, name=name)
            tokens[agent_id] = issued.token
            changed = True
            self.stdout.write(f"agent {agent_id}: token {issued.token}")
        if changed:
            # Written whole and private from the first byte: a crash leaves the old file or the new.
            draft = path.with_suffix(".tmp")
            with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
                json.dump(tokens, handle, indent=2)
            draft.replace(path)
            self.stdout.write(f"tokens kept in {path} (shown once)")
        return tokens

    def _wait_for_api(self, url: str, wait: float) -> None:
        deadline = time.monotonic() + wait
        while True:
            try:
                # Any answer below 500 (a 401 without a token, too) means the API is serving.
                status = httpx.get(f"{url}/api/v1/agents/", timeout=3).status_code
                problem = None if status < 500 else f"HTTP {status}"
            except httpx.HTTPError as error:
                problem = str(error) or type(error).__name__
            if problem is None:
                return
            if time.monotonic() > deadline:
                raise CommandError(f"the API at {url} did not answer within {wait:.0f} s: {problem}")
            time.sleep(1)
