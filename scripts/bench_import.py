#!/usr/bin/env python3
"""A 30,000-row household sheet through the officers' console: preview and import, CSV and XLSX.

    .venv/bin/python scripts/bench_import.py [--rows 30000] [--formats csv,xlsx]
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench .venv/bin/python scripts/bench_import.py

Builds a region tree and a station admin on a fresh database (DATABASE_URL, default a scratch
SQLite file), signs in through the console's login form (Flask test client), generates a sheet
of ``--rows`` rows (three members per household) and sends it through ``/admin/import``.

For each format it prints how long the upload request took (what a browser waits for, against
gunicorn's ``timeout``) and how long until the preview was ready; then the same for the confirm
request and the finished import. When the console answers an upload with a job page (imports in
the background), the script polls the job's status endpoint once a second, as the page does,
and also prints each step's own time on the server (from the job's row, without the poll's
granularity) and the slowest poll. Afterwards it checks the coverage counters (``counters.verify``).
"""

from __future__ import annotations

import argparse
import io
import os
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from openpyxl import Workbook  # noqa: E402

from config import Config, normalize_database_url  # noqa: E402
from quizbot import create_app  # noqa: E402
from quizbot.extensions import db  # noqa: E402
from quizbot.models import Household, utcnow  # noqa: E402
from quizbot.services import auth as auth_service  # noqa: E402
from quizbot.services import counters  # noqa: E402
from quizbot.services import regions as region_service  # noqa: E402

PASSWORD = "bench-password-9"
HEADER = ["户编号", "地址", "门牌号", "户主", "联系电话", "成员姓名", "性别", "年龄段", "标签"]
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
TREE = [("C", "测试县", None), ("T", "测试镇", "C"), ("V", "测试村", "T"),
        ("G-csv", "一组", "V"), ("G-xlsx", "二组", "V")]


class BenchConfig(Config):
    SECRET_KEY = "bench-secret-key"
    RATELIMIT_ENABLED = False
    SQLALCHEMY_DATABASE_URI = normalize_database_url(
        os.environ.get("DATABASE_URL") or f"sqlite:///{Path(tempfile.gettempdir()) / 'quizbot-bench-import.sqlite3'}")


def sheet_rows(prefix: str, rows: int) -> list[list[str]]:
    out = []
    for i in range(rows):
        house, member = divmod(i, 3)
        out.append([f"{prefix}{house:06d}", f"测试村{house // 200}组", str(house % 200 + 1), f"户主{house}",
                    f"139{house:08d}", f"成员{member}", "男" if member % 2 else "女", "36-59",
                    "老人" if member == 2 else ""])
    return out


def csv_bytes(rows: list[list[str]]) -> bytes:
    return ("\n".join(",".join(r) for r in [HEADER, *rows]) + "\n").encode()


def xlsx_bytes(rows: list[list[str]]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("住户")
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csrf(client, path: str = "/admin/import") -> str:
    return CSRF_RE.search(client.get(path).get_data(as_text=True)).group(1)


def wait_for(client, status_url: str, wanted: set[str]) -> tuple[dict, float]:
    """Poll the job's status endpoint until its state is one of ``wanted``; the slowest poll."""
    slowest = 0.0
    while True:
        start = time.perf_counter()
        response = client.get(status_url, headers={"Accept": "application/json"})
        slowest = max(slowest, time.perf_counter() - start)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        data = response.get_json()["data"]
        if data["state"] in wanted:
            return data, slowest
        time.sleep(1.0)  # as often as the page polls


def job_row(client, job_id: str):
    from quizbot.models import ImportJob

    with client.application.app_context():
        job = db.session.get(ImportJob, job_id)
        db.session.expunge(job)
        return job


def run(client, fmt: str, region: str, body: bytes) -> dict:
    """Upload, wait for the preview, confirm, wait for the import; the times in seconds."""
    times: dict[str, float] = {}
    start = time.perf_counter()
    response = client.post("/admin/import", data={"csrf_token": csrf(client), "region": region,
                                                  "file": (io.BytesIO(body), f"sheet.{fmt}")},
                           content_type="multipart/form-data")
    times["upload request"] = time.perf_counter() - start
    if response.status_code == 413:
        # The console used to keep the 1 MB body limit of ordinary requests for uploads too.
        print(f"  upload refused with 413 after {times['upload request']:.2f} s; "
              "re-sent with MAX_CONTENT_LENGTH raised to IMPORT_MAX_BYTES")
        client.application.config["MAX_CONTENT_LENGTH"] = client.application.config["IMPORT_MAX_BYTES"]
        return run(client, fmt, region, body)
    if response.status_code == 303:  # background job: poll as the page does
        job_url = response.headers["Location"]
        status_url = job_url.rstrip("/") + "/status"
        data, slowest = wait_for(client, status_url, {"checked", "invalid", "failed"})
        assert data["state"] == "checked", data
        times["preview ready"] = time.perf_counter() - start
        job = job_row(client, data["id"])  # the job's own time, without the 1 s poll granularity
        times["preview (job)"] = (job.heartbeat_at - job.created_at).total_seconds()
        start, confirmed_at = time.perf_counter(), utcnow()
        response = client.post(job_url.rstrip("/") + "/confirm", data={"csrf_token": csrf(client, job_url)})
        assert response.status_code == 303, response.status_code
        times["confirm request"] = time.perf_counter() - start
        data, slowest2 = wait_for(client, status_url, {"done", "invalid", "failed"})
        assert data["state"] == "done", data
        times["import done"] = time.perf_counter() - start
        times["import (job)"] = (job_row(client, data["id"]).finished_at - confirmed_at).total_seconds()
        times["slowest poll"] = max(slowest, slowest2)
    else:  # the request does everything
        assert response.status_code == 200 and "预检通过" in response.get_data(as_text=True), \
            response.get_data(as_text=True)[:500]
        times["preview ready"] = times["upload request"]
        start = time.perf_counter()
        response = client.post("/admin/import/confirm", data={"csrf_token": csrf(client)})
        assert response.status_code == 200 and "导入完成" in response.get_data(as_text=True)
        times["confirm request"] = time.perf_counter() - start
        times["import done"] = times["confirm request"]
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=30_000)
    parser.add_argument("--formats", default="csv,xlsx")
    args = parser.parse_args()
    url = sa.engine.make_url(BenchConfig.SQLALCHEMY_DATABASE_URI)
    if url.get_backend_name() == "sqlite" and url.database:
        for suffix in ("", "-wal", "-shm"):
            Path(url.database + suffix).unlink(missing_ok=True)
    app = create_app(BenchConfig)
    with app.app_context():
        print(f"database: {db.engine.url.render_as_string(hide_password=True)}; {args.rows:,} rows per sheet")
        db.drop_all()
        db.create_all()
        for code, name, parent in TREE:
            region_service.create(None, code, name, parent, commit=False)
        db.session.commit()
        auth_service.create_user("bench", PASSWORD, "station_admin", "T")
        db.session.commit()
    client = app.test_client()
    response = client.post("/admin/login", data={"csrf_token": csrf(client, "/admin/login"),
                                                  "username": "bench", "password": PASSWORD})
    assert response.status_code == 303, response.status_code
    try:
        for fmt in args.formats.split(","):
            rows = sheet_rows("X" if fmt == "xlsx" else "C", args.rows)
            start = time.perf_counter()
            body = xlsx_bytes(rows) if fmt == "xlsx" else csv_bytes(rows)
            print(f"\n{fmt.upper()}: {len(body) / 1e6:.1f} MB, written in {time.perf_counter() - start:.1f} s")
            for name, seconds in run(client, fmt, f"G-{fmt}", body).items():
                print(f"  {name:16} {seconds:7.2f} s")
        with app.app_context():
            count = db.session.execute(sa.select(sa.func.count(Household.id))).scalar_one()
            checked, differences = counters.verify(None)
            print(f"\n{count:,} households stored; counters: {checked} regions, {len(differences)} differences")
            assert not differences, differences
    finally:
        with app.app_context():
            db.session.remove()
            db.drop_all()


if __name__ == "__main__":
    main()
