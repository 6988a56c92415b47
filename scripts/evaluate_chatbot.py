#!/usr/bin/env python3
"""Measure the scam-check engine on labelled cases.

    python scripts/evaluate_chatbot.py tests/data/chat_cases.yaml
    python scripts/evaluate_chatbot.py scripts/data/holdout_cases.jsonl --show-errors 20
    python scripts/evaluate_chatbot.py --lowo          # leave-one-writer-out on the corpus

``--lowo`` is the headline figure (docs/chatbot.md): for each writer of
tests/data/chat_corpus/, train the weights on the other five (scripts/train_chatbot.py, with
its own inner folds for the thresholds), run the real engine on the held-out writer's texts,
and print recall, ordinary texts warned and top-1 per writer, their mean and the worst
writer — next to the hand-written rules alone (no weights) measured on the same texts.

CASES is YAML (a list) or JSON Lines, each with ``text``, ``is_scam`` and ``scam_type``.
Prints recall overall and per type, the share of non-scam cases warned (risk != low),
top-1 type accuracy on scam cases, and the most confused type pairs.
"""

from __future__ import annotations

import argparse
import json
import os
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
    # scam cases that say money has already moved (corpus rows carry it): the share answered
    # with the emergency script, and the share of the other scam cases wrongly given it
    moved_emergency: float | None = None
    unmoved_emergency: float | None = None


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
    emergencies = {True: [0, 0], False: [0, 0]}  # money moved? -> [emergency given, cases]
    for case in cases:
        verdict = engine.analyze(case["text"])
        if case.get("is_scam") and "money_moved" in case:
            counts = emergencies[bool(case["money_moved"])]
            counts[0] += verdict.intent == "emergency"
            counts[1] += 1
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
        moved_emergency=emergencies[True][0] / emergencies[True][1] if emergencies[True][1] else None,
        unmoved_emergency=emergencies[False][0] / emergencies[False][1] if emergencies[False][1] else None,
    )


def print_report(report: Report, show_errors: int = 0) -> None:
    print(f"cases: {report.cases} ({report.scam_cases} scam, {report.nonscam_cases} not scam)")
    print(f"recall (scam cases with risk != low): {report.recall:.1%}")
    print(f"non-scam cases warned (risk != low):   {report.nonscam_warned:.1%}")
    print(f"top-1 type accuracy on scam cases:     {report.top1_accuracy:.1%}")
    if report.moved_emergency is not None:
        print(f"emergency script, money moved:         {report.moved_emergency:.1%}")
    if report.unmoved_emergency is not None:
        print(f"emergency script, no money moved:      {report.unmoved_emergency:.1%}")
    print("\nrecall per type:")
    for type_id, (caught, total) in report.per_type_recall.items():
        print(f"  {str(type_id):28s} {caught:4d}/{total:<4d} {caught / total if total else 0:6.1%}")
    print("\nmost confused (expected -> predicted):")
    for (expected, predicted), count in report.confusions:
        print(f"  {expected} -> {predicted}: {count}")
    for err in report.errors[:show_errors]:
        print(f"  ! {err['expected']} -> {err['got']} [{err['risk']} {err['score']}] {err['text'][:90]}")


def corpus_cases(rows: list[dict]) -> list[dict]:
    """Corpus rows (scam/type) in the case format (is_scam/scam_type)."""
    return [{"text": r["text"], "is_scam": r["scam"], "scam_type": r["type"],
             **({"money_moved": r["money_moved"]} if "money_moved" in r else {})} for r in rows]


_FOLD: dict = {}  # what each leave-one-writer-out fold reads (set before the workers fork)


def _fold(writer: str) -> tuple[str, int, Report, Report, str]:
    """One held-out writer: (writer, texts, learned report, rules-only report, printed line)."""
    from quizbot.chatbot.model import LearnedModel
    from scripts.train_chatbot import train

    engine, rows, items, show_errors = (_FOLD[k] for k in ("engine", "rows", "items", "show_errors"))
    held = corpus_cases([r for r in rows if r["writer"] == writer])
    engine.model = None
    rules = evaluate(engine, held)
    engine.model = LearnedModel(train([i for i in items if i.writer != writer]))
    learned = evaluate(engine, held)
    t = engine.model
    lines = [f"{writer:8s} {len(held):5d}  recall {learned.recall:6.1%}  warned {learned.nonscam_warned:5.1%}"
             f"  top-1 {learned.top1_accuracy:6.1%}  emergency {_share(learned.moved_emergency)}"
             f"/{_share(learned.unmoved_emergency)}  (thresholds {t.medium:.3f}/{t.high:.3f})"
             f"   rules: {rules.recall:6.1%} {rules.nonscam_warned:5.1%} {rules.top1_accuracy:6.1%}"]
    lines += [f"  ! {err['expected']} -> {err['got']} [{err['risk']} {err['score']}] {err['text'][:90]}"
              for err in learned.errors[:show_errors]]
    return writer, len(held), learned, rules, "\n".join(lines)


def leave_one_writer_out(bank: str, corpus: str, show_errors: int = 0,
                         jobs: int = 1) -> list[tuple[str, int, Report, Report]]:
    """(writer, texts, learned report, rules-only report) for each held-out writer.

    The folds are independent: with ``jobs`` > 1 they run in that many forked processes (the
    results, and their order, are the same as with one)."""
    from quizbot.chatbot import ChatEngine
    from scripts.train_chatbot import featurize, load_corpus

    engine = ChatEngine.from_bank_dir(bank, weights=None)
    rows = load_corpus(Path(corpus))
    _FOLD.update(engine=engine, rows=rows, items=featurize(engine, rows), show_errors=show_errors)
    writers = sorted({r["writer"] for r in rows} - {"cases"})  # the team's cases always train
    results = []
    if jobs > 1:
        import multiprocessing

        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            folds = list(pool.imap(_fold, writers))
    else:
        folds = map(_fold, writers)
    for writer, n, learned, rules, printed in folds:
        print(printed, flush=True)
        results.append((writer, n, learned, rules))
    return results


def _share(value: float | None) -> str:
    return "  -  " if value is None else f"{value:5.1%}"


def print_lowo(results) -> None:
    """Mean and worst writer, learned and rules-only."""
    for label, k in (("learned", 2), ("rules only", 3)):
        moved = [r[k].moved_emergency for r in results if r[k].moved_emergency is not None]
        unmoved = [r[k].unmoved_emergency for r in results if r[k].unmoved_emergency is not None]
        if moved and unmoved:
            print(f"{label:10s} emergency script: money moved {sum(moved) / len(moved):5.1%},"
                  f" no money moved {sum(unmoved) / len(unmoved):5.1%} (mean over writers)")
        recall = [r[k].recall for r in results]
        warned = [r[k].nonscam_warned for r in results]
        top1 = [r[k].top1_accuracy for r in results]
        worst = lambda values, pick: pick(zip(values, (r[0] for r in results), strict=True))  # noqa: E731
        print(f"{label:10s} mean:  recall {sum(recall) / len(recall):6.1%}  warned {sum(warned) / len(warned):5.1%}"
              f"  top-1 {sum(top1) / len(top1):6.1%}")
        r, w, t = worst(recall, min), worst(warned, max), worst(top1, min)
        print(f"{label:10s} worst: recall {r[0]:6.1%} ({r[1]})  warned {w[0]:5.1%} ({w[1]})"
              f"  top-1 {t[0]:6.1%} ({t[1]})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="?", help="YAML or JSON Lines file of labelled cases")
    parser.add_argument("--bank", default=str(ROOT / "question_bank"))
    parser.add_argument("--show-errors", type=int, default=0, metavar="N")
    parser.add_argument("--lowo", action="store_true", help="leave-one-writer-out on the corpus")
    parser.add_argument("--corpus", default=str(ROOT / "tests" / "data" / "chat_corpus"))
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="with --lowo: folds run in this many processes (default: every core)")
    parser.add_argument("--rules-only", action="store_true", help="ignore the learned weights")
    parser.add_argument("--target-warned", type=float, default=None, metavar="SHARE",
                        help="with --lowo: train with this target instead of TARGET_WARNED")
    args = parser.parse_args(argv)
    if args.target_warned is not None:
        import scripts.train_chatbot as trainer

        trainer.TARGET_WARNED = args.target_warned
    if args.lowo:
        print_lowo(leave_one_writer_out(args.bank, args.corpus, args.show_errors, args.jobs))
        return 0
    if not args.cases:
        parser.error("give CASES or --lowo")
    from quizbot.chatbot import ChatEngine

    engine = ChatEngine.from_bank_dir(args.bank, **({"weights": None} if args.rules_only else {}))
    print_report(evaluate(engine, load_cases(args.cases)), args.show_errors)
    return 0


if __name__ == "__main__":
    sys.exit(main())
