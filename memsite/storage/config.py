"""Where the storage layer connects, built once from Django settings (or by tests, directly)."""

from dataclasses import dataclass
from typing import Literal

Backend = Literal["embedded", "endpoint", "aws"]
Role = Literal["request", "worker", "probe"]


@dataclass(frozen=True)
class StorageConfig:
    backend: Backend
    endpoint_url: str | None
    region: str
    table_prefix: str
    cursor_secret: str
    connect_timeout: float = 2.0
    read_timeout: float = 5.0
    max_attempts: int = 3

    @property
    def uses_local_credentials(self) -> bool:
        """The embedded dynalite accepts any credentials; don't make developers configure AWS ones."""
        return self.backend == "embedded"

    @property
    def description(self) -> str:
        if self.backend == "aws":
            return f"AWS DynamoDB ({self.region})"
        label = "embedded dynalite" if self.backend == "embedded" else "DynamoDB endpoint"
        return f"{label} at {self.endpoint_url}"

    @classmethod
    def from_settings(cls, *, role: Role = "request") -> "StorageConfig":
        from django.conf import settings

        backend: Backend = settings.DYNAMODB_BACKEND
        endpoint_url = settings.DYNAMODB_ENDPOINT_URL
        if backend == "embedded":
            endpoint_url = f"http://127.0.0.1:{settings.EMBEDDED_DYNAMODB_PORT}"
        elif backend == "aws":
            endpoint_url = None
        attempts = settings.DYNAMODB_MAX_ATTEMPTS_WORKER if role == "worker" else settings.DYNAMODB_MAX_ATTEMPTS_REQUEST
        # A health probe must answer within a probe's timeout even when DynamoDB hangs: one try,
        # one second. A request must answer (503) before its client stops waiting.
        timeouts = {
            "probe": (1.0, 1.0),
            "request": (
                settings.DYNAMODB_REQUEST_CONNECT_TIMEOUT_SECONDS,
                settings.DYNAMODB_REQUEST_READ_TIMEOUT_SECONDS,
            ),
            "worker": (settings.DYNAMODB_CONNECT_TIMEOUT_SECONDS, settings.DYNAMODB_READ_TIMEOUT_SECONDS),
        }[role]
        return cls(
            backend=backend,
            endpoint_url=endpoint_url,
            region=settings.AWS_REGION,
            table_prefix=settings.DYNAMODB_TABLE_PREFIX,
            cursor_secret=settings.SECRET_KEY,
            connect_timeout=timeouts[0],
            read_timeout=timeouts[1],
            max_attempts=1 if role == "probe" else attempts,
        )
