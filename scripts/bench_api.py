#!/usr/bin/env python3
"""Quiz API throughput against the health check, measured in the same run.

    .venv/bin/python scripts/bench_api.py [--seconds 20] [--clients 32]

Starts gunicorn (2 workers) on 127.0.0.1 with a fresh SQLite database (or DATABASE_URL),
drives GET /api/v1/health, then POST /quiz/sessions + POST …/answers, with 32 concurrent
clients for a fixed time each. Prints both throughputs, their ratio, p50/p99 latency, the
count of non-2xx, and checks that stored attempts equal acknowledged submissions.
Floors (issue #2): ratio >= 0.4, p99 <= 100 ms, zero non-2xx, attempts == acknowledged.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.benchlib import Server, drive, timed  # noqa: E402


def count_submitted(database_url: str) -> int:
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM quiz_session WHERE submitted_at IS NOT NULL")).scalar()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=32)
    args = parser.parse_args()

    acknowledged = [0]

    def health_step(conn, record):
        timed(conn, record, "GET", "/api/v1/health")

    def quiz_step(conn, record):
        status, body = timed(conn, record, "POST", "/api/v1/quiz/sessions", {"count": 10})
        if status != 201:
            return
        data = json.loads(body)["data"]
        answers = {q["id"]: [q["options"][0]["key"]] for q in data["questions"]}
        status, _ = timed(conn, record, "POST", f"/api/v1/quiz/sessions/{data['session_id']}/answers",
                          {"answers": answers})
        if status == 200:
            acknowledged[0] += 1

    with Server(database_url=os.environ.get("DATABASE_URL")) as server:
        drive("warm-up", server, 4, 2, quiz_step)
        acknowledged[0] = 0
        before = count_submitted(server.database_url)
        cpu0 = server.cpu_seconds()
        health = drive("health", server, args.clients, args.seconds, health_step)
        cpu1 = server.cpu_seconds()
        quiz = drive("quiz", server, args.clients, args.seconds, quiz_step)
        cpu2 = server.cpu_seconds()
        stored = count_submitted(server.database_url) - before

    ratio = quiz.rps / health.rps if health.rps else 0.0
    print(f"database: {'PostgreSQL' if 'postgresql' in server.database_url else 'SQLite'}; "
          f"{args.clients} clients, {args.seconds:.0f} s per phase, gunicorn 2 workers")
    print(health.line())
    print(quiz.line())
    print(f"ratio quiz/health req/s: {ratio:.2f} (floor 0.40)")
    if health.count and quiz.count:
        health_cpu, quiz_cpu = (cpu1 - cpu0) / health.count * 1000, (cpu2 - cpu1) / quiz.count * 1000
        print(f"server CPU per request: health {health_cpu:.2f} ms, quiz {quiz_cpu:.2f} ms; "
              f"ratio health/quiz CPU {health_cpu / quiz_cpu:.2f} (what the req/s ratio would be "
              f"if the workers had the cores to themselves)")
    print(f"acknowledged submissions {acknowledged[0]}, stored attempts {stored}: "
          f"{'equal' if stored == acknowledged[0] else 'MISMATCH'}")
    ok = (ratio >= 0.4 and quiz.pct(0.99) <= 100 and quiz.non_2xx == 0 and health.non_2xx == 0
          and stored == acknowledged[0])
    print("floors met" if ok else "FLOORS MISSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
