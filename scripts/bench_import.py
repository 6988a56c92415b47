#!/usr/bin/env python3
"""A 30,000-row household sheet through the officers' console: preview and import, CSV and XLSX.

    .venv/bin/python scripts/bench_import.py [--rows 30000] [--formats csv,xlsx]
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench .venv/bin/python scripts/bench_import.py
    .venv/bin/python scripts/bench_import.py --gunicorn --rows 90000 --formats xlsx

Builds a region tree and a station admin on a fresh database (DATABASE_URL, default a scratch
SQLite file), signs in through the console's login form (Flask test client), generates a sheet
of ``--rows`` rows (three members per household) and sends it through ``/admin/import``.

For each format it prints how long the upload request took (what a browser waits for, against
gunicorn's ``timeout``) and how long until the preview was ready; then the same for the confirm
request and the finished import. When the console answers an upload with a job page (imports in
the background), the script polls the job's status endpoint once a second, as the page does,
and also prints each step's own time on the server (from the job's row, without the poll's
granularity) and the slowest poll. Afterwards it checks the coverage counters (``counters.verify``).

``--gunicorn`` sends the same requests over HTTP to gunicorn (2 sync workers, its default 30 s
``timeout``, as in ``deploy/gunicorn.conf.py``) on a scratch SQLite file, with
``MAX_CONTENT_LENGTH`` raised to 64 MB so that older code's console accepts the upload at all. A
request that outlives the timeout ends with the worker killed and the connection dropped.
"""

from __future__ import annotations

import argparse
import http.client
import io
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

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


class _Response:
    """Just enough of a Flask test response, for a response read over HTTP."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status_code, self.headers, self.body = status, headers, body

    def get_data(self, as_text: bool = False):
        return self.body.decode("utf-8", "replace") if as_text else self.body

    def get_json(self):
        import json

        return json.loads(self.body)


class HTTPClient:
    """The test client's ``get``/``post`` over HTTP to a gunicorn server, keeping the session
    cookie; a dropped connection (a worker killed at the timeout) is status 0."""

    def __init__(self, server, application) -> None:
        self.server, self.application, self.cookie = server, application, None

    def _send(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=300)
        headers = dict(headers or {})
        if self.cookie:
            headers["Cookie"] = self.cookie
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        except (http.client.HTTPException, OSError) as exc:
            return _Response(0, {}, repr(exc).encode())
        finally:
            connection.close()
        found = {}
        for key, value in response.getheaders():
            if key.lower() == "set-cookie" and value.startswith("session="):
                self.cookie = value.split(";", 1)[0]
            found[key.title()] = value
        return _Response(response.status, found, data)

    def get(self, path: str, headers: dict | None = None):
        return self._send("GET", path, headers=headers)

    def post(self, path: str, data: dict, content_type: str | None = None):
        if any(isinstance(v, tuple) for v in data.values()):
            from werkzeug.datastructures import FileStorage
            from werkzeug.test import encode_multipart

            fields = {k: FileStorage(v[0], v[1]) if isinstance(v, tuple) else v for k, v in data.items()}
            boundary, body = encode_multipart(fields)
            kind = f"multipart/form-data; boundary={boundary}"
        else:
            body, kind = urlencode(data).encode(), "application/x-www-form-urlencoded"
        return self._send("POST", path, body=body, headers={"Content-Type": kind})


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
    if response.status_code == 0:
        print(f"  upload request dropped after {times['upload request']:.2f} s: {response.get_data(as_text=True)}")
        return times
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
        times["confirm request"] = time.perf_counter() - start
        if response.status_code == 0:
            print(f"  confirm request dropped after {times['confirm request']:.2f} s: "
                  f"{response.get_data(as_text=True)}")
            return times
        if response.status_code != 200 or "导入完成" not in response.get_data(as_text=True):
            title = re.search(r"<title>(.*?)</title>", response.get_data(as_text=True))
            print(f"  confirm request answered {response.status_code} after {times['confirm request']:.2f} s: "
                  f"{title.group(1) if title else response.get_data(as_text=True)[:200]}")
            return times
        times["import done"] = times["confirm request"]
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=30_000)
    parser.add_argument("--formats", default="csv,xlsx")
    parser.add_argument("--gunicorn", action="store_true", help="Over HTTP to gunicorn (2 workers, 30 s timeout).")
    args = parser.parse_args()
    if args.gunicorn:
        from scripts.benchlib import Server

        with Server(workers=2, extra_env={"MAX_CONTENT_LENGTH": str(64 * 1024 * 1024)}) as server:
            BenchConfig.SQLALCHEMY_DATABASE_URI = server.database_url
            bench(args, lambda app: HTTPClient(server, app), fresh=False)
        return
    bench(args, lambda app: app.test_client(), fresh=True)


def bench(args, make_client, *, fresh: bool) -> None:
    """Regions and a station admin on the database, then each format through the console."""
    url = sa.engine.make_url(BenchConfig.SQLALCHEMY_DATABASE_URI)
    if fresh and url.get_backend_name() == "sqlite" and url.database:
        for suffix in ("", "-wal", "-shm"):
            Path(url.database + suffix).unlink(missing_ok=True)
    app = create_app(BenchConfig)
    with app.app_context():
        print(f"database: {db.engine.url.render_as_string(hide_password=True)}; {args.rows:,} rows per sheet"
              + ("; gunicorn, 2 workers, 30 s timeout" if not fresh else ""))
        if fresh:
            db.drop_all()
            db.create_all()
        for code, name, parent in TREE:
            region_service.create(None, code, name, parent, commit=False)
        db.session.commit()
        auth_service.create_user("bench", PASSWORD, "station_admin", "T")
        db.session.commit()
    client = make_client(app)
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
