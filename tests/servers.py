"""The local DynamoDB servers the tests talk to over HTTP: dynalite (the embedded
default) and moto server (the second implementation the storage contract runs against)."""

import subprocess
import sys

from memsite.storage import Gateway, StorageConfig
from memsite.storage.local import free_port, wait_listening

TEST_SECRET = "test-cursor-secret"


def gateway_for(endpoint_url: str, table_prefix: str, *, max_attempts: int = 3) -> Gateway:
    return Gateway(
        StorageConfig(
            backend="endpoint",
            endpoint_url=endpoint_url,
            region="us-east-1",
            table_prefix=table_prefix,
            cursor_secret=TEST_SECRET,
            max_attempts=max_attempts,
        )
    )


class MotoServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "MotoServer":
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_listening(self.port, self.process, timeout=60)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
