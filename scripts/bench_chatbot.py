#!/usr/bin/env python3
"""Chatbot speed and memory, as a ratio to bare jieba tokenization measured in the same run.

    .venv/bin/python scripts/bench_chatbot.py [--rounds 5] [--rules-only]

Builds a corpus of at least 2,000 texts from the knowledge base and the labelled cases,
then times (a) ``engine.analyze`` and (b) only ``tokenizer.lcut`` — the same jieba
tokenizer instance and options the engine uses — on the same texts, alternating rounds.
A fresh subprocess measures import-to-first-verdict and peak resident memory.
Floors (issue #4): classification >= 0.5x tokenization rate; first verdict <= 2 s; RSS <= 250 MB.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FIRST_VERDICT = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from quizbot.chatbot import ChatEngine
engine = ChatEngine.from_bank_dir(sys.argv[1], **({"weights": None} if sys.argv[3:] else {}))
engine.analyze("有人自称客服要给我退款，让我共享屏幕")
first = time.perf_counter() - t0
for text in json.load(open(sys.argv[2], encoding="utf-8")):
    engine.analyze(text)
print(json.dumps({"first_verdict_s": first,
                  "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def build_corpus(bank_dir: Path, minimum: int = 2000) -> list[str]:
    """Texts from cases, hold-out cases and knowledge entries, recombined up to ``minimum``."""
    from quizbot.bank import load_bank
    from scripts.evaluate_chatbot import load_cases

    texts: list[str] = []
    for path in (ROOT / "tests/data/chat_cases.yaml", ROOT / "scripts/data/holdout_cases.jsonl"):
        if path.exists():
            texts += [c["text"] for c in load_cases(path)]
    bank = load_bank(bank_dir)
    for entry in bank.scam_types:
        texts.append(entry.summary)
        texts += entry.advice
    rng = random.Random(20261128)
    base = list(texts)
    while len(texts) < minimum:
        a, b = rng.sample(base, 2)
        texts.append(f"{a}，{b}")
    return texts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--bank", default=str(ROOT / "question_bank"))
    parser.add_argument("--rules-only", action="store_true", help="without the learned weights")
    args = parser.parse_args()

    corpus = build_corpus(Path(args.bank))
    chars = sum(len(t) for t in corpus)
    corpus_file = ROOT / "instance" / "bench_chatbot_corpus.json"
    corpus_file.parent.mkdir(exist_ok=True)
    corpus_file.write_text(json.dumps(corpus, ensure_ascii=False), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-c", FIRST_VERDICT, args.bank, str(corpus_file),
                           *(["rules-only"] if args.rules_only else [])],
                          capture_output=True, text=True, cwd=ROOT, check=True)
    fresh = json.loads(proc.stdout.strip().splitlines()[-1])

    from quizbot.chatbot import ChatEngine

    engine = ChatEngine.from_bank_dir(args.bank, **({"weights": None} if args.rules_only else {}))
    engine.warm()
    tokenize_times, classify_times = [], []
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        for text in corpus:
            engine.tokenizer.lcut(text, HMM=False)
        tokenize_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        for text in corpus:
            engine.analyze(text)
        classify_times.append(time.perf_counter() - t0)
    tok_rate = len(corpus) / min(tokenize_times)
    cls_rate = len(corpus) / min(classify_times)
    ratio = cls_rate / tok_rate
    print(f"corpus: {len(corpus)} texts, {chars / len(corpus):.0f} chars on average; best of {args.rounds} rounds")
    print(f"tokenize only (jieba):  {tok_rate:9.0f} texts/s")
    print(f"classify (analyze):     {cls_rate:9.0f} texts/s")
    print(f"ratio classify/tokenize: {ratio:.2f} (floor 0.50)")
    print(f"import to first verdict: {fresh['first_verdict_s']:.2f} s (floor 2.00)")
    print(f"peak resident memory:    {fresh['max_rss_mb']:.0f} MB (floor 250)")
    ok = ratio >= 0.5 and fresh["first_verdict_s"] <= 2 and fresh["max_rss_mb"] <= 250
    print("floors met" if ok else "FLOORS MISSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
