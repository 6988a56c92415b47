#!/usr/bin/env python3
"""Learn the chatbot's scores from the labelled corpus and write quizbot/chatbot/weights.json.

    .venv/bin/python scripts/train_chatbot.py            # train on all writers, write weights
    .venv/bin/python scripts/train_chatbot.py --check    # rebuild and compare with the file

Features (``quizbot/chatbot/features.py``): the hand-written rules' findings (red-flag and
ranking scores per type, combos, generic signals, markers such as money moved, a legitimate
notice, "already avoided") plus character bigrams and trigrams of the text, the n-grams kept
being those seen in at least ``MIN_DF`` training texts.

Two L2-regularised logistic regressions (scikit-learn, development time only):
- scam / not scam, on every text;
- the type, multinomial, on the scam texts.

Thresholds are not set by hand: the training writers are split leave-one-writer-out once
more (inner folds), and the medium threshold is the lowest probability at which the share
of ordinary texts warned — counting the rules' safety floor and the texts routed elsewhere —
stays at or under ``TARGET_WARNED``; high is where it stays under ``TARGET_HIGH``.

Deterministic: the solvers are seeded and the data order is fixed, so the same corpus gives
the same file. scikit-learn is in requirements-dev.txt only; the engine reads the JSON with
pure Python.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CORPUS = ROOT / "tests" / "data" / "chat_corpus"
# The team's own cases (short messages residents send, 840 of them) train alongside the six
# writers as one more group, "cases"; leave-one-writer-out keeps them in every training fold.
CASES = ROOT / "tests" / "data" / "chat_cases.yaml"
MIN_DF = 3  # an n-gram must occur in this many training texts to get a weight
C_SCAM = 1.0  # inverse L2 strength of the scam regression (chosen leave-one-writer-out)
TYPE_GRAMS = 3000  # n-grams the type regression reads (the rest only cost time); LOWO-checked
C_TYPE = 4.0  # inverse L2 strength of the type regression (chosen leave-one-writer-out)
TARGET_WARNED = 0.05  # ordinary texts warned on the inner folds: 5%, not the goal's 3% (see docs/chatbot.md)
TARGET_HIGH = 0.01  # ordinary texts called high on the inner folds: 1% (75% of scams high; 0.5%: 66%)
PRUNE = 1e-3  # scam weights smaller than this are left out of the file (no measurable effect)
PRUNE_TYPE = 0.03  # the same for the type weights (25 per feature): keeps naming the type fast
SEED = 20261129


@dataclass
class Item:
    """One corpus text as the trainer sees it."""

    writer: str
    scam: bool
    type: str | None
    feats: dict[str, float]
    routed: bool  # answered by the route step (official, knowledge, small talk): never warned
    floor: int  # the risk score the safety floor guarantees whatever the weights say
    text: str = ""


def load_corpus(directory: Path = CORPUS, cases: Path | None = CASES) -> list[dict]:
    """Every row of every writer's JSON Lines file, then the team's cases, in a fixed order."""
    rows = []
    for path in sorted(directory.glob("*.jsonl")):
        rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if cases is not None and cases.exists():
        import yaml

        for case in yaml.safe_load(cases.read_text(encoding="utf-8")):
            rows.append({"id": case["id"], "writer": "cases", "text": case["text"],
                         "scam": bool(case["is_scam"]), "type": case.get("scam_type")})
    return rows


def featurize(engine, rows: list[dict]) -> list[Item]:
    """Run each text through the engine's inspect and route steps once."""
    from quizbot.chatbot.engine import safety_floor
    from quizbot.chatbot.features import extract
    from quizbot.chatbot.normalize import normalize

    items = []
    for row in rows:
        norm = normalize(row["text"])
        if not norm.compact:
            continue
        found = engine.inspect(norm)
        routed = engine.route(found) is not None
        items.append(Item(row["writer"], bool(row["scam"]), row.get("type"), extract(found).as_dict(), routed,
                          safety_floor(found), row["text"]))
    return items


class Vocabulary:
    """Feature name -> column: every rule feature, and n-grams seen in >= MIN_DF texts."""

    def __init__(self, items: list[Item], min_df: int = MIN_DF) -> None:
        df: Counter = Counter()
        for item in items:
            df.update(item.feats.keys())
        names = sorted(n for n, c in df.items() if not n.startswith("g:") or c >= min_df)
        self.index = {name: i for i, name in enumerate(names)}
        self.names = names

    def matrix(self, items: list[Item]):
        from scipy.sparse import csr_matrix

        rows, cols, vals = [], [], []
        for r, item in enumerate(items):
            for name, value in item.feats.items():
                c = self.index.get(name)
                if c is not None:
                    rows.append(r)
                    cols.append(c)
                    vals.append(value)
        return csr_matrix((vals, (rows, cols)), shape=(len(items), len(self.names)))


def _fit_scam(vocab: Vocabulary, items: list[Item], c: float):
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, solver="liblinear", random_state=SEED, max_iter=1000)
    model.fit(vocab.matrix(items), [int(i.scam) for i in items])
    return model


def _fit_type(vocab: Vocabulary, items: list[Item], c: float):
    """The multinomial type regression over the rule features and the TYPE_GRAMS n-grams that
    tell types apart best (chi-squared on the training texts); other columns get weight 0."""
    import numpy as np
    from sklearn.feature_selection import chi2
    from sklearn.linear_model import LogisticRegression

    scams = [i for i in items if i.scam and i.type]
    x = vocab.matrix(scams)
    labels = [i.type for i in scams]
    is_gram = np.array([n.startswith("g:") for n in vocab.names])
    # The red-flag score per type ("t:") repeats the ranking score ("k:"): leaving it out kept
    # held-out type accuracy (86.5% either way) and saves a third of the multiplications.
    is_rule = np.array([not n.startswith(("g:", "t:")) for n in vocab.names])
    score = np.nan_to_num(chi2(x, labels)[0])
    score[~is_gram] = -np.inf
    score[is_rule] = np.inf  # every other rule feature stays
    keep = np.zeros(len(vocab.names), dtype=bool)
    keep[np.argsort(-score, kind="stable")[: int(is_rule.sum()) + TYPE_GRAMS]] = True
    model = LogisticRegression(C=c, solver="lbfgs", max_iter=2000, random_state=SEED)
    model.fit(x[:, keep], labels)
    coef = np.zeros((len(model.classes_), len(vocab.names)))
    coef[:, keep] = model.coef_
    model.coef_ = coef  # back to the full vocabulary's columns, zeros where not kept
    return model


def warned(item: Item, p: float, medium: float) -> bool:
    """Would the engine warn (risk != low) with this probability and threshold?"""
    return not item.routed and (p >= medium or item.floor > 0)


def choose_thresholds(items: list[Item], probs: list[float]) -> tuple[float, float]:
    """Medium and high thresholds from out-of-fold probabilities (see the module docstring)."""
    ordinary = [(i, p) for i, p in zip(items, probs, strict=True) if not i.scam]
    floored = sum(1 for i, _ in ordinary if not i.routed and i.floor > 0)
    free = sorted((p for i, p in ordinary if not i.routed and i.floor == 0), reverse=True)
    allowed = max(0, int(TARGET_WARNED * len(ordinary)) - floored)
    medium = free[allowed] + 1e-6 if allowed < len(free) else 0.5
    allowed_high = int(TARGET_HIGH * len(ordinary))
    high = free[allowed_high] + 1e-6 if allowed_high < len(free) else 0.9
    if high <= medium:  # keep a medium band: halfway between medium and certainty
        high = (medium + 1.0) / 2
    return round(medium, 6), round(min(high, 0.9999), 6)


def out_of_fold(items: list[Item], c_scam: float = C_SCAM) -> list[float]:
    """P(scam) for every item from a model trained on the other writers."""
    probs = [0.0] * len(items)
    for writer in sorted({i.writer for i in items}):
        train = [i for i in items if i.writer != writer]
        test = [(n, i) for n, i in enumerate(items) if i.writer == writer]
        vocab = Vocabulary(train)
        model = _fit_scam(vocab, train, c_scam)
        p = model.predict_proba(vocab.matrix([i for _, i in test]))[:, 1]
        for (n, _), value in zip(test, p, strict=True):
            probs[n] = float(value)
    return probs


def train(items: list[Item], c_scam: float = C_SCAM, c_type: float = C_TYPE,
          info: dict | None = None) -> dict:
    """The weights file's content, trained on ``items`` (thresholds from inner folds)."""
    medium, high = choose_thresholds(items, out_of_fold(items, c_scam))
    vocab = Vocabulary(items)
    scam = _fit_scam(vocab, items, c_scam)
    types = _fit_type(vocab, items, c_type)
    scam_weights = {name: float(f"{w:.3g}") for name, w in zip(vocab.names, scam.coef_[0], strict=True)
                    if abs(w) >= PRUNE}
    classes = [str(c) for c in types.classes_]
    type_weights: dict[str, str] = {}  # feature -> "class:weight …" (model.py explains why)
    for col, name in enumerate(vocab.names):
        pairs = [f"{k}:{types.coef_[k, col]:.3g}" for k in range(len(classes))
                 if abs(types.coef_[k, col]) >= PRUNE_TYPE]
        if pairs:
            type_weights[name] = " ".join(pairs)
    return {
        "version": 1,
        "trained": {**(info or {}), "texts": len(items), "writers": sorted({i.writer for i in items}),
                    "min_df": MIN_DF, "c_scam": c_scam, "c_type": c_type,
                    "target_warned": TARGET_WARNED, "target_high": TARGET_HIGH},
        "thresholds": {"medium": medium, "high": high},
        "scam": {"bias": round(float(scam.intercept_[0]), 4), "weights": scam_weights},
        "type": {"classes": classes, "bias": [round(float(b), 4) for b in types.intercept_],
                 "weights": type_weights},
    }


def dump(weights: dict) -> str:
    """The file's text: stable key order, one line per section, so diffs stay readable."""
    return json.dumps(weights, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(CORPUS))
    parser.add_argument("--bank", default=str(ROOT / "question_bank"))
    parser.add_argument("--out", default=None, help="default: quizbot/chatbot/weights.json")
    parser.add_argument("--check", action="store_true", help="compare with the file instead of writing")
    args = parser.parse_args(argv)
    from quizbot.chatbot import ChatEngine
    from quizbot.chatbot.model import WEIGHTS_FILE

    engine = ChatEngine.from_bank_dir(args.bank, weights=None)
    rows = load_corpus(Path(args.corpus))
    items = featurize(engine, rows)
    from quizbot.bank import load_bank

    info = {"corpus": "tests/data/chat_corpus + tests/data/chat_cases.yaml",
            "command": "scripts/train_chatbot.py",
            "bank_entries": sorted(e.id for e in load_bank(args.bank).scam_types)}
    weights = train(items, info=info)
    out = Path(args.out) if args.out else WEIGHTS_FILE
    text = dump(weights)
    if args.check:
        same = out.exists() and out.read_text(encoding="utf-8") == text
        print("weights file is up to date" if same else f"{out} differs from a fresh training run")
        return 0 if same else 1
    out.write_text(text, encoding="utf-8")
    t = weights["thresholds"]
    print(f"wrote {out} ({len(text) / 1e6:.1f} MB): {len(weights['scam']['weights'])} scam weights, "
          f"{len(weights['type']['weights'])} type features; thresholds medium {t['medium']:.3f}, "
          f"high {t['high']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
