"""Benchmark the officers' side at county scale.

Generates a county of 300,000 households, 900,000 members and 1,000,000 quiz attempts with
bulk inserts, then times the county coverage roll-up, a village revisit queue and a
300,000-row household import. Uses DATABASE_URL (default: a scratch SQLite file).

    .venv/bin/python scripts/bench_coverage.py
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench .venv/bin/python scripts/bench_coverage.py
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from config import Config, normalize_database_url  # noqa: E402
from quizbot import create_app  # noqa: E402
from quizbot.extensions import db  # noqa: E402
from quizbot.models import (  # noqa: E402
    Household,
    Member,
    QuizSession,
    Region,
    RegionScoreStat,
    RegionTypeStat,
    utcnow,
)
from quizbot.services import coverage, households  # noqa: E402
from quizbot.services.regions import Scope  # noqa: E402

HOUSEHOLDS, MEMBERS_PER, ATTEMPTS = 300_000, 3, 1_000_000
TOWNS, VILLAGES, GROUPS = 20, 15, 5  # 1,500 groups of 200 households
TYPES = [f"type{i:02d}" for i in range(24)]
FLOORS = {"rollup_ms": 250, "revisit_ms": 100, "import_s": 60}


class BenchConfig(Config):
    ENV_NAME = "development"
    SECRET_KEY = "bench"
    RATELIMIT_ENABLED = False
    SQLALCHEMY_DATABASE_URI = normalize_database_url(
        os.environ.get("DATABASE_URL") or f"sqlite:///{tempfile.gettempdir()}/quizbot-bench.sqlite3")


def chunks(rows, size=20_000):
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def generate() -> None:
    rng = random.Random(7)
    now = utcnow()
    regions = [{"id": 1, "code": "C", "name": "县", "level": 0, "parent_id": None, "path": "/C/", "created_at": now}]
    groups = []
    for t in range(TOWNS):
        tid = len(regions) + 1
        regions.append({"id": tid, "code": f"T{t}", "name": f"镇{t}", "level": 1, "parent_id": 1,
                        "path": f"/C/T{t}/", "created_at": now})
        for v in range(VILLAGES):
            vid = len(regions) + 1
            vpath = f"/C/T{t}/V{t}-{v}/"
            regions.append({"id": vid, "code": f"V{t}-{v}", "name": f"村{v}", "level": 2, "parent_id": tid,
                            "path": vpath, "created_at": now})
            for g in range(GROUPS):
                gid = len(regions) + 1
                regions.append({"id": gid, "code": f"G{t}-{v}-{g}", "name": f"组{g}", "level": 3,
                                "parent_id": vid, "path": f"{vpath}G{t}-{v}-{g}/", "created_at": now})
                groups.append(gid)
    db.session.execute(sa.insert(Region), regions)
    per_group = HOUSEHOLDS // len(groups)
    house_rows, member_rows = [], []
    hid = mid = 0
    attempts_of = [0] * (HOUSEHOLDS + 1)
    for _ in range(ATTEMPTS):
        attempts_of[rng.randint(1, HOUSEHOLDS) if rng.random() < 0.9 else 0] += 1
    for gid in groups:
        for n in range(per_group):
            hid += 1
            q = attempts_of[hid]
            visits = 1 if q or rng.random() < 0.3 else 0
            house_rows.append({
                "id": hid, "code": f"H{hid:07d}", "region_id": gid, "address": "某路", "house_number": str(n + 1),
                "head_name": "户主", "phone": "13800000000", "invite_code": f"inv{hid:010d}",
                "member_count": MEMBERS_PER, "members_quizzed": min(q, MEMBERS_PER), "quiz_count": q,
                "score_sum": q * 80, "visit_count": visits, "last_visit_at": now if visits else None,
                "last_visit_outcome": ("completed" if q else "not_home") if visits else None,
                "created_at": now, "updated_at": now})
            for m in range(MEMBERS_PER):
                mid += 1
                member_rows.append({"id": mid, "household_id": hid, "name": f"成员{m}", "tags": []})
    for part in chunks(house_rows):
        db.session.execute(sa.insert(Household), part)
    for part in chunks(member_rows):
        db.session.execute(sa.insert(Member), part)
    region_of = {h["id"]: h["region_id"] for h in house_rows}
    sessions, score_stats, type_stats = [], {}, {}
    sid = 0
    for h, q in enumerate(attempts_of):
        for _ in range(q):
            sid += 1
            rid = region_of.get(h) or rng.choice(groups)  # campaign attempts: a region only
            sessions.append({"id": f"s{sid:012d}", "created_at": now - timedelta(minutes=5), "expires_at": now,
                             "bank_version": "bench", "question_ids": [], "channel": "api",
                             "household_id": h or None, "region_id": rid, "credited": True,
                             "submitted_at": now, "score": 80, "total": 10, "correct_count": 8})
            stat = score_stats.setdefault(rid, [0, 0])
            stat[0] += 1
            stat[1] += 80
            for t in rng.sample(TYPES, 3):
                ts = type_stats.setdefault((rid, t), [0, 0])
                ts[0] += 3
                ts[1] += rng.randint(1, 3)
        if len(sessions) >= 20_000:
            db.session.execute(sa.insert(QuizSession), sessions)
            sessions = []
    if sessions:
        db.session.execute(sa.insert(QuizSession), sessions)
    db.session.execute(sa.insert(RegionScoreStat), [
        {"region_id": r, "attempts": a, "score_sum": s, "last_quiz_at": now} for r, (a, s) in score_stats.items()])
    db.session.execute(sa.insert(RegionTypeStat), [
        {"region_id": r, "scam_type_id": t, "answered": a, "correct": c} for (r, t), (a, c) in type_stats.items()])
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        for table in ("region", "household", "member"):  # explicit ids: move the sequences on
            db.session.execute(sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
    else:
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()


def best_of(fn, runs=5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
        db.session.rollback()
    return min(times)


def import_file(path: Path) -> None:
    with path.open("w", encoding="utf-8") as f:
        f.write("户编号,地址,门牌号,户主,联系电话,成员姓名,性别,年龄段,标签\n")
        for i in range(100_000):
            for m in range(3):
                f.write(f"N{i:07d},新村{i // 200}组,{i % 200 + 1},户主{i},13912345678,成员{m},男,36-59,老人\n")


def main() -> None:
    app = create_app(BenchConfig)
    with app.app_context():
        print(f"database: {db.engine.url.render_as_string(hide_password=True)}")
        db.drop_all()
        db.create_all()
        start = time.perf_counter()
        generate()
        print(f"generated {HOUSEHOLDS:,} households, {HOUSEHOLDS * MEMBERS_PER:,} members, "
              f"{ATTEMPTS:,} attempts in {time.perf_counter() - start:.1f} s")
        scope = Scope(0, "bench", "admin", None, None)
        data = coverage.rollup(scope, "C")
        assert data["households_total"] == HOUSEHOLDS
        assert data["households_total"] == sum(c["households_total"] for c in data["children"])
        rollup = best_of(lambda: coverage.rollup(scope, "C")) * 1000
        revisit = best_of(lambda: coverage.revisit_queue(scope, "V3-7", per_page=500)) * 1000
        path = Path(tempfile.gettempdir()) / "quizbot-bench-import.csv"
        import_file(path)
        db.session.execute(sa.insert(Region).values(code="NEW", name="新村", level=2, parent_id=2,
                                                    path="/C/T0/NEW/", created_at=utcnow()))
        db.session.commit()
        start = time.perf_counter()
        report = households.import_households(None, "NEW", path.name, path.read_bytes())
        imported = time.perf_counter() - start
        assert report.rows == 300_000 and report.households_created == 100_000
        print(f"county roll-up:   {rollup:8.1f} ms (floor {FLOORS['rollup_ms']} ms)")
        print(f"revisit queue:    {revisit:8.1f} ms (floor {FLOORS['revisit_ms']} ms)")
        print(f"300,000-row import: {imported:6.1f} s  (floor {FLOORS['import_s']} s)")
        db.session.remove()
        db.drop_all()


if __name__ == "__main__":
    main()
