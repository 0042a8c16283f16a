"""manage.py dynamodb_tables create|describe|cloudformation"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from memsite import storage
from memsite.storage.cloudformation import template
from memsite.storage.provision import TableStatus, create_tables, describe_tables


class Command(BaseCommand):
    help = "Create the DynamoDB tables (idempotent), describe them, or print a CloudFormation template."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["create", "describe", "cloudformation"])

    def handle(self, *args, action: str, **options):
        if action == "cloudformation":
            self.stdout.write(template(storage.ALL_TABLES, default_prefix=settings.DYNAMODB_TABLE_PREFIX))
            return
        gateway = storage.gateway("worker")
        try:
            if action == "create":
                self._create(gateway)
            else:
                self._describe(gateway)
        except storage.StorageError as exc:
            raise CommandError(f"{gateway.config.description}: {exc}") from exc

    def _create(self, gateway: storage.Gateway) -> None:
        self.stdout.write(f"DynamoDB: {gateway.config.description}")
        created = create_tables(gateway, storage.ALL_TABLES, report=self.stdout.write)
        if created:
            self.stdout.write(self.style.SUCCESS(f"created {len(created)} tables; all are ACTIVE"))
        else:
            self.stdout.write(f"all {len(storage.ALL_TABLES)} tables exist and are ACTIVE: nothing to do")

    def _describe(self, gateway: storage.Gateway) -> None:
        self.stdout.write(f"DynamoDB: {gateway.config.description}")
        for status in describe_tables(gateway, storage.ALL_TABLES):
            self.stdout.write(_describe_line(status))
            for index in status.indexes:
                self.stdout.write(f"    index {index['name']:<14} {index['status']:<8} ~{index['item_count']} items")


def _describe_line(status: TableStatus) -> str:
    if not status.exists:
        return f"{status.name:<32} MISSING (run: manage.py dynamodb_tables create)"
    return (
        f"{status.name:<32} {status.status:<8} ~{status.item_count} items, "
        f"{status.size_bytes or 0} bytes, TTL {status.ttl} ({status.spec.ttl_note})"
    )
