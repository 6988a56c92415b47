"""Benchmark the officers' side at county or city scale.

Generates N households (3 members each) and 10/3 × N credited quiz attempts in towns of
15 villages × 5 groups × 200 households (N = 300,000: 20 towns; 3,000,000: 200 towns) with
set-based INSERT … SELECT statements, fills the per-region counters with the same code as the
migration, then times the top region's roll-up, a village revisit queue, the officers' console
dashboard of the top region (through the Flask test client, signed in as an admin) and a
300,000-row household import. Uses DATABASE_URL (default: a scratch SQLite file).

    .venv/bin/python scripts/bench_coverage.py --households 300000
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python scripts/bench_coverage.py --households 3000000
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import sys
import tempfile
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from config import Config, normalize_database_url  # noqa: E402
from quizbot import create_app  # noqa: E402
from quizbot.extensions import db  # noqa: E402
from quizbot.models import QuizSession, Region, RegionTypeCounter, utcnow  # noqa: E402
from quizbot.services import auth as auth_service  # noqa: E402
from quizbot.services import counters, coverage, credit, households  # noqa: E402
from quizbot.services.regions import Scope  # noqa: E402

PER_GROUP, GROUPS, VILLAGES = 200, 5, 15  # households per group, groups per village, villages per town
TYPES = [f"type{i:02d}" for i in range(24)]
FLOORS = {"rollup_ms": 250, "revisit_ms": 100, "dashboard_ms": 300, "households_page_ms": 200,
          "import_s": 60}
PASSWORD = "bench-password-1"


class BenchConfig(Config):
    ENV_NAME = "development"
    SECRET_KEY = "bench"
    RATELIMIT_ENABLED = False
    SQLALCHEMY_DATABASE_URI = normalize_database_url(
        os.environ.get("DATABASE_URL") or f"sqlite:///{tempfile.gettempdir()}/quizbot-bench.sqlite3")


def migration_fill():
    """The counters' fill from migration 0006, run on the generated rows."""
    path = ROOT / "migrations" / "versions" / "0006_region_counters.py"
    spec = importlib.util.spec_from_file_location("migration_0006", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.fill


def regions(towns: int) -> tuple[list[dict], int]:
    """The tree with computable ids: root 1, towns, villages, then groups from ``group_base``."""
    now = utcnow()
    rows = [{"id": 1, "code": "C", "name": "市", "level": 0, "parent_id": None, "path": "/C/", "created_at": now}]
    village_base = 2 + towns
    group_base = village_base + towns * VILLAGES
    for t in range(towns):
        rows.append({"id": 2 + t, "code": f"T{t}", "name": f"镇{t}", "level": 1, "parent_id": 1,
                     "path": f"/C/T{t}/", "created_at": now})
        for v in range(VILLAGES):
            vid = village_base + t * VILLAGES + v
            vpath = f"/C/T{t}/V{t}-{v}/"
            rows.append({"id": vid, "code": f"V{t}-{v}", "name": f"村{v}", "level": 2, "parent_id": 2 + t,
                         "path": vpath, "created_at": now})
            for g in range(GROUPS):
                gid = group_base + (t * VILLAGES + v) * GROUPS + g
                rows.append({"id": gid, "code": f"G{t}-{v}-{g}", "name": f"组{g}", "level": 3,
                             "parent_id": vid, "path": f"{vpath}G{t}-{v}-{g}/", "created_at": now})
    return rows, group_base


def generate(n: int) -> dict:
    """Regions, households, members and credited sessions; returns the counts made."""
    towns = -(-n // (PER_GROUP * GROUPS * VILLAGES))
    region_rows, group_base = regions(towns)
    groups = towns * VILLAGES * GROUPS
    pg = db.engine.dialect.name == "postgresql"
    if pg:  # bulk load: no per-row foreign-key triggers, no waiting for the WAL flush
        db.session.execute(sa.text("SET LOCAL session_replication_role = replica"))
        db.session.execute(sa.text("SET LOCAL synchronous_commit = off"))
    db.session.execute(sa.insert(Region), region_rows)
    now = utcnow().replace(tzinfo=None)
    params = {"n": n, "m": 3 * n, "c": n // 3, "per": PER_GROUP, "gbase": group_base, "groups": groups,
              "yes": True, "now": now, "ago": now - timedelta(minutes=5)}
    if not pg:  # pysqlite: the text form SQLAlchemy stores
        params.update(now=now.isoformat(sep=" "), ago=params["ago"].isoformat(sep=" "))

    def series(name: str, upper: str) -> tuple[str, str]:
        if pg:
            return "", f"generate_series(1, :{upper}) AS {name}(i)"
        return (f"WITH RECURSIVE {name}(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM {name} "
                f"WHERE i < :{upper}) ", name)

    empty = "CAST('[]' AS JSON)" if pg else "'[]'"
    quizzes = "((h.i * 37) % 7)"  # 0–6 attempts per household, 3 on average
    with_, src = series("h", "n")
    db.session.execute(sa.text(
        f"{with_}INSERT INTO household (id, code, region_id, address, house_number, head_name, phone, "
        "invite_code, member_count, members_quizzed, quiz_count, score_sum, last_quiz_at, visit_count, "
        "last_visit_at, last_visit_outcome, created_at, updated_at) "
        f"SELECT h.i, 'H' || h.i, :gbase + (h.i - 1) / :per, '某路', CAST((h.i - 1) % :per + 1 AS VARCHAR(8)), "
        f"'户主', '13800000000', 'inv' || h.i, 3, CASE WHEN {quizzes} > 3 THEN 3 ELSE {quizzes} END, "
        f"{quizzes}, {quizzes} * 80, CASE WHEN {quizzes} > 0 THEN :now END, "
        f"CASE WHEN {quizzes} > 0 OR h.i % 10 < 3 THEN 1 ELSE 0 END, "
        f"CASE WHEN {quizzes} > 0 OR h.i % 10 < 3 THEN :now END, "
        f"CASE WHEN {quizzes} > 0 THEN 'completed' WHEN h.i % 10 < 3 THEN 'not_home' END, :now, :now "
        f"FROM {src}"), params)
    with_, src = series("m", "m")
    db.session.execute(sa.text(
        f"{with_}INSERT INTO member (id, household_id, name, tags, quizzed_at) "
        f"SELECT m.i, (m.i - 1) / 3 + 1, '成员' || ((m.i - 1) % 3), {empty}, "
        "CASE WHEN (m.i - 1) % 3 < ((((m.i - 1) / 3 + 1) * 37) % 7) THEN :now END "
        f"FROM {src}"), params)
    columns = ("id, created_at, expires_at, bank_version, question_ids, channel, household_id, region_id, "
               "credited, submitted_at, score, correct_count, total")
    with_, src = series("h", "n")
    db.session.execute(sa.text(
        f"{with_}INSERT INTO quiz_session ({columns}) "
        f"SELECT 's' || h.i || '-' || k.j, :ago, :now, 'bench', {empty}, 'api', h.i, "
        ":gbase + (h.i - 1) / :per, :yes, :now, 80, 8, 10 "
        f"FROM {src} JOIN (SELECT 1 AS j UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 "
        f"UNION ALL SELECT 5 UNION ALL SELECT 6) k ON k.j <= {quizzes}"), params)
    with_, src = series("h", "c")  # campaign-code attempts: a region, no household
    db.session.execute(sa.text(
        f"{with_}INSERT INTO quiz_session ({columns}) "
        f"SELECT 'c' || h.i, :ago, :now, 'bench', {empty}, 'api', NULL, :gbase + h.i % :groups, "
        f":yes, :now, 80, 8, 10 FROM {src}"), params)
    db.session.commit()
    if pg:
        for table in ("region", "household", "member"):  # explicit ids: move the sequences on
            db.session.execute(sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
        db.session.commit()
    return {"regions": len(region_rows), "towns": towns, "households": n, "members": 3 * n,
            "attempts": db.session.execute(sa.text("SELECT count(*) FROM quiz_session")).scalar_one()}


def fill_counters(region_rows_by_id: dict[int, str]) -> None:
    """Counters as the migration fills them, plus per-type answers (no answer rows are generated:
    10 per attempt would be 100 M rows at city scale) drawn at random for each group."""
    with db.engine.begin() as conn:
        migration_fill()(conn)
    rng = random.Random(7)
    by_code = {path.strip("/").split("/")[-1]: rid for rid, path in region_rows_by_id.items()}
    tree: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
    for path in region_rows_by_id.values():
        if path.count("/") != 5:  # groups only: /C/T/V/G/
            continue
        chain = [by_code[c] for c in path.strip("/").split("/")]
        for type_id in TYPES:
            answered = rng.randint(200, 600)
            correct = rng.randint(answered // 3, answered)
            for anc in chain:
                tree[(anc, type_id)][0] += answered
                tree[(anc, type_id)][1] += correct
    rows = [{"region_id": r, "scam_type_id": t, "answered": a, "correct": c} for (r, t), (a, c) in sorted(tree.items())]
    for start in range(0, len(rows), 20_000):
        db.session.execute(sa.insert(RegionTypeCounter), rows[start:start + 20_000])
    db.session.commit()
    analyze()


def analyze() -> None:
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
    else:
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()


def database_size() -> str:
    if db.engine.dialect.name == "postgresql":
        size = db.session.execute(sa.text("SELECT pg_database_size(current_database())")).scalar_one()
    else:
        size = os.path.getsize(db.engine.url.database)
    return f"{size / 2**30:.2f} GiB"


def best_of(fn, runs=5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
        db.session.rollback()
    return min(times)


def credit_quizzes(n_households: int, count: int = 2000) -> float:
    """Mean time to credit one submitted 10-question quiz to a household (claim, household and
    member counters, region counters for the whole chain) and commit, one transaction each."""
    rng = random.Random(3)
    now = utcnow()
    ids = []
    for i in range(count):
        hid = rng.randint(1, n_households)
        results = [{"scam_type": rng.choice(TYPES), "correct": rng.random() < 0.7} for _ in range(10)]
        session = QuizSession(id=f"bench-credit-{i}", created_at=now, expires_at=now, bank_version="bench",
                              question_ids=[], household_id=hid, region_id=db.session.execute(sa.text(
                                  "SELECT region_id FROM household WHERE id = :h"), {"h": hid}).scalar_one(),
                              submitted_at=now, score=70, correct_count=7, total=10, result={"results": results})
        db.session.add(session)
        ids.append(session.id)
    db.session.commit()
    start = time.perf_counter()
    for session_id in ids:
        credit.credit_session(session_id)
        db.session.commit()
    return (time.perf_counter() - start) / count


def import_file(path: Path) -> None:
    with path.open("w", encoding="utf-8") as f:
        f.write("户编号,地址,门牌号,户主,联系电话,成员姓名,性别,年龄段,标签\n")
        for i in range(100_000):
            for m in range(3):
                f.write(f"N{i:07d},新村{i // 200}组,{i % 200 + 1},户主{i},13912345678,成员{m},男,36-59,老人\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=300_000)
    parser.add_argument("--no-import", action="store_true", help="Skip the 300,000-row import.")
    parser.add_argument("--keep", action="store_true", help="Keep the data (only time reads).")
    parser.add_argument("--reuse", action="store_true", help="Time reads on data kept by --keep.")
    args = parser.parse_args()
    url = sa.engine.make_url(BenchConfig.SQLALCHEMY_DATABASE_URI)
    if url.get_backend_name() == "sqlite" and url.database and not args.reuse:
        for suffix in ("", "-wal", "-shm"):  # a fresh file, so the size printed is this data's
            Path(url.database + suffix).unlink(missing_ok=True)
    app = create_app(BenchConfig)
    with app.app_context():
        print(f"database: {db.engine.url.render_as_string(hide_password=True)}")
        scope = Scope(0, "bench", "admin", None, None)
        if not args.reuse:
            db.drop_all()
            db.create_all()
            start = time.perf_counter()
            made = generate(args.households)
            generated = time.perf_counter() - start
            start = time.perf_counter()
            fill_counters(dict(db.session.execute(sa.select(Region.id, Region.path)).all()))
            filled = time.perf_counter() - start
            print(f"generated {made['households']:,} households, {made['members']:,} members, "
                  f"{made['attempts']:,} attempts, {made['regions']:,} regions ({made['towns']} towns) "
                  f"in {generated:.1f} s; counters filled in {filled:.1f} s; database {database_size()}")
            data = coverage.rollup(scope, "C")
            assert data["households_total"] == args.households
            assert data["households_total"] == sum(c["households_total"] for c in data["children"])
            assert data["quiz_attempts"] == made["attempts"]
            auth_service.create_user("bench", PASSWORD, "admin", None)
            db.session.commit()
        rollup = best_of(lambda: coverage.rollup(scope, "C")) * 1000
        revisit = best_of(lambda: coverage.revisit_queue(scope, "V1-7", per_page=500)) * 1000
        token = auth_service.login("bench", PASSWORD, 3600)[0]
        db.session.commit()
    client = app.test_client()
    with client.session_transaction() as session:
        session["officer_token"] = token
    assert client.get("/admin/regions/C").status_code == 200

    def dashboard():
        response = client.get("/admin/regions/C")
        assert response.status_code == 200

    def page(url: str):
        def get():
            response = client.get(url)
            assert response.status_code == 200, url
        return get

    with app.app_context():
        dash = best_of(dashboard) * 1000
        # Issue #11's console floors: a village dashboard, and the households page at any page.
        last = (args.households + 49) // 50
        console = {
            "village dashboard": best_of(page("/admin/regions/V1-7")) * 1000,
            "households p.1 (top)": best_of(page("/admin/households?region=C&page=1")) * 1000,
            "households middle (top)": best_of(page(f"/admin/households?region=C&page={last // 2}")) * 1000,
            "households last (top)": best_of(page(f"/admin/households?region=C&page={last}")) * 1000,
            "households p.1 (village)": best_of(page("/admin/households?region=V1-7")) * 1000,
        }
        print(f"top roll-up:      {rollup:8.1f} ms (floor {FLOORS['rollup_ms']} ms)")
        print(f"revisit queue:    {revisit:8.1f} ms (floor {FLOORS['revisit_ms']} ms)")
        print(f"console dashboard:{dash:8.1f} ms (floor {FLOORS['dashboard_ms']} ms, test client)")
        for name, ms in console.items():
            floor = FLOORS["dashboard_ms"] if "dashboard" in name else FLOORS["households_page_ms"]
            print(f"console {name}: {ms:8.1f} ms (floor {floor} ms, test client)")
        if args.keep or args.reuse:
            return
        per_credit = credit_quizzes(args.households) * 1000
        print(f"credit one quiz:  {per_credit:8.2f} ms (mean of 2,000, one transaction each)")
        if not args.no_import:
            path = Path(tempfile.gettempdir()) / "quizbot-bench-import.csv"
            import_file(path)
            db.session.execute(sa.insert(Region).values(code="NEW", name="新村", level=2, parent_id=2,
                                                        path="/C/T0/NEW/", created_at=utcnow()))
            db.session.commit()
            start = time.perf_counter()
            report = households.import_households(None, "NEW", path.name, path.read_bytes())
            imported = time.perf_counter() - start
            assert report.rows == 300_000 and report.households_created == 100_000
            data = coverage.rollup(scope, "C")
            assert data["households_total"] == args.households + 100_000
            print(f"300,000-row import: {imported:6.1f} s  (floor {FLOORS['import_s']} s)")
        region = db.session.execute(sa.select(Region).where(Region.code == "T1")).scalar_one()
        start = time.perf_counter()
        checked, differences = counters.verify(region)
        print(f"verify town T1:   {time.perf_counter() - start:8.1f} s ({checked} regions, "
              f"{len(differences)} differences: the generator writes no answer or visit rows)")
        db.session.remove()
        db.drop_all()


if __name__ == "__main__":
    main()
