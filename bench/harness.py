"""The system under measurement, started the way it runs: an in-memory dynalite, the tables,
the built-in patterns, and gunicorn serving the app; plus what the bench needs to look inside
(the /metrics counters, the web workers' peak memory) and a second set of tables for the raw
boto3 baseline on the same endpoint.

dynalite reports no index units, so the measures of units go to a second gunicorn that counts
them (DYNAMODB_COUNT_INDEX_UNITS: two extra reads per write), started only for them: the timed
measures run on the first, which does not pay for those reads."""

import io
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import django
import httpx
from prometheus_client.parser import text_string_to_metric_families

from memsite.storage.local import LocalDynamo, free_port, wait_listening

ROOT = Path(__file__).resolve().parents[1]
PREFIX = "bench_"
RAW_PREFIX = "benchraw_"
METRICS_TOKEN = "bench-metrics-token"
PASSWORD = "bench-password-1"


@dataclass
class Web:
    """One gunicorn serving the app, with its own /metrics (its own multiprocess directory)."""

    process: subprocess.Popen
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    def start(cls, env: dict[str, str], prometheus: Path, *, workers: int) -> "Web":
        prometheus.mkdir()
        port = free_port()
        command = [sys.executable, "-m", "gunicorn", "memsite.wsgi", "--bind", f"127.0.0.1:{port}"]
        command += ["--workers", str(workers), "--timeout", "120", "--log-level", "warning"]
        process = subprocess.Popen(command, cwd=ROOT, env=env | {"PROMETHEUS_MULTIPROC_DIR": str(prometheus)})
        wait_listening(port, process, timeout=60)
        return cls(process, port)

    def counters(self) -> dict[str, float]:
        """The app's Prometheus counters summed by name and the label values that matter here."""
        response = httpx.get(f"{self.base_url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        response.raise_for_status()
        totals: dict[str, float] = defaultdict(float)
        for family in text_string_to_metric_families(response.text):
            for sample in family.samples:
                if sample.name == "memsite_storage_calls_total":
                    totals["storage_calls"] += sample.value
                    totals[f"storage_calls:{sample.labels['operation']}"] += sample.value
                elif sample.name == "memsite_storage_capacity_units_total":
                    totals[f"units:{sample.labels['kind']}"] += sample.value
        return totals

    def login(self) -> httpx.Client:
        """A browser-like session of the viewer `bench`."""
        session = httpx.Client(base_url=self.base_url, follow_redirects=True, timeout=60)
        page = session.get("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        if token is None:
            raise RuntimeError("the login page has no CSRF token")
        answer = session.post(
            "/accounts/login/",
            data={"username": "bench", "password": PASSWORD, "csrfmiddlewaretoken": token.group(1)},
            headers={"Referer": f"{self.base_url}/accounts/login/"},
        )
        if "/accounts/login/" in str(answer.url):
            raise RuntimeError("could not log in as bench")
        return session

    def peak_rss(self) -> int:
        """The largest peak resident set (VmHWM) among the gunicorn workers, in bytes."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        peaks = []
        for pid in children:
            status = Path(f"/proc/{pid}/status").read_text()
            peaks.append(int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) * 1024)
        return max(peaks)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


@dataclass
class Stack:
    web_workers: int = 2
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="memsite-bench-")))
    dynamo: LocalDynamo | None = None
    web: Web | None = None  # the timed measures' server
    counting_web: Web | None = None  # the units measures' server, counting index units
    env: dict[str, str] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return self.web.base_url

    def start(self, say) -> "Stack":
        self.dynamo = LocalDynamo().start()
        self.env = {
            "AWS_ENDPOINT_URL_DYNAMODB": self.dynamo.endpoint_url,
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_REGION": "us-east-1",
            "DYNAMODB_TABLE_PREFIX": PREFIX,
            "DATABASE_URL": f"sqlite:///{self.workdir / 'bench.sqlite3'}",
            "SECRET_KEY": "bench-secret-key-not-for-production",
            "DEBUG": "0",
            "HTTPS_ONLY": "0",  # plain HTTP on 127.0.0.1
            # The bench measures the system, not the per-token throttle (which would cap it).
            "API_THROTTLE_AGENT": "1000000/min",
            "API_THROTTLE_PERSON": "1000000/min",
            "CACHE_KEY_PREFIX": f"memsite-bench-{os.getpid()}",
            "ALLOWED_HOSTS": "127.0.0.1",
            "METRICS_TOKEN": METRICS_TOKEN,
            # One host, one clock, and dynalite updates an index with its table: each measured
            # consolidation counts what was logged just before it.
            "CONSOLIDATION_SETTLE_SECONDS": "0",
            "LOG_LEVEL": "WARNING",
            "DYNAMODB_COUNT_INDEX_UNITS": "0",  # the units measures turn it on where they run
            "DJANGO_SETTINGS_MODULE": "memsite.settings",
        }
        # The bench process itself uses Django too (the raw baseline's items, consolidation runs)
        # with the same settings; its metrics stay its own (no multiprocess directory).
        os.environ.update(self.env)
        say(f"dynalite at {self.dynamo.endpoint_url}; Django state in {self.workdir}")
        self.manage("migrate", "--verbosity", "0")
        self.manage("bootstrap", "--verbosity", "0")
        self.manage("user_create", "bench", "--role", "viewer", "--password", PASSWORD)
        django.setup()
        self.web = Web.start(dict(os.environ), self.workdir / "prometheus", workers=self.web_workers)
        say(f"gunicorn with {self.web_workers} workers at {self.base_url}")
        return self

    def start_counting_web(self, say) -> Web:
        """The server of the units measures: the same app, counting index units."""
        if self.counting_web is None:
            env = dict(os.environ) | {"DYNAMODB_COUNT_INDEX_UNITS": "1"}
            self.counting_web = Web.start(env, self.workdir / "prometheus-counting", workers=self.web_workers)
            say(f"gunicorn counting index units at {self.counting_web.base_url}")
        return self.counting_web

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=os.environ | self.env, capture_output=True, text=True
        )
        if done.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def agent_token(self, agent_id: str) -> str:
        """Registers the agent (the agent_create command, in this process) and returns its token."""
        from django.core.management import call_command

        out = io.StringIO()
        call_command("agent_create", agent_id, stdout=out)
        return out.getvalue().strip().splitlines()[-1].strip()

    def counters(self) -> dict[str, float]:
        return self.web.counters()

    def login(self) -> httpx.Client:
        return self.web.login()

    def web_worker_peak_rss(self) -> int:
        return self.web.peak_rss()

    def dynalite_cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.dynamo.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        for web in (self.counting_web, self.web):
            if web:
                web.stop()
        if self.dynamo:
            self.dynamo.stop()


def timed(function, *args, **kwargs) -> tuple[float, object]:
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - started, result
