"""Shared helpers for the HTTP benchmarks: a throw-away server and a closed-loop load driver."""

from __future__ import annotations

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """gunicorn on 127.0.0.1 with its own database, migrated and with the bank imported."""

    workers: int = 2
    extra_env: dict[str, str] = field(default_factory=dict)
    database_url: str | None = None
    port: int = 0
    proc: subprocess.Popen | None = None
    tmp: tempfile.TemporaryDirectory | None = None

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "SECRET_KEY": "bench-secret-key",
            "FLASK_APP": "quizbot:create_app",
            "RATELIMIT_ENABLED": "false",
            "LOG_LEVEL": "WARNING",
            "DATABASE_URL": self.database_url,
        })
        env.update(self.extra_env)
        return env

    def __enter__(self) -> Server:
        self.tmp = tempfile.TemporaryDirectory(prefix="quizbot-bench-")
        self.database_url = self.database_url or f"sqlite:///{self.tmp.name}/bench.sqlite3"
        env = self.env()
        flask = [str(VENV_BIN / "flask")]
        for args in (["db", "upgrade"], ["bank", "import"]):
            done = subprocess.run(flask + args, env=env, cwd=ROOT, capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError(f"flask {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        self.port = free_port()
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "--workers", str(self.workers), "--bind",
             f"127.0.0.1:{self.port}", "--log-level", "warning", "quizbot.wsgi:app"],
            env=env, cwd=ROOT,
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                status, _ = request(self.connect(), "GET", "/api/v1/health")
                if status == 200:
                    return self
            except OSError:
                time.sleep(0.2)
        self.__exit__(None, None, None)
        raise RuntimeError("gunicorn did not come up")

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the server's worker processes (Linux /proc).

        Throughput ratios swing with whatever else the machine runs; CPU per request does much
        less, so the benchmarks print both."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0.0
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        for pid in children.read_text().split() if children.exists() else []:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
        return total

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def __exit__(self, *exc) -> None:
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if self.tmp:
            self.tmp.cleanup()


def request(conn: http.client.HTTPConnection, method: str, path: str, body=None,
            headers: dict | None = None, raw: bytes | None = None) -> tuple[int, bytes]:
    """One request on a kept-alive connection."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    hdrs = dict(headers or {})
    if body is not None:
        hdrs["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=hdrs)
    response = conn.getresponse()
    return response.status, response.read()


@dataclass
class LoadResult:
    name: str
    seconds: float
    latencies: list[float]
    statuses: dict[int, int]
    extra: dict = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def rps(self) -> float:
        return self.count / self.seconds

    def pct(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000 if ordered else 0.0

    @property
    def non_2xx(self) -> int:
        return sum(n for status, n in self.statuses.items() if not 200 <= status < 300)

    def line(self) -> str:
        return (f"{self.name:10s} {self.count:7d} req  {self.rps:8.1f} req/s  p50 {self.pct(0.5):7.1f} ms  "
                f"p99 {self.pct(0.99):7.1f} ms  max {max(self.latencies, default=0) * 1000:7.1f} ms  "
                f"non-2xx {self.non_2xx}")


def drive(name: str, server: Server, clients: int, seconds: float,
          step: Callable[[http.client.HTTPConnection, Callable[[float, int], None]], None]) -> LoadResult:
    """Run ``step`` in a loop on ``clients`` threads for ``seconds``; each call records its requests."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    stop = time.perf_counter() + seconds
    extra: dict = {}

    def record(elapsed: float, status: int) -> None:
        with lock:
            latencies.append(elapsed)
            statuses[status] = statuses.get(status, 0) + 1

    def worker() -> None:
        conn = server.connect()
        while time.perf_counter() < stop:
            try:
                step(conn, record)
            except (OSError, http.client.HTTPException):
                record(0.0, 599)
                conn.close()
                conn = server.connect()
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    return LoadResult(name, elapsed, latencies, statuses, extra)


def timed(conn, record, method: str, path: str, body=None, headers=None, raw=None):
    """Send one request, record its latency and status, return (status, body)."""
    t0 = time.perf_counter()
    status, data = request(conn, method, path, body, headers, raw)
    record(time.perf_counter() - t0, status)
    return status, data


def median(values):
    return statistics.median(values) if values else 0.0
