"""The embedded local DynamoDB: dynalite (npm, pinned in package.json), run with Node.

`make run` runs it in the foreground under honcho with its data under var/; tests start
an in-memory one on a free port. Either way it listens on 127.0.0.1 only.
"""

import shutil
import socket
import subprocess
import time
from pathlib import Path

DYNALITE_CLI = Path(__file__).resolve().parents[2] / "node_modules" / "dynalite" / "cli.js"
# Runs DYNALITE_CLI, but survives a client hanging up mid-request (which ends dynalite itself).
DYNALITE_SERVER = Path(__file__).resolve().parent / "dynalite_server.js"


class LocalDynamoError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def is_listening(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex((host, port)) == 0


def dynalite_command(port: int, data_dir: Path | None) -> list[str]:
    node = shutil.which("node")
    if node is None:
        raise LocalDynamoError("Node.js (>= 20) is needed for the embedded DynamoDB; install it, then `make setup`")
    if not DYNALITE_CLI.exists():
        raise LocalDynamoError(f"dynalite is not installed at {DYNALITE_CLI}: run `make setup` (npm ci)")
    # In memory, every item lives on Node's heap: room for a long test session's worth.
    heap = [] if data_dir is not None else ["--max-old-space-size=8192"]
    # Tables appear instantly instead of after dynalite's default simulated 500 ms.
    command = [node, *heap, str(DYNALITE_SERVER), "--host", "127.0.0.1", "--port", str(port)]
    command += ["--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0"]
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
        command += ["--path", str(data_dir)]
    return command


def wait_listening(port: int, process: subprocess.Popen | None = None, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not is_listening(port):
        if process is not None and process.poll() is not None:
            raise LocalDynamoError(f"dynalite exited with code {process.returncode} before listening on {port}")
        if time.monotonic() > deadline:
            raise LocalDynamoError(f"nothing listening on 127.0.0.1:{port} after {timeout:.0f} s")
        time.sleep(0.05)


class LocalDynamo:
    """A dynalite child process; in memory unless `data_dir` is given."""

    def __init__(self, *, port: int | None = None, data_dir: Path | None = None, log: Path | None = None) -> None:
        self.port = port or free_port()
        self.data_dir = data_dir
        self.log = log  # where its stderr goes (a crash's reason), else the parent's stderr
        self.process: subprocess.Popen | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "LocalDynamo":
        stderr = self.log.open("ab") if self.log else None
        try:
            self.process = subprocess.Popen(
                dynalite_command(self.port, self.data_dir), stdout=subprocess.DEVNULL, stderr=stderr
            )
        finally:
            if stderr:
                stderr.close()  # the child has its own copy
        wait_listening(self.port, self.process)
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> "LocalDynamo":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
