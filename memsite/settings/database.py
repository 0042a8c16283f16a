"""Django's own database: users, tokens, sessions, beat schedules, audit.

Domain data never goes here; it lives in DynamoDB (see settings.storage).
"""

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from memsite.env import env_url
from memsite.settings.base import VAR_DIR

_DATABASE_SCHEMES = ("sqlite", "postgres", "postgresql", "pgsql", "mysql")
DATABASE_URL = env_url("DATABASE_URL", f"sqlite:///{VAR_DIR / 'memsite.sqlite3'}", schemes=_DATABASE_SCHEMES)

try:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
except ValueError as exc:
    raise ImproperlyConfigured(f"environment variable DATABASE_URL: {exc}") from None
