"""`python -m quizbot.chatbot classify` answers every line, whatever the line holds."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT


def test_every_bad_line_gets_an_error_and_the_run_goes_on():
    deep = "[" * 100_000 + "]" * 100_000
    lines = [
        '{"id": "s", "text": "\\ud800 有人让我转账"}',     # lone surrogate in the text
        '{"id": "\\udfff", "text": "周末吃饭"}',            # lone surrogate in the id
        deep,                                               # nesting too deep to parse
        '{"id": "n", "x": 1}',                              # no text
        '{"id": {"a": 1}, "text": "hi"}',                   # an id that is not a scalar
        "{broken",
        json.dumps({"id": "ok", "text": "兼职刷单，先垫付再返佣金"}, ensure_ascii=False),
    ]
    proc = subprocess.run([sys.executable, "-m", "quizbot.chatbot", "classify"],
                          input=("\n".join(lines) + "\n").encode(), capture_output=True,
                          cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    rows = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert len(rows) == len(lines)
    assert ["error" in row for row in rows] == [True, False, True, True, True, True, False]
    assert rows[1]["id"] == "\udfff"  # answered, its id written escaped
    assert rows[0]["id"] == "s" and rows[3]["id"] == "n"
    assert rows[-1]["id"] == "ok" and rows[-1]["risk"] in ("high", "medium")
