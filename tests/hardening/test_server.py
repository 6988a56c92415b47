"""Against real gunicorn (two workers, deploy/gunicorn.conf.py, the default database limit
storage): a limit counts once across workers, and the access log holds no personal data."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time

import pytest

from scripts.benchlib import free_port
from tests.conftest import ROOT, mini_bank_content, write_bank

PHONE, NAME = "13905550123", "钱多多"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("server")
    bank = write_bank(tmp / "bank", *mini_bank_content())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "TEST_DATABASE", "RATELIMIT"))}
    env.update(FLASK_APP="quizbot:create_app", SECRET_KEY="server-test-secret", QUIZBOT_ENV="production",
               DATABASE_URL=f"sqlite:///{tmp / 'live.sqlite3'}", QUIZBOT_INSTANCE_DIR=str(tmp / "instance"),
               QUESTION_BANK_DIR=str(bank), LOGIN_RATE_LIMIT="5 per minute", LOG_LEVEL="INFO",
               WORKERS="2", HOST="127.0.0.1", PORT=str(free_port()))
    bin_dir = os.path.dirname(sys.executable)
    subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], env=env, cwd=ROOT, check=True,
                   capture_output=True, timeout=300)
    log = open(tmp / "gunicorn.log", "w+")
    proc = subprocess.Popen([os.path.join(bin_dir, "gunicorn"), "-c", "deploy/gunicorn.conf.py"],
                            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    port = int(env["PORT"])
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if _call(port, "GET", "/api/v1/health")[0] == 200:
                break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("gunicorn did not come up: " + (tmp / "gunicorn.log").read_text()[-2000:])
    yield port, tmp / "gunicorn.log"
    proc.terminate()
    proc.wait(20)
    log.close()


def _call(port: int, method: str, path: str, body=None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)  # a new connection each time
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_login_limit_counts_once_across_two_workers(server):
    port, _log = server
    statuses = [_call(port, "POST", "/api/v1/auth/login", {"username": f"u{i}", "password": "x" * 8})[0]
                for i in range(12)]
    assert statuses.count(429) == 7, statuses  # 5 per minute in all, not 5 per worker


def test_access_log_has_no_query_strings_or_invite_codes(server):
    port, log = server
    _call(port, "GET", f"/api/v1/households?q={PHONE}")
    _call(port, "GET", "/q/SeCrEtInViTe123")
    _call(port, "GET", f"/check?invite=SeCrEtInViTe123&q={PHONE}")
    _call(port, "POST", "/wechat?signature=x&timestamp=1&nonce=2&openid=oSeCrEtOpenId")
    time.sleep(0.5)
    text = log.read_text()
    assert "/api/v1/households" in text  # the access log is there
    for secret in (PHONE, NAME, "SeCrEtInViTe123", "oSeCrEtOpenId"):
        assert secret not in text, secret
