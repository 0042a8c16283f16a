"""Test settings: the project's settings with what tests need set before they load.

The DynamoDB endpoint is filled in by the session fixture that starts dynalite (conftest.py).
"""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "test-only-secret-key")
os.environ.setdefault("DEBUG", "0")
# The live servers the browser tests drive speak plain HTTP.
os.environ.setdefault("HTTPS_ONLY", "0")
# Tests hammer the API far faster than agents do; the throttle tests set their own low rates.
os.environ.setdefault("API_THROTTLE_AGENT", "1000000/min")
os.environ.setdefault("API_THROTTLE_PERSON", "1000000/min")
# Throttle counters in Redis are keyed by token digest and user id; ids repeat between test runs.
os.environ.setdefault("CACHE_KEY_PREFIX", f"memsite-test-{os.getpid()}")
# One host, one clock, and dynalite updates an index with its table: tests consolidate what they
# have just logged (their Celery workers inherit this).
os.environ.setdefault("CONSOLIDATION_SETTLE_SECONDS", "0")
# The tests' local servers accept any credentials; these keep boto3's chain from looking further.
os.environ["AWS_ACCESS_KEY_ID"] = "testing"
os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
os.environ.pop("AWS_SESSION_TOKEN", None)
os.environ.pop("AWS_PROFILE", None)

from memsite.settings import *  # noqa: F403

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests serve static files from the source folders, as `make run` does; no collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# bootstrap collects static files when DEBUG is off; keep the checkout's var/ out of it.
STATIC_ROOT = Path(tempfile.gettempdir()) / "memsite-test-static"
