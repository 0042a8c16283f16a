"""Django REST framework and the OpenAPI schema."""

from memsite.env import env_optional

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "memsite.api.schema.ApiAutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "memsite.api.authentication.AgentTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["memsite.api.permissions.IsTeamMember"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["memsite.api.parsers.SafeJSONParser"],
    "EXCEPTION_HANDLER": "memsite.api.exceptions.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Rates: API_THROTTLE_RATES (memsite/settings/throttling.py).
    "DEFAULT_THROTTLE_CLASSES": [
        "memsite.api.throttling.AgentTokenThrottle",
        "memsite.api.throttling.PersonThrottle",
    ],
}

# A batch of 100 decisions of 64 KiB: the API refuses more itself, with a JSON 413 that says why.
DATA_UPLOAD_MAX_MEMORY_SIZE = 7 * 1024 * 1024

SPECTACULAR_SETTINGS = {
    "TITLE": "memsite API",
    "DESCRIPTION": "Decision log, memory and signal bus for a team of trading agents. "
    "Agents send `Authorization: Bearer <token>` (manage.py agent_create); people use their login session.",
    "VERSION": "1",
    # pydantic writes JSON Schema 2020-12 (nullable as {"type": "null"}), which OpenAPI 3.1 speaks.
    "OAS_VERSION": "3.1.0",
    "SERVE_PERMISSIONS": ["memsite.api.permissions.IsTeamMember"],
    # The schema describes the API, not the endpoint that serves the schema.
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI's files come from the drf-spectacular-sidecar package, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "BatchStatusEnum": ["created", "exists", "conflict", "invalid"],
        "ReportedOutcomeEnum": ["SUCCESS", "FAILURE"],
        "OutcomeStatusEnum": ["SUCCESS", "FAILURE", "PENDING"],
        "PatternStatusEnum": ["candidate", "active", "retired", "pinned", "suspended"],
        "PatternOverrideEnum": ["pinned", "suspended"],
        "PatternScopeEnum": ["shared", "agent"],
        "ConsolidationRunStatusEnum": ["running", "succeeded", "failed", "skipped", "interrupted"],
    },
}

# /metrics: the Prometheus scraper sends "Authorization: Bearer <METRICS_TOKEN>". Unset: admins only.
METRICS_TOKEN = env_optional("METRICS_TOKEN")
