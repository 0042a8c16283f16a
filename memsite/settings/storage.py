"""DynamoDB: which endpoint, which region, which table names.

Three backends, chosen from the environment:
  embedded  (default)  dynalite started by the project on 127.0.0.1 (`make run`, tests)
  endpoint             AWS_ENDPOINT_URL_DYNAMODB is set: that endpoint, standard AWS credential chain
  aws                  DYNAMODB_BACKEND=aws: real AWS, standard credential chain
"""

import re

from django.core.exceptions import ImproperlyConfigured

from memsite.env import env_bool, env_choice, env_int, env_str, env_url
from memsite.settings.base import VAR_DIR

DYNAMODB_ENDPOINT_URL = env_url("AWS_ENDPOINT_URL_DYNAMODB", None, schemes=("http", "https"))
DYNAMODB_BACKEND = env_choice(
    "DYNAMODB_BACKEND", ("embedded", "endpoint", "aws"), "endpoint" if DYNAMODB_ENDPOINT_URL else "embedded"
)
if DYNAMODB_BACKEND == "endpoint" and not DYNAMODB_ENDPOINT_URL:
    raise ImproperlyConfigured("DYNAMODB_BACKEND=endpoint needs AWS_ENDPOINT_URL_DYNAMODB")

DYNAMODB_TABLE_PREFIX = env_str("DYNAMODB_TABLE_PREFIX", "memsite_")
if not re.fullmatch(r"[A-Za-z0-9_.-]{0,200}", DYNAMODB_TABLE_PREFIX):
    raise ImproperlyConfigured(
        f"environment variable DYNAMODB_TABLE_PREFIX={DYNAMODB_TABLE_PREFIX!r}: "
        "expected letters, digits, '_', '-' or '.' (DynamoDB table-name characters)"
    )

AWS_REGION = env_str("AWS_REGION", env_str("AWS_DEFAULT_REGION", "us-east-1"))

# dynalite reports no index units: count them from each write's items (two extra reads per write
# on an indexed table), so the bench and the ops page see what AWS would bill. A measuring aid:
# AWS reports index units itself, and the gateway stops counting once it sees them reported.
DYNAMODB_COUNT_INDEX_UNITS = env_bool("DYNAMODB_COUNT_INDEX_UNITS", False)

# The embedded dynalite: its port, and where `make run` keeps its data.
EMBEDDED_DYNAMODB_PORT = env_int("EMBEDDED_DYNAMODB_PORT", 8765, minimum=1, maximum=65535)
EMBEDDED_DYNAMODB_PATH = VAR_DIR / "dynalite"

# Request paths fail fast (the client retries); workers wait longer before giving up. A request
# gives up on a DynamoDB that hangs within about 6 s (three tries of 2 s to read; 1 s each to
# connect when nothing answers at all), so an agent, which waits 10 s for an answer (memclient's
# default timeout), gets the 503 with Retry-After rather than a timeout of its own.
DYNAMODB_CONNECT_TIMEOUT_SECONDS = 2
DYNAMODB_READ_TIMEOUT_SECONDS = 5
DYNAMODB_REQUEST_CONNECT_TIMEOUT_SECONDS = 1
DYNAMODB_REQUEST_READ_TIMEOUT_SECONDS = 2
DYNAMODB_MAX_ATTEMPTS_REQUEST = 3
DYNAMODB_MAX_ATTEMPTS_WORKER = 8
