"""Logging on stderr: JSON lines (one object per event, with request_id, agent_id and decision_id)
for machines, or plain lines for people (`make run`). Level from LOG_LEVEL.

With METRICS_EMF on, CloudWatch metric lines (memsite.emf) go to stdout as they are, one JSON
object per line, whatever LOG_LEVEL and LOG_FORMAT say."""

from django.core.exceptions import ImproperlyConfigured

from memsite.env import env_bool, env_choice, env_str

LOG_LEVEL = env_choice("LOG_LEVEL", ("DEBUG", "INFO", "WARNING", "ERROR"), "INFO")
LOG_FORMAT = env_choice("LOG_FORMAT", ("json", "plain"), "plain" if env_bool("DEBUG", False) else "json")

METRICS_EMF = env_bool("METRICS_EMF", False)
METRICS_EMF_NAMESPACE = env_str("METRICS_EMF_NAMESPACE", "memsite")
# CloudWatch takes namespaces of up to 255 characters and keeps AWS/ for its own services.
if len(METRICS_EMF_NAMESPACE) > 255 or METRICS_EMF_NAMESPACE.startswith("AWS/"):
    raise ImproperlyConfigured(
        f"environment variable METRICS_EMF_NAMESPACE={METRICS_EMF_NAMESPACE!r}: expected at most 255 characters, "
        "not starting with AWS/"
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "memsite.log_context.ContextFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": ["asctime", "levelname", "name", "message", "request_id", "agent_id", "decision_id"],
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            "timestamp": False,
        },
        "raw": {"format": "%(message)s"},
    },
    "handlers": {
        "stderr": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["context"]},
        # The interpreter's own stdout: a Celery worker later swaps sys.stdout for a logger.
        "emf": {"class": "logging.StreamHandler", "formatter": "raw", "stream": "ext://sys.__stdout__"},
    },
    "root": {"handlers": ["stderr"], "level": LOG_LEVEL},
    "loggers": {
        # Libraries that log every request at INFO would drown what the system itself says.
        **{name: {"level": "WARNING"} for name in ("botocore", "urllib3", "httpx", "httpcore")},
        "memsite.emf": {"handlers": ["emf"], "level": "INFO", "propagate": False},
    },
}
