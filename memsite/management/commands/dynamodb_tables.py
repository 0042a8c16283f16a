"""manage.py dynamodb_tables create|describe|cloudformation"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from decisions.migrations import decisions_upgrade
from memsite import storage
from memsite.storage.cloudformation import template
from memsite.storage.provision import TableStatus, create_tables, describe_tables


class Command(BaseCommand):
    help = "Create the DynamoDB tables (idempotent), describe them, or print a CloudFormation template."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["create", "describe", "cloudformation"])
        parser.add_argument(
            "--exact",
            action="store_true",
            help="describe: count items with a full Scan instead of DynamoDB's approximate count "
            "(reads every item: for maintenance, and for dynalite, which keeps no counts)",
        )

    def handle(self, *args, action: str, exact: bool, **options):
        if action == "cloudformation":
            self.stdout.write(template(storage.ALL_TABLES, default_prefix=settings.DYNAMODB_TABLE_PREFIX))
            return
        gateway = storage.gateway("worker")
        try:
            if action == "create":
                self._create(gateway)
            else:
                self._describe(gateway, exact)
        except storage.StorageError as exc:
            raise CommandError(f"{gateway.config.description}: {exc}") from exc

    def _create(self, gateway: storage.Gateway) -> None:
        self.stdout.write(f"DynamoDB: {gateway.config.description}")
        created = create_tables(gateway, storage.ALL_TABLES, report=self.stdout.write)
        decisions_upgrade(report=self.stdout.write)  # a store made by an earlier version: its items too
        if created:
            self.stdout.write(self.style.SUCCESS(f"created {len(created)} tables; all are ACTIVE"))
        else:
            self.stdout.write(f"all {len(storage.ALL_TABLES)} tables exist and are ACTIVE: nothing to do")

    def _describe(self, gateway: storage.Gateway, exact: bool) -> None:
        self.stdout.write(f"DynamoDB: {gateway.config.description}")
        if gateway.config.backend == "embedded" and not exact:
            self.stdout.write("(dynalite keeps no item counts: --exact counts them with a Scan)")
        for status in describe_tables(gateway, storage.ALL_TABLES, exact_counts=exact):
            self.stdout.write(_describe_line(status, exact))
            for index in status.indexes:
                self.stdout.write(f"    index {index['name']:<14} {index['status']}")


def _describe_line(status: TableStatus, exact: bool) -> str:
    if not status.exists:
        return f"{status.name:<32} MISSING (run: manage.py dynamodb_tables create)"
    count = f"{status.item_count} items" if exact else f"~{status.item_count} items (approx.)"
    return f"{status.name:<32} {status.status:<8} {count}, TTL {status.ttl} ({status.spec.ttl_note})"
