"""Load and failure test on this machine only: residents submit quizzes at bounded concurrency
against two gunicorn instances sharing one database, a worker is killed with SIGKILL every few
seconds, and some submissions race on both instances at once. At the end every acknowledged
submission must be stored exactly once, with the score it was acknowledged with.

    .venv/bin/python scripts/load_test.py                          # SQLite file, 30 s
    .venv/bin/python scripts/load_test.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/loadtest \
        --concurrency 64 --seconds 60 --kill-every 10

Traffic goes to 127.0.0.1 only (the servers are started here, on loopback ports); the run
stops by itself after ``--seconds``. Rate limits are off for the run (every resident would
share 127.0.0.1). Prints one JSON summary line.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import sys
import threading
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from scripts.benchlib import Server, request  # noqa: E402

MAX_SECONDS = 600
MAX_CONCURRENCY = 256


def workers_of(master_pid: int) -> list[int]:
    """The gunicorn workers (children) of a master, from /proc."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == master_pid:
            children.append(int(entry.name))
    return children


class Run:
    def __init__(self, servers: list[Server], seconds: float, race_every: int) -> None:
        self.servers = servers
        self.stop_at = time.monotonic() + seconds
        self.race_every = race_every
        self.lock = threading.Lock()
        self.acknowledged: dict[str, int] = {}   # session id -> score the client was told
        self.latencies: list[float] = []
        self.errors: dict[str, int] = {}
        self.kills = 0
        self.races = 0
        self.race_disagreements = 0

    def error(self, kind: str) -> None:
        with self.lock:
            self.errors[kind] = self.errors.get(kind, 0) + 1

    def call(self, server: Server, method: str, path: str, body=None) -> tuple[int, dict | None]:
        conn = server.connect()
        t0 = time.perf_counter()
        try:
            status, data = request(conn, method, path, body)
        except (OSError, http.client.HTTPException):
            self.error("connection")  # a killed worker drops its connections
            return 0, None
        finally:
            conn.close()
        with self.lock:
            self.latencies.append(time.perf_counter() - t0)
        try:
            return status, json.loads(data)
        except ValueError:
            return status, None

    def resident(self, number: int) -> None:
        rng = random.Random(number)
        count = 0
        while time.monotonic() < self.stop_at:
            count += 1
            server = self.servers[rng.randrange(len(self.servers))]
            status, body = self.call(server, "POST", "/api/v1/quiz/sessions",
                                     {"count": 5, "participant": {"client_id": f"load-{number}"}})
            if status != 201:
                self.error(f"create_{status}")
                continue
            session = body["data"]
            answers = {q["id"]: [rng.choice(q["options"])["key"]] for q in session["questions"]}
            path = f"/api/v1/quiz/sessions/{session['session_id']}/answers"
            if self.race_every and count % self.race_every == 0:
                self.race(path, answers, session["session_id"])
                continue
            status, result = self.call(server, "POST", path, {"answers": answers})
            if status == 200:
                with self.lock:
                    self.acknowledged[session["session_id"]] = result["data"]["score"]
            else:
                self.error(f"submit_{status}")

    def race(self, path: str, answers: dict, session_id: str) -> None:
        """The same submission on every instance at once: all acknowledged, one score."""
        results: list[tuple[int, dict | None]] = []
        barrier = threading.Barrier(len(self.servers))

        def send(server: Server) -> None:
            barrier.wait()
            results.append(self.call(server, "POST", path, {"answers": answers}))

        threads = [threading.Thread(target=send, args=(s,)) for s in self.servers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        scores = {r["data"]["score"] for status, r in results if status == 200}
        with self.lock:
            self.races += 1
            if len(scores) > 1:
                self.race_disagreements += 1
            if scores:
                self.acknowledged[session_id] = scores.pop()

    def killer(self, every: float) -> None:
        rng = random.Random(7)
        while time.monotonic() + every < self.stop_at:
            time.sleep(every)
            server = rng.choice(self.servers)
            pids = workers_of(server.proc.pid)
            if pids:
                try:
                    os.kill(rng.choice(pids), signal.SIGKILL)
                    self.kills += 1
                except ProcessLookupError:
                    pass


def verify(database_url: str, acknowledged: dict[str, int]) -> dict:
    """Every acknowledged submission stored once, with its score; no duplicate answers."""
    engine = sa.create_engine(database_url)
    missing, wrong_score = 0, 0
    with engine.connect() as conn:
        stored = dict(conn.execute(sa.text(
            "select id, score from quiz_session where submitted_at is not null")).all())
        duplicates = conn.execute(sa.text(
            "select count(*) from (select session_id, question_id from quiz_answer "
            "group by session_id, question_id having count(*) > 1) d")).scalar_one()
    engine.dispose()
    for session_id, score in acknowledged.items():
        if session_id not in stored:
            missing += 1
        elif stored[session_id] != score:
            wrong_score += 1
    return {"stored_submissions": len(stored), "acknowledged_missing": missing,
            "score_mismatch": wrong_score, "duplicate_answers": duplicates}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="shared database (default: a SQLite file)")
    parser.add_argument("--instances", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per instance")
    parser.add_argument("--concurrency", type=int, default=32, help="simultaneous residents")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--kill-every", type=float, default=10, help="SIGKILL a worker this often (0: never)")
    parser.add_argument("--race-every", type=int, default=10, help="every Nth quiz races on all instances")
    args = parser.parse_args()
    if not 0 < args.seconds <= MAX_SECONDS or not 0 < args.concurrency <= MAX_CONCURRENCY:
        parser.error(f"--seconds must be in (0, {MAX_SECONDS}], --concurrency in (0, {MAX_CONCURRENCY}]")

    servers: list[Server] = []
    try:
        first = Server(workers=args.workers, database_url=args.database_url).__enter__()
        servers.append(first)
        for _ in range(args.instances - 1):
            servers.append(Server(workers=args.workers, database_url=first.database_url).__enter__())
        run = Run(servers, args.seconds, args.race_every)
        threads = [threading.Thread(target=run.resident, args=(n,)) for n in range(args.concurrency)]
        if args.kill_every:
            threads.append(threading.Thread(target=run.killer, args=(args.kill_every,)))
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
        time.sleep(1)
        checks = verify(first.database_url, run.acknowledged)
    finally:
        for server in reversed(servers):
            server.__exit__(None, None, None)
    ordered = sorted(run.latencies)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 1) if ordered else 0.0

    summary = {
        "database": "postgresql" if (args.database_url or "").startswith("postgres") else "sqlite",
        "instances": args.instances, "workers_per_instance": args.workers,
        "concurrency": args.concurrency, "seconds": round(elapsed, 1),
        "requests": len(ordered), "requests_per_second": round(len(ordered) / elapsed, 1),
        "p50_ms": pct(0.5), "p95_ms": pct(0.95), "p99_ms": pct(0.99),
        "acknowledged_submissions": len(run.acknowledged), "workers_killed": run.kills,
        "races": run.races, "race_disagreements": run.race_disagreements,
        "errors": run.errors, **checks,
    }
    print(json.dumps(summary, ensure_ascii=False))
    ok = (checks["acknowledged_missing"] == 0 and checks["score_mismatch"] == 0
          and checks["duplicate_answers"] == 0 and run.race_disagreements == 0)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
