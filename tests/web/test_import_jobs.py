"""The console's household import as a background job: progress from the database, one import
per confirm, all or nothing, stale jobs reported and retried, seen only inside the jurisdiction."""

from __future__ import annotations

import io
import os
import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from config import TestConfig, normalize_database_url
from quizbot import create_app
from quizbot.extensions import db
from quizbot.models import AuditLog, Household, ImportJob, Member, utcnow
from quizbot.services import counters, import_jobs
from quizbot.services.regions import get_by_code, scope_for
from tests.officers.conftest import build_tree, make_household, make_user
from tests.web.conftest import csrf_from, hold_preview_at, sign_in, token_of

HEADER = "户编号,地址,门牌号,户主,联系电话,成员姓名,性别,年龄段,标签\n"


def sheet(households: int, prefix: str = "B") -> bytes:
    lines = [f"{prefix}{i:05d},二组,{i + 1},户主{i},139{i:08d},成员{m},男,36-59,\n"
             for i in range(households) for m in range(3)]
    return (HEADER + "".join(lines)).encode()


def upload(client, data: bytes, region: str = "G2", name: str = "sheet.csv"):
    page = client.get("/admin/import").get_data(as_text=True)
    # Encoded here, in memory: the test client would spool a big body to a file it never closes.
    boundary, body = encode_multipart({"csrf_token": csrf_from(page), "region": region,
                                       "file": FileStorage(io.BytesIO(data), name)})
    return client.post("/admin/import", data=body, content_type=f"multipart/form-data; boundary={boundary}")


def status(client, job_url: str) -> dict:
    response = client.get(job_url + "/status")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_json()["data"]


def wait_until(client, job_url: str, states: set[str], timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data = status(client, job_url)
        if data["state"] in states:
            return data
        time.sleep(0.1)
    raise AssertionError(f"job still {data} after {timeout} s")


def imported(app) -> int:
    """Households the test sheets created (codes B…)."""
    with app.app_context():
        return db.session.execute(sa.select(sa.func.count(Household.id))
                                  .where(Household.code.like("B%"))).scalar_one()


def no_counter_differences(app) -> None:
    result = app.test_cli_runner().invoke(args=["coverage", "verify"])
    assert result.exit_code == 0 and "no differences" in result.output, result.output


# --- the background thread, on a database threads can share ------------------------------------

@pytest.fixture
def threaded_app(tmp_path):
    """Import jobs on a thread, on TEST_DATABASE_URL or a SQLite file (threads cannot share
    the in-memory one)."""
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'jobs.sqlite3'}"

    class ThreadConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = normalize_database_url(url)
        IMPORT_JOBS = "thread"

    app = create_app(ThreadConfig)
    app.config["THREAD_CONFIG"] = ThreadConfig
    with app.app_context():
        db.drop_all()
        db.create_all()
        build_tree()
        make_user("station", "station_admin", "T1")
        make_household("H1", "G1", members=2)
    yield app
    for thread in threading.enumerate():
        if thread.name.startswith("import-"):
            thread.join(timeout=30)
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def test_a_big_sheet_runs_in_the_background_and_any_instance_sees_its_progress(threaded_app, monkeypatch):
    """The upload answers at once; the job's progress is in the database, so a second app
    instance on the same database reports the same rows done; the import's counters are exact."""
    reached, release = hold_preview_at(monkeypatch, 1000)
    client = threaded_app.test_client()
    sign_in(client, "station")
    response = upload(client, sheet(1000))  # 3,000 rows
    assert response.status_code == 303
    job_url = response.headers["Location"]
    assert reached.wait(20), "the preview never started"
    running = status(client, job_url)
    assert running["state"] == "checking" and running["running"]
    assert running["rows_total"] == 3000 and 1000 <= running["rows_done"] < 3000
    assert f"已检查 {running['rows_done']:,} / 3,000 行" in running["text"]
    page = client.get(job_url).get_data(as_text=True)
    assert "<progress" in page and "data-status-url" in page and "什么都还没有写入" in page

    other_instance = create_app(threaded_app.config["THREAD_CONFIG"])
    other = other_instance.test_client()
    sign_in(other, "station")
    seen = status(other, job_url)
    assert (seen["state"], seen["rows_done"], seen["rows_total"]) == ("checking", running["rows_done"], 3000)
    with other_instance.app_context():
        db.engine.dispose()

    release.set()
    preview = wait_until(client, job_url, {"checked", "invalid", "failed"})
    assert preview["state"] == "checked", preview
    assert "新增 1,000 户" in client.get(job_url).get_data(as_text=True)
    confirmed = client.post(job_url + "/confirm", data={"csrf_token": token_of(client)})
    assert confirmed.status_code == 303
    done = wait_until(client, job_url, {"done", "invalid", "failed"})
    assert done["state"] == "done", done
    with threaded_app.app_context():
        assert db.session.execute(sa.select(sa.func.count(Household.id))).scalar_one() == 1001
        assert db.session.execute(sa.select(sa.func.count(Member.id))).scalar_one() == 3002
        job = db.session.execute(sa.select(ImportJob)).scalar_one()
        assert job.data is None  # the uploaded file (personal data) is not kept after the import
    no_counter_differences(threaded_app)


def test_a_job_busy_in_one_long_call_is_not_taken_for_a_dead_one(threaded_app, monkeypatch):
    """openpyxl reads a big XLSX in one call that reports no progress: the job's heartbeat
    thread keeps it alive past the stale limit, and the preview then finishes normally."""
    from quizbot.services import household_import

    read_rows = household_import.read_rows

    def slow_read_rows(filename, data):
        time.sleep(3)
        return read_rows(filename, data)

    monkeypatch.setattr(household_import, "read_rows", slow_read_rows)
    monkeypatch.setattr(import_jobs, "HEARTBEAT_SECONDS", 0.2)
    threaded_app.config["IMPORT_STALE_SECONDS"] = 1
    client = threaded_app.test_client()
    sign_in(client, "station")
    job_url = upload(client, sheet(3)).headers["Location"]
    time.sleep(2)  # past the stale limit, still inside the slow call
    busy = status(client, job_url)
    assert busy["state"] == "checking" and busy["text"] == "正在读取文件……"
    assert wait_until(client, job_url, {"checked", "failed"})["state"] == "checked"


# --- the same job in the request (inline), for the rules around it -----------------------------

def test_other_jurisdictions_cannot_see_a_job(accounts_app):
    with accounts_app.app_context():
        make_user("west_station", "station_admin", "T2")
    client = accounts_app.test_client()
    sign_in(client, "station")
    job_url = upload(client, sheet(2)).headers["Location"]
    for username, expected in (("county", 200), ("west_station", 404), ("grid", 403)):
        other = accounts_app.test_client()
        sign_in(other, username)
        assert other.get(job_url + "/status").status_code == expected, username
        assert other.get(job_url).status_code == expected, username
    west = accounts_app.test_client()
    sign_in(west, "west_station")
    assert west.post(job_url + "/confirm", data={"csrf_token": token_of(west)}).status_code == 404
    assert job_url.rsplit("/", 1)[1] not in west.get("/admin/import").get_data(as_text=True)
    assert job_url.rsplit("/", 1)[1] in client.get("/admin/import").get_data(as_text=True)


def _start_without_running(app, data: bytes, region: str = "G2") -> str:
    with app.app_context():
        user = db.session.execute(sa.text("SELECT id FROM user_account WHERE username = 'station'")).scalar_one()
        from quizbot.models import User

        return import_jobs.start(scope_for(db.session.get(User, user)), region, "sheet.csv", data)


def test_a_job_whose_worker_died_is_reported_failed_and_can_be_retried(accounts_app):
    job_id = _start_without_running(accounts_app, sheet(3))
    client = accounts_app.test_client()
    sign_in(client, "station")
    job_url = f"/admin/import/jobs/{job_id}"
    fresh = status(client, job_url)
    assert fresh["state"] == "checking" and fresh["running"]  # heartbeat is recent: still running
    with accounts_app.app_context():
        job = db.session.get(ImportJob, job_id)
        job.heartbeat_at = utcnow() - timedelta(seconds=accounts_app.config["IMPORT_STALE_SECONDS"] + 5)
        db.session.commit()
    stale = status(client, job_url)
    assert stale["state"] == "failed" and not stale["running"] and "重试" in stale["message"]
    page = client.get(job_url).get_data(as_text=True)
    assert "没有写入任何数据" in page and ">重试</button>" in page
    retried = client.post(job_url + "/retry", data={"csrf_token": token_of(client)})
    assert retried.status_code == 303
    assert status(client, job_url)["state"] == "checked"


def test_a_failure_while_writing_leaves_nothing_half_written(accounts_app, monkeypatch):
    client = accounts_app.test_client()
    sign_in(client, "station")
    job_url = upload(client, sheet(20)).headers["Location"]
    assert status(client, job_url)["state"] == "checked"

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    from quizbot.services import household_import

    monkeypatch.setattr(household_import, "_count", broken)  # after every insert, before commit
    client.post(job_url + "/confirm", data={"csrf_token": token_of(client)})
    failed = status(client, job_url)
    assert failed["state"] == "failed" and "没有写入任何数据" in failed["message"]
    assert imported(accounts_app) == 0
    with accounts_app.app_context():
        assert not db.session.execute(sa.select(AuditLog).filter_by(action="household_import")).first()
    no_counter_differences(accounts_app)
    monkeypatch.undo()
    client.post(job_url + "/retry", data={"csrf_token": token_of(client)})
    assert status(client, job_url)["state"] == "done"
    assert imported(accounts_app) == 20
    no_counter_differences(accounts_app)


def test_an_import_found_stale_while_it_ran_does_not_commit(accounts_app, monkeypatch):
    """A poll marked the job failed while its (slow, not dead) worker was still writing: the
    worker's commit must not then write the sheet behind the failed job's back."""
    client = accounts_app.test_client()
    sign_in(client, "station")
    job_url = upload(client, sheet(5)).headers["Location"]
    job_id = job_url.rsplit("/", 1)[1]
    stage = import_jobs._Reporter.stage

    def stage_then_marked_stale(self, name, total=0):
        stage(self, name, total)
        if name == "write":
            with db.engine.begin() as connection:
                connection.execute(sa.update(ImportJob).where(ImportJob.id == job_id)
                                   .values(state="failed", message=import_jobs.STALE_MESSAGE))

    monkeypatch.setattr(import_jobs._Reporter, "stage", stage_then_marked_stale)
    client.post(job_url + "/confirm", data={"csrf_token": token_of(client)})
    assert status(client, job_url)["state"] == "failed"
    assert imported(accounts_app) == 0
    no_counter_differences(accounts_app)


def test_upload_mistakes_answer_on_the_form(accounts_app):
    client = accounts_app.test_client()
    sign_in(client, "station")
    wrong_type = upload(client, b"%PDF-1.4", name="sheet.pdf")
    assert wrong_type.status_code == 422 and "只支持 CSV 或 XLSX" in wrong_type.get_data(as_text=True)
    no_columns = upload(client, b"foo,bar\n1,2\n")
    html = client.get(no_columns.headers["Location"]).get_data(as_text=True)
    assert "缺少必需的列" in html and "重新上传" in html
    outside = upload(client, sheet(1), region="V9")
    assert outside.status_code == 404
    with accounts_app.app_context():
        assert get_by_code("V9") is not None


def test_a_sheet_over_the_ordinary_body_limit_is_accepted(accounts_app):
    """Ordinary requests stop at MAX_CONTENT_LENGTH (1 MB); a household sheet may be bigger."""
    client = accounts_app.test_client()
    sign_in(client, "station")
    big = sheet(6000)  # 18,000 rows, about 1.2 MB
    assert len(big) > accounts_app.config["MAX_CONTENT_LENGTH"]
    response = upload(client, big)
    assert response.status_code == 303, response.status_code
    assert status(client, response.headers["Location"])["state"] == "checked"


def test_control_characters_in_an_uploaded_sheet_are_stripped(accounts_app):
    client = accounts_app.test_client()
    sign_in(client, "station")
    data = (HEADER + "C\x001,甲\x1c村二组,5,王\x07五,13900001111,王\x07五,男,36-59,\n"
            "C\x001,甲\x1c村二组,5,王\x07五,13900001111,李\x0b四,女,,\n").encode()
    job_url = upload(client, data, name="sh\x1ceet.csv").headers["Location"]
    assert status(client, job_url)["state"] == "checked"
    client.post(job_url + "/confirm", data={"csrf_token": token_of(client)})
    assert status(client, job_url)["state"] == "done"
    with accounts_app.app_context():
        household = db.session.execute(sa.select(Household).filter_by(code="C1")).scalar_one()
        assert (household.address, household.head_name) == ("甲村二组", "王五")
        names = set(db.session.execute(sa.select(Member.name).filter_by(household_id=household.id)).scalars())
        assert names == {"王五", "李四"}
        assert db.session.execute(sa.select(AuditLog.target).filter_by(action="household_import")).scalar_one() == "sheet.csv"
    export = client.get("/admin/exports/households.xlsx?region=G2")
    assert export.status_code == 200
    checked, differences = 0, []
    with accounts_app.app_context():
        checked, differences = counters.verify()
    assert checked and not differences
