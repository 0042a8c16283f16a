"""manage.py bootstrap: what `make run` does before serving. Waits for DynamoDB, migrates
Django's own database, creates the tables, installs missing beat schedule entries. Safe to run
any number of times."""

import fcntl
import io
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, OutputWrapper

from decisions.migrations import decisions_upgrade
from memsite import storage
from memsite.roles import role_group
from memsite.schedule import schedule_install
from memsite.storage.provision import create_tables
from patterns.selectors import definition_list

DEMO_PEOPLE = (("admin", "admin"), ("operator", "operator"), ("viewer", "viewer"))


class Command(BaseCommand):
    help = "Wait for DynamoDB, migrate Django's database and create the DynamoDB tables."

    def add_arguments(self, parser):
        parser.add_argument("--wait", type=float, default=30.0, help="seconds to wait for DynamoDB (default 30)")

    def handle(self, *args, wait: float, **options):
        if options["verbosity"] == 0:
            self.stdout = OutputWrapper(io.StringIO())
        # make run starts web, worker and beat at once, each bootstrapping first: one at a time.
        lock_path = Path(settings.VAR_DIR) / "bootstrap.lock"
        lock_path.parent.mkdir(exist_ok=True)
        with lock_path.open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self._bootstrap(wait)

    def _bootstrap(self, wait: float) -> None:
        # The request gateway's few quick retries suit polling; creation gets the patient one.
        self._wait_for_dynamodb(storage.gateway("request"), wait)
        gateway = storage.gateway("worker")
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Django database migrated")
        if not settings.DEBUG:
            # With DEBUG off, pages are served from collected, hashed files (whitenoise's manifest).
            call_command("collectstatic", interactive=False, verbosity=0)
            self.stdout.write(f"static files collected into {settings.STATIC_ROOT}")
        created = create_tables(gateway, storage.ALL_TABLES, report=self.stdout.write)
        decisions_upgrade(report=self.stdout.write)  # a store made by an earlier version: its items too
        self.stdout.write(f"DynamoDB tables ready ({len(created)} created) at {gateway.config.description}")
        if not definition_list():
            call_command("patterns", "import", "--builtins", stdout=self.stdout)
        if created_entries := schedule_install():
            self.stdout.write(f"beat schedule installed: {', '.join(created_entries)} (edit it in admin)")
        if settings.DEBUG:
            self._ensure_demo_people()

    def _ensure_demo_people(self) -> None:
        """A local system with login-only pages needs people to log in as: one per role, the
        password the same as the name. Only ever with DEBUG on, and never over an existing user."""
        users = get_user_model()
        for username, role in DEMO_PEOPLE:
            if users.objects.filter(username=username).exists():
                continue
            if role == "admin":
                user = users.objects.create_superuser(username=username, password=username, email="")
            else:
                user = users.objects.create_user(username=username, password=username)
            user.groups.add(role_group(role))
            self.stdout.write(f"DEBUG is on: created the {role} login {username} / {username}")
        logins = ", ".join(f"{name} / {name} ({role})" for name, role in DEMO_PEOPLE)
        self.stdout.write(f"open http://127.0.0.1:8000/ and log in as {logins}")

    def _wait_for_dynamodb(self, gateway: storage.Gateway, wait: float) -> None:
        deadline = time.monotonic() + wait
        self.stdout.write(f"waiting for {gateway.config.description} ...")
        while True:
            try:
                gateway.call("ListTables", Limit=1)
                return
            except storage.Unavailable as exc:
                if time.monotonic() > deadline:
                    raise CommandError(f"DynamoDB did not answer within {wait:.0f} s: {exc}") from exc
                time.sleep(0.5)
