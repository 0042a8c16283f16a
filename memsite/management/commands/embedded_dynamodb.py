"""manage.py embedded_dynamodb: run the embedded dynalite in the foreground (the Procfile's
`dynamodb` process). With another backend configured there is nothing to run, and it says so."""

import os
import signal
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from memsite.storage.local import LocalDynamoError, dynalite_command, is_listening


class Command(BaseCommand):
    help = "Run the embedded local DynamoDB (dynalite) in the foreground, data under var/dynalite."

    def handle(self, *args, **options):
        if settings.DYNAMODB_BACKEND != "embedded":
            self.stdout.write(f"DYNAMODB_BACKEND={settings.DYNAMODB_BACKEND}: no embedded DynamoDB to run")
            signal.pause()  # stay up, so honcho does not take it for a crash and stop the others
            return
        port = settings.EMBEDDED_DYNAMODB_PORT
        if is_listening(port):
            raise CommandError(
                f"port {port} is taken: another embedded DynamoDB is running? (EMBEDDED_DYNAMODB_PORT moves it)"
            )
        try:
            command = dynalite_command(port, settings.EMBEDDED_DYNAMODB_PATH)
        except LocalDynamoError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"embedded DynamoDB (dynalite) on 127.0.0.1:{port}, data in {settings.EMBEDDED_DYNAMODB_PATH}"
        )
        sys.stdout.flush()
        os.execv(command[0], command)
