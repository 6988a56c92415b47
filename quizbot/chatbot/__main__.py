"""Command line for the scam-check engine.

    python -m quizbot.chatbot classify < cases.jsonl > verdicts.jsonl
    python -m quizbot.chatbot "有人自称京东客服要给我退款"

``classify`` reads JSON Lines ``{"id": …, "text": "…"}`` and writes one JSON line per input
line, in order: ``{"id", "risk", "risk_score", "scam_types": [{"id", "score", "evidence"}]}``.
A bad line gives ``{"id", "error"}`` and the run goes on. The format is fixed: other tools
read it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .engine import get_engine

DEFAULT_BANK = Path(__file__).resolve().parents[2] / "question_bank"


def _bank_dir(arg: str | None) -> str:
    return arg or os.environ.get("QUESTION_BANK_DIR") or str(DEFAULT_BANK)


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def _line_json(result: dict) -> str:
    """One output line; an id that UTF-8 cannot hold is written escaped rather than lost."""
    line = json.dumps(result, ensure_ascii=False)
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        line = json.dumps(result, ensure_ascii=True)
    return line


def classify_stream(engine, lines, out) -> int:
    """Classify each JSON line of ``lines`` into ``out``; returns the number of bad lines.

    Every line gets an answer: invalid JSON, nesting too deep to parse, a missing or non-string
    ``text``, a lone surrogate, or anything the engine trips on gives ``{"id", "error"}``.
    """
    bad = 0
    for line in lines:
        if not line.strip():
            continue
        record_id = None
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError("each line must be a JSON object")
            record_id = record.get("id")
            if not isinstance(record_id, str | int | float | bool | None):
                record_id = None
                raise ValueError("'id' must be a string or a number")
            text = record.get("text")
            if not isinstance(text, str):
                raise ValueError("'text' must be a string")
            if _has_surrogate(text):
                raise ValueError("'text' contains a lone surrogate")
            result = engine.analyze(text).classify_record(record_id)
        except RecursionError:
            bad += 1
            result = {"id": record_id, "error": "nested too deeply"}
        except Exception as exc:  # noqa: BLE001 - one bad line must not end the run
            bad += 1
            result = {"id": record_id, "error": str(exc) or type(exc).__name__}
        out.write(_line_json(result) + "\n")
    out.flush()
    return bad


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "classify":
        parser = argparse.ArgumentParser(prog="python -m quizbot.chatbot classify",
                                         description="Classify JSON Lines from stdin.")
        parser.add_argument("--bank", help="question_bank directory")
        args = parser.parse_args(argv[1:])
        engine = get_engine(_bank_dir(args.bank))
        # Read and write UTF-8 whatever the locale says.
        stdin = open(sys.stdin.fileno(), encoding="utf-8", errors="replace", closefd=False)
        stdout = open(sys.stdout.fileno(), "w", encoding="utf-8", closefd=False)
        classify_stream(engine, stdin, stdout)
        return 0
    parser = argparse.ArgumentParser(prog="python -m quizbot.chatbot",
                                     description="Ask whether a message is a scam.")
    parser.add_argument("text", nargs="+", help="the message, in the resident's words")
    parser.add_argument("--bank", help="question_bank directory")
    parser.add_argument("--json", action="store_true", help="print the whole verdict as JSON")
    args = parser.parse_args(argv)
    verdict = get_engine(_bank_dir(args.bank)).analyze(" ".join(args.text))
    stdout = open(sys.stdout.fileno(), "w", encoding="utf-8", closefd=False)
    if args.json:
        stdout.write(json.dumps(verdict.to_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        stdout.write(verdict.reply + "\n")
    stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
