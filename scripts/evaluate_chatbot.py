#!/usr/bin/env python3
"""Measure the scam-check engine on labelled cases.

    python scripts/evaluate_chatbot.py tests/data/chat_cases.yaml
    python scripts/evaluate_chatbot.py scripts/data/holdout_cases.jsonl --show-errors 20

CASES is YAML (a list) or JSON Lines, each with ``text``, ``is_scam`` and ``scam_type``.
Prints recall overall and per type, the share of non-scam cases warned (risk != low),
top-1 type accuracy on scam cases, and the most confused type pairs.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


@dataclass
class Report:
    cases: int
    scam_cases: int
    recall: float
    per_type_recall: dict[str, tuple[int, int]]
    nonscam_cases: int
    nonscam_warned: float
    top1_accuracy: float
    confusions: list[tuple[tuple[str, str], int]]
    errors: list[dict]


def load_cases(path: str | Path) -> list[dict]:
    """Read YAML or JSON Lines cases."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if path.suffix in (".yaml", ".yml"):
        import yaml

        data = yaml.safe_load(text) or []
        return data["cases"] if isinstance(data, dict) and "cases" in data else data
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def evaluate(engine, cases: list[dict]) -> Report:
    """Run every case through ``engine.analyze`` and compute the figures."""
    per_type = defaultdict(lambda: [0, 0])
    caught = top1 = scam = nonscam = warned = 0
    confusions: Counter = Counter()
    errors = []
    for case in cases:
        verdict = engine.analyze(case["text"])
        flagged = verdict.risk != "low"
        predicted = verdict.scam_types[0].id if verdict.scam_types else None
        if case.get("is_scam"):
            scam += 1
            expected = case.get("scam_type")
            per_type[expected][1] += 1
            if flagged:
                caught += 1
                per_type[expected][0] += 1
            if predicted == expected:
                top1 += 1
            else:
                confusions[(expected, predicted or "-")] += 1
            if not flagged or predicted != expected:
                errors.append({"text": case["text"], "expected": expected, "got": predicted,
                               "risk": verdict.risk, "score": verdict.risk_score})
        else:
            nonscam += 1
            if flagged:
                warned += 1
                errors.append({"text": case["text"], "expected": None, "got": predicted,
                               "risk": verdict.risk, "score": verdict.risk_score})
    return Report(
        cases=len(cases), scam_cases=scam, recall=caught / scam if scam else 1.0,
        per_type_recall={t: (c, n) for t, (c, n) in sorted(per_type.items(), key=lambda kv: str(kv[0]))},
        nonscam_cases=nonscam, nonscam_warned=warned / nonscam if nonscam else 0.0,
        top1_accuracy=top1 / scam if scam else 1.0, confusions=confusions.most_common(10),
        errors=errors,
    )


def print_report(report: Report, show_errors: int = 0) -> None:
    print(f"cases: {report.cases} ({report.scam_cases} scam, {report.nonscam_cases} not scam)")
    print(f"recall (scam cases with risk != low): {report.recall:.1%}")
    print(f"non-scam cases warned (risk != low):   {report.nonscam_warned:.1%}")
    print(f"top-1 type accuracy on scam cases:     {report.top1_accuracy:.1%}")
    print("\nrecall per type:")
    for type_id, (caught, total) in report.per_type_recall.items():
        print(f"  {str(type_id):28s} {caught:4d}/{total:<4d} {caught / total if total else 0:6.1%}")
    print("\nmost confused (expected -> predicted):")
    for (expected, predicted), count in report.confusions:
        print(f"  {expected} -> {predicted}: {count}")
    for err in report.errors[:show_errors]:
        print(f"  ! {err['expected']} -> {err['got']} [{err['risk']} {err['score']}] {err['text'][:90]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", help="YAML or JSON Lines file of labelled cases")
    parser.add_argument("--bank", default=str(ROOT / "question_bank"))
    parser.add_argument("--show-errors", type=int, default=0, metavar="N")
    args = parser.parse_args(argv)
    from quizbot.chatbot import ChatEngine

    engine = ChatEngine.from_bank_dir(args.bank)
    print_report(evaluate(engine, load_cases(args.cases)), args.show_errors)
    return 0


if __name__ == "__main__":
    sys.exit(main())
