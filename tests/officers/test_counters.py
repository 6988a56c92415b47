"""Per-region counters (issue 15): kept exact by every write, even with two workers racing;
the roll-up reads nothing but counters; `flask coverage verify` finds and repairs differences."""

from __future__ import annotations

import os
import random
import re
import threading

import pytest
import sqlalchemy as sa

from config import TestConfig
from quizbot.extensions import db
from quizbot.models import Household, IntegrityFlag, Member, RegionCounter
from quizbot.services import counters
from quizbot.services import coverage as coverage_service
from quizbot.services import regions as region_service
from quizbot.services.households import import_households
from tests.conftest import fresh_app
from tests.officers.conftest import make_household
from tests.officers.test_participation import quiz, visit

HEADER = "户编号,地址,门牌号,户主,联系电话,成员姓名,性别,年龄段,标签,区域编码\n"
PLACES = ["G1", "G2", "V2", "V3", "T1"]
NAMES = ["张一", "李二", "王三", "赵四"]


@pytest.fixture
def app(tmp_path):
    """The suite's app, but SQLite on a file: threads in memory would share one connection."""

    class FileConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = (TestConfig.SQLALCHEMY_DATABASE_URI if os.environ.get("TEST_DATABASE_URL")
                                   else f"sqlite:///{tmp_path / 'counters.sqlite3'}")

    yield from fresh_app(FileConfig)


def import_csv(rows: list[tuple[str, str, list[str]]]) -> None:
    """(household code, region code, member names) rows through the real import."""
    lines = [f"{code},{code}路,{i + 1},户主{code},13812341234,{name},男,36-59,,{region}\n"
             for i, (code, region, names) in enumerate(rows) for name in names]
    import_households(None, "C1", "mix.csv", (HEADER + "".join(lines)).encode())


def invite_of(app, code: str) -> tuple[str, list[int]]:
    with app.app_context():
        household = db.session.execute(sa.select(Household).where(Household.code == code)).scalar_one()
        members = list(db.session.execute(sa.select(Member.id).where(Member.household_id == household.id)).scalars())
        return household.invite_code, members


def pending_flags(app) -> list[int]:
    with app.app_context():
        return list(db.session.execute(
            sa.select(IntegrityFlag.id).where(IntegrityFlag.status == "pending").order_by(IntegrityFlag.id)).scalars())


def assert_exact(app) -> None:
    with app.app_context():
        checked, differences = counters.verify()
        assert checked > 0 and differences == []


def test_random_mix_of_writes_leaves_no_difference(oclient, officer_app, tokens):
    rng = random.Random(15)
    campaign = oclient.post("/api/v1/campaign-codes", headers=tokens["county"],
                            json={"region": "V2", "name": "群推送"}).get_json()["data"]["code"]
    known: list[str] = []
    with officer_app.app_context():
        import_csv([("H0", "G1", NAMES[:2])])
    known.append("H0")
    for _step in range(70):
        action = rng.choice(["import", "quiz", "quiz", "quiz", "visit", "visit", "review", "campaign"])
        if action == "import":
            # New households, re-imports with more members and households moving region.
            rows = [(f"H{rng.randrange(12)}", rng.choice(PLACES), rng.sample(NAMES, rng.randint(1, 3)))
                    for _ in range(rng.randint(1, 3))]
            rows = list({code: (code, region, names) for code, region, names in rows}.values())
            with officer_app.app_context():
                import_csv(rows)
            known += [code for code, _r, _n in rows if code not in known]
        elif action == "quiz":
            invite, members = invite_of(officer_app, rng.choice(known))
            participant = {"invite_code": invite}
            if members and rng.random() < 0.7:
                participant["member_id"] = rng.choice(members)
            quiz(oclient, officer_app, participant, age=rng.choice([0, 120, 120]))  # 0: held as too fast
        elif action == "visit":
            response, _body = visit(oclient, tokens["county"], household=rng.choice(known),
                                    outcome=rng.choice(["completed", "not_home", "refused", "assisted"]))
            assert response.status_code == 201, response.get_json()
        elif action == "review":
            flags = pending_flags(officer_app)
            if flags:
                response = oclient.post(f"/api/v1/integrity/flags/{rng.choice(flags)}", headers=tokens["county"],
                                        json={"decision": rng.choice(["accept", "reject"]), "note": "核实"})
                assert response.status_code == 200, response.get_json()
        else:
            quiz(oclient, officer_app, {"invite_code": campaign})
    assert_exact(officer_app)
    with officer_app.app_context():
        moved = db.session.execute(sa.select(sa.func.count()).select_from(Household)).scalar_one()
        assert moved >= 5  # the mix did register, re-import and move households
        assert db.session.execute(sa.select(sa.func.count()).select_from(IntegrityFlag)).scalar_one() > 0


def test_two_workers_racing_count_everything_once(oclient, officer_app, tokens):
    with officer_app.app_context():
        import_csv([("R1", "G1", NAMES), ("R2", "G2", NAMES[:2]), ("R3", "V3", NAMES[:1])])
    invites = {code: invite_of(officer_app, code) for code in ("R1", "R2", "R3")}
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        client = officer_app.test_client()
        try:
            start.wait()
            for _ in range(12):
                code = rng.choice(list(invites))
                invite, members = invites[code]
                if rng.random() < 0.6:
                    quiz(client, officer_app, {"invite_code": invite, "member_id": rng.choice(members)},
                         age=rng.choice([0, 120]))
                else:
                    response, _ = visit(client, tokens["county"], household=code,
                                        outcome=rng.choice(["completed", "not_home"]))
                    assert response.status_code == 201, response.get_json()
            # Both review the same held quizzes at once: each is counted at most once.
            for flag_id in pending_flags(officer_app):
                response = client.post(f"/api/v1/integrity/flags/{flag_id}", headers=tokens["county"],
                                       json={"decision": "accept"})
                assert response.status_code in (200, 409), response.get_json()
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert_exact(officer_app)
    with officer_app.app_context():
        c1 = db.session.execute(sa.select(RegionCounter).where(
            RegionCounter.region_id == region_service.get_by_code("C1").id)).scalar_one()
        assert c1.households_total == 3 and c1.members_total == 7 and c1.attempts > 0


def test_rollup_reads_counters_only(officer_app):
    with officer_app.app_context():
        make_household("H1", "G1", members=3)
        make_household("H2", "V1", members=1)  # on the village itself: the 直属 line
        scope = region_service.Scope(0, "t", "admin", None, None)
        statements: list[str] = []
        listener = lambda *args: statements.append(args[2].lower())  # noqa: E731
        sa.event.listen(db.engine, "before_cursor_execute", listener)
        try:
            data = coverage_service.rollup(scope, "V1")
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", listener)
    raw = re.compile(r"\b(from|join)\s+(household|member|quiz_session|quiz_answer|visit)\b")
    assert statements and not [s for s in statements if raw.search(s)]
    assert data["households_total"] == 2 and data["members_total"] == 4
    children = {c["region"]["code"]: c for c in data["children"]}
    assert children["G1"]["households_total"] == 1 and children["G2"]["households_total"] == 0
    assert children[None]["households_total"] == 1 and children[None]["members_total"] == 1
    assert sum(c["households_total"] for c in data["children"]) == data["households_total"]


def test_verify_reports_and_fixes_a_difference(officer_app, runner):
    with officer_app.app_context():
        make_household("H1", "G1", members=2)
        region = region_service.get_by_code("T1")
        db.session.execute(sa.update(RegionCounter).where(RegionCounter.region_id == region.id)
                           .values(households_total=RegionCounter.households_total + 5))
        db.session.commit()
    result = runner.invoke(args=["coverage", "verify"])
    assert result.exit_code == 1
    assert "T1 households_total: stored 6, recounted 1" in result.output
    result = runner.invoke(args=["coverage", "verify", "--region", "V1"])  # T1 is not in V1's subtree
    assert result.exit_code == 0 and "no differences" in result.output
    result = runner.invoke(args=["coverage", "verify", "--region", "T1", "--fix"])
    assert result.exit_code == 0 and "1 difference(s) repaired" in result.output
    assert runner.invoke(args=["coverage", "verify"]).exit_code == 0
    assert runner.invoke(args=["coverage", "verify", "--region", "NOPE"]).exit_code != 0


def test_region_move_carries_its_counters(oclient, officer_app, tokens):
    with officer_app.app_context():
        make_household("H1", "G1", members=2)
        make_household("H2", "V2", members=1)
    invite, members = invite_of(officer_app, "H1")
    quiz(oclient, officer_app, {"invite_code": invite, "member_id": members[0]})
    visit(oclient, tokens["county"], household="H1")
    moved = oclient.patch("/api/v1/regions/V1", json={"parent_code": "T2"}, headers=tokens["county"])
    assert moved.status_code == 200, moved.get_json()
    assert_exact(officer_app)
    data = oclient.get("/api/v1/coverage", query_string={"region": "C1"}, headers=tokens["county"]).get_json()["data"]
    by_code = {c["region"]["code"]: c for c in data["children"]}
    assert by_code["T1"]["households_total"] == 1 and by_code["T2"]["households_total"] == 1
    assert by_code["T2"]["households_quizzed"] == 1 and by_code["T2"]["quiz_attempts"] == 1
    assert by_code["T1"]["last_activity"] is None


def test_migration_fills_counters_for_existing_data(tmp_path):
    """Data written before 0006 (no counters) gets counters that `verify` finds exact."""
    import sqlite3
    import subprocess
    import sys

    db_file = tmp_path / "m.sqlite3"
    env = {"DATABASE_URL": f"sqlite:///{db_file}", "QUIZBOT_ENV": "development",
           "FLASK_APP": "quizbot:create_app", "PATH": "/usr/bin:/bin"}

    def flask(*args):
        done = subprocess.run([sys.executable, "-m", "flask", *args], env=env, capture_output=True, text=True)
        return done.returncode, done.stdout + done.stderr

    assert flask("db", "upgrade", "0005")[0] == 0
    t = "2026-11-20 08:00:00.000000"
    conn = sqlite3.connect(db_file)
    conn.executescript(f"""
        INSERT INTO region VALUES (1, 'C1', '县', 0, NULL, '/C1/', '{t}'), (2, 'V1', '村', 1, 1, '/C1/V1/', '{t}'),
                                  (3, 'G1', '组', 2, 2, '/C1/V1/G1/', '{t}'), (4, 'G2', '组', 2, 2, '/C1/V1/G2/', '{t}');
        INSERT INTO user_account (id, username, password_hash, role, region_id, active, failed_logins,
                                  must_change_password, created_at) VALUES (1, 'o', 'x', 'officer', 2, 1, 0, 0, '{t}');
        INSERT INTO household (id, code, region_id, address, house_number, head_name, invite_code, member_count,
                               members_quizzed, quiz_count, score_sum, last_quiz_at, visit_count, last_visit_at,
                               last_visit_outcome, created_at, updated_at) VALUES
            (1, 'H1', 3, '路', '1', '张', 'i1', 2, 1, 2, 160, '{t}', 1, '2026-11-21 09:00:00.000000', 'completed', '{t}', '{t}'),
            (2, 'H2', 2, '路', '2', '李', 'i2', 1, 0, 0, 0, NULL, 0, NULL, NULL, '{t}', '{t}');
        INSERT INTO member (id, household_id, name, tags, quizzed_at) VALUES
            (1, 1, '甲', '[]', '{t}'), (2, 1, '乙', '[]', NULL), (3, 2, '丙', '[]', NULL);
        INSERT INTO visit (id, client_id, household_id, officer_id, outcome, visited_at, content_hash, created_at)
            VALUES (1, 'v1', 1, 1, 'completed', '2026-11-21 09:00:00.000000', 'h', '{t}');
        INSERT INTO quiz_session (id, created_at, expires_at, bank_version, question_ids, channel, household_id,
                                  region_id, credited, submitted_at, score, correct_count, total) VALUES
            ('s1', '{t}', '{t}', 'v', '[]', 'api', 1, 3, 1, '{t}', 100, 2, 2),
            ('s2', '{t}', '{t}', 'v', '[]', 'api', 1, 3, 1, '2026-11-22 10:00:00.000000', 60, 1, 2),
            ('s3', '{t}', '{t}', 'v', '[]', 'api', NULL, 2, 1, '{t}', 50, 1, 2),
            ('s4', '{t}', '{t}', 'v', '[]', 'api', 1, 3, 0, '{t}', 0, 0, 2);
        INSERT INTO quiz_answer (session_id, question_id, scam_type_id, chosen, correct) VALUES
            ('s1', 'q1', 'a', '[]', 1), ('s1', 'q2', 'b', '[]', 1), ('s2', 'q1', 'a', '[]', 0),
            ('s2', 'q2', 'b', '[]', 1), ('s3', 'q1', 'a', '[]', 1), ('s3', 'q2', 'b', '[]', 0),
            ('s4', 'q1', 'a', '[]', 0), ('s4', 'q2', 'b', '[]', 0);
    """)
    conn.commit()
    code, out = flask("db", "upgrade")
    assert code == 0, out
    code, out = flask("coverage", "verify")
    assert code == 0 and "4 regions checked: no differences" in out, out
    rows = dict((r[0], r[1:]) for r in conn.execute(
        "SELECT region_id, households_total, households_visited, households_quizzed, members_total, "
        "members_quizzed, attempts, score_sum, last_quiz_at FROM region_counter"))
    assert rows[1] == (2, 1, 1, 3, 1, 3, 210, "2026-11-22 10:00:00.000000")
    assert rows[3][:7] == (1, 1, 1, 2, 1, 2, 160) and rows.get(4, (0,) * 8)[:7] == (0,) * 7
    assert dict(((r, t), (a, c)) for r, t, a, c in conn.execute(
        "SELECT region_id, scam_type_id, answered, correct FROM region_type_counter WHERE region_id = 1")) == {
        (1, "a"): (3, 2), (1, "b"): (3, 2)}
    conn.close()
    assert flask("db", "downgrade", "0005")[0] == 0
    conn = sqlite3.connect(db_file)
    assert conn.execute("SELECT region_id, attempts, score_sum FROM region_score_stat ORDER BY region_id").fetchall() == [
        (2, 1, 50), (3, 2, 160)]
    conn.close()
    assert flask("db", "upgrade")[0] == 0
