"""Logging: one line per event on stderr, level from LOG_LEVEL."""

from memsite.env import env_choice

LOG_LEVEL = env_choice("LOG_LEVEL", ("DEBUG", "INFO", "WARNING", "ERROR"), "INFO")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["stderr"], "level": LOG_LEVEL},
    # Libraries that log every request at INFO would drown what the system itself says.
    "loggers": {name: {"level": "WARNING"} for name in ("botocore", "urllib3", "httpx", "httpcore")},
}
