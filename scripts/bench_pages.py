#!/usr/bin/env python3
"""Resident pages under load against the health check, measured in the same run.

    .venv/bin/python scripts/bench_pages.py [--seconds 15] [--clients 32]

Starts gunicorn (2 workers) on 127.0.0.1 with a fresh SQLite database (or DATABASE_URL) and
the real question bank, prepares 64 open and 64 submitted quiz attempts through the JSON API,
then drives GET /api/v1/health and, separately, the server-rendered quiz page and result page
(alternating) with 32 concurrent clients. Also weighs the quiz page with its CSS and script,
uncompressed, as a village 3G phone downloads it.
Floors (issue #9): pages req/s >= 0.4 x health req/s; quiz page + assets <= 150 KB; no non-2xx.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.benchlib import Server, drive, request, timed  # noqa: E402

PAGE_BUDGET_BYTES = 150 * 1024
ASSET_RE = re.compile(r'(?:href|src)="(/static/[^"]+)"')


def prepare(server: Server, count: int) -> tuple[list[str], list[str]]:
    """Open and submitted attempts of 10 questions each, made through the JSON API."""
    conn = server.connect()
    open_ids, done_ids = [], []
    for i in range(2 * count):
        status, body = request(conn, "POST", "/api/v1/quiz/sessions", {"count": 10})
        assert status == 201, body
        data = json.loads(body)["data"]
        if i % 2:
            answers = {q["id"]: [q["options"][0]["key"]] for q in data["questions"]}
            status, body = request(conn, "POST", f"/api/v1/quiz/sessions/{data['session_id']}/answers",
                                   {"answers": answers})
            assert status == 200, body
            done_ids.append(data["session_id"])
        else:
            open_ids.append(data["session_id"])
    conn.close()
    return open_ids, done_ids


def page_weight(server: Server, session_id: str) -> tuple[int, dict[str, int]]:
    """Bytes of the quiz page and of each asset it links, uncompressed."""
    conn = server.connect()
    status, html = request(conn, "GET", f"/quiz/s/{session_id}")
    assert status == 200, status
    sizes = {"quiz page HTML": len(html)}
    for path in sorted(set(ASSET_RE.findall(html.decode("utf-8")))):
        status, body = request(conn, "GET", path)
        assert status == 200, path
        sizes[path] = len(body)
    conn.close()
    return sum(sizes.values()), sizes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=32)
    args = parser.parse_args()

    with Server(database_url=os.environ.get("DATABASE_URL")) as server:
        open_ids, done_ids = prepare(server, 64)
        pages = itertools.cycle([f"/quiz/s/{sid}" for sid in open_ids] +
                                [f"/quiz/s/{sid}/result" for sid in done_ids])

        def health_step(conn, record):
            timed(conn, record, "GET", "/api/v1/health")

        def page_step(conn, record):
            timed(conn, record, "GET", next(pages))

        drive("warm-up", server, 4, 2, page_step)
        health = drive("health", server, args.clients, args.seconds, health_step)
        page = drive("pages", server, args.clients, args.seconds, page_step)
        total, sizes = page_weight(server, open_ids[0])

    ratio = page.rps / health.rps if health.rps else 0.0
    print(f"database: {'PostgreSQL' if 'postgresql' in server.database_url else 'SQLite'}; "
          f"{args.clients} clients, {args.seconds:.0f} s per phase, gunicorn 2 workers")
    print(health.line())
    print(page.line())
    print(f"ratio pages/health req/s: {ratio:.2f} (floor 0.40)")
    for name, size in sizes.items():
        print(f"  {name}: {size / 1024:.1f} KB")
    print(f"quiz page with assets: {total / 1024:.1f} KB uncompressed (budget {PAGE_BUDGET_BYTES // 1024} KB)")
    ok = ratio >= 0.4 and total <= PAGE_BUDGET_BYTES and page.non_2xx == 0 and health.non_2xx == 0
    print("floors met" if ok else "FLOORS MISSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
