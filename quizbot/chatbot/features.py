"""The features the learned scores read: the rules' own findings plus character n-grams.

One function, ``extract``, is used both by ``scripts/train_chatbot.py`` (to fit the weights)
and by the engine at run time (to apply them), so the two can never disagree. Pure Python.

Two families, told apart by their prefix:
- rule features (``t:``, ``k:``, ``c:``, ``s:``, ``x:``): what the hand-written rules found —
  the red-flag score per type, the ranking score per type, combos, generic signals, money
  already moved, a legitimate-notice marker, "already avoided", a forwarded reminder …
- text features (``g:``): character bigrams and trigrams of the compact text, digits folded
  to ``0`` so amounts and phone numbers generalise, each present or absent (value 1). They
  let the model learn wording the phrase list does not have, and ordinary wording that should
  lower the score. (Scaling them by 1/√(number of n-grams) was tried: the same
  leave-one-writer-out recall at the same share of ordinary texts warned, so the simpler
  form stays.)
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from operator import add

GRAM = "g:"  # prefix of n-gram features in the weights file
# Characters an n-gram may hold: CJK, latin letters, and digit runs folded to "0".
_DIGITS = re.compile(r"\d+")
# Runs of two or more such characters: n-grams never cross anything else.
_RUNS = re.compile("[\u4e00-\u9fff0a-z]{2,}")


def ngrams(compact: str) -> set[str]:
    """Character bigrams and trigrams of ``compact`` (digit runs folded to one "0") that do not
    cross punctuation or symbols. Bigrams are added first, then trigrams, each in text order
    (the set's iteration order, and so the order the weights are summed in, follows from it).
    Built per run of n-gram characters with ``map`` in C (20% faster than a look-ahead
    ``findall`` per length, the same set in the same order)."""
    runs = _RUNS.findall(_DIGITS.sub("0", compact))
    pairs = [list(map(add, run, run[1:])) for run in runs]
    out: set[str] = set()
    for bigrams in pairs:
        out.update(bigrams)
    for bigrams, run in zip(pairs, runs, strict=True):
        # a trigram is a bigram plus the character after it (the bigrams are not built twice)
        out.update(map(add, bigrams, run[2:]))
    return out


@dataclass
class Features:
    """One message's features: the rule features by name and the set of n-grams (value 1)."""

    rules: dict[str, float]
    grams: set[str]
    # the learned model's table entries for ``grams``, looked up once by its first read (the
    # scam probability) and reused by the second (type and money lost) for a warned message
    found: list | None = None

    def as_dict(self) -> dict[str, float]:
        """Every feature by its full name (``g:`` + n-gram), as the trainer needs them."""
        return {**self.rules, **{GRAM + gram: 1.0 for gram in self.grams}}


def extract(findings) -> Features:
    """The features of one inspected message (see ``ChatEngine.inspect``)."""
    feats: dict[str, float] = {}
    for type_id, value in findings.flags.items():
        if value > 0:
            feats["t:" + type_id] = math.log1p(value)
    for type_id, value in findings.rank.items():
        if value > 0:
            feats["k:" + type_id] = math.log1p(value)
    for type_id in findings.combos:
        feats["c:" + type_id] = 1.0
    for signal in findings.signals:
        feats["s:" + signal.id] = 1.0
    for name, present in findings.markers.items():
        if present:
            feats["x:" + name] = 1.0
    feats["x:rules"] = findings.rules_score / 100.0
    return Features(feats, ngrams(findings.compact))
