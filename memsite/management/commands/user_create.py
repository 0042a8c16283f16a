"""manage.py user_create <username> --role viewer|operator|admin --password ..."""

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from memsite.roles import ROLES, role_group


class Command(BaseCommand):
    help = "Create a person's login with a role (viewer, operator or admin)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", choices=ROLES, required=True)
        parser.add_argument("--password", required=True)
        parser.add_argument("--email", default="")

    def handle(self, *args, username: str, role: str, password: str, email: str, **options):
        users = get_user_model()
        if users.objects.filter(username=username).exists():
            raise CommandError(f"user {username!r} exists already")
        try:
            validate_password(password)
        except ValidationError as exc:
            raise CommandError("password: " + " ".join(exc.messages)) from exc
        user = users.objects.create_user(username=username, email=email, password=password)
        if role == "admin":
            user.is_staff = user.is_superuser = True
            user.save(update_fields=["is_staff", "is_superuser"])
        user.groups.add(role_group(role))
        self.stdout.write(f"user {username} created with role {role}")
