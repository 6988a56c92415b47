"""The fixed batch command line and the one-message command line."""

from __future__ import annotations

import io
import json
import subprocess
import sys

from quizbot.chatbot.__main__ import classify_stream
from tests.conftest import ROOT


def test_classify_stream_keeps_order_and_reports_bad_lines(engine):
    lines = [
        json.dumps({"id": 1, "text": "有人冒充公安让我转账到安全账户"}, ensure_ascii=False),
        "this is not json",
        json.dumps({"id": "x", "text": 42}),
        json.dumps([1, 2]),
        "",
        json.dumps({"id": "last", "text": "周末一起吃饭吧"}, ensure_ascii=False),
    ]
    out = io.StringIO()
    bad = classify_stream(engine, lines, out)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert bad == 3
    assert [r["id"] for r in rows] == [1, None, "x", None, "last"]
    assert rows[0]["risk"] == "high" and rows[0]["scam_types"][0]["id"] == "fake_authority"
    assert set(rows[0]) == {"id", "risk", "risk_score", "scam_types"}
    assert "error" in rows[1] and "error" in rows[2] and "error" in rows[3]
    assert rows[4]["risk"] == "low" and rows[4]["scam_types"] == []


def test_classify_command_end_to_end():
    stdin = "\n".join([
        json.dumps({"id": "a", "text": "兼职刷单，先垫付再返佣金"}, ensure_ascii=False),
        "{broken",
    ]) + "\n"
    proc = subprocess.run([sys.executable, "-m", "quizbot.chatbot", "classify"], input=stdin.encode(),
                          capture_output=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    rows = [json.loads(line) for line in proc.stdout.decode("utf-8").splitlines()]
    assert rows[0]["id"] == "a" and rows[0]["scam_types"][0]["id"] == "shuadan_rebate"
    assert rows[1] == {"id": None, "error": rows[1]["error"]}


def test_single_message_prints_a_reply():
    proc = subprocess.run([sys.executable, "-m", "quizbot.chatbot", "有人让我下载会议软件共享屏幕"],
                          capture_output=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0
    assert "96110" in proc.stdout.decode("utf-8")
