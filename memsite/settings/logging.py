"""Logging on stderr: JSON lines (one object per event, with request_id, agent_id and decision_id)
for machines, or plain lines for people (`make run`). Level from LOG_LEVEL."""

from memsite.env import env_bool, env_choice

LOG_LEVEL = env_choice("LOG_LEVEL", ("DEBUG", "INFO", "WARNING", "ERROR"), "INFO")
LOG_FORMAT = env_choice("LOG_FORMAT", ("json", "plain"), "plain" if env_bool("DEBUG", False) else "json")

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
    },
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["context"]}},
    "root": {"handlers": ["stderr"], "level": LOG_LEVEL},
    # Libraries that log every request at INFO would drown what the system itself says.
    "loggers": {name: {"level": "WARNING"} for name in ("botocore", "urllib3", "httpx", "httpcore")},
}
