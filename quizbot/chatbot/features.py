"""The features the learned scores read: the rules' own findings plus character n-grams.

One function, ``extract``, is used both by ``scripts/train_chatbot.py`` (to fit the weights)
and by the engine at run time (to apply them), so the two can never disagree. Pure Python.

Two families, told apart by their prefix:
- rule features (``t:``, ``k:``, ``c:``, ``s:``, ``x:``): what the hand-written rules found —
  the red-flag score per type, the ranking score per type, combos, generic signals, money
  already moved, a legitimate-notice marker, "already avoided", a forwarded reminder …
- text features (``g:``): character bigrams and trigrams of the compact text, digits folded
  to ``0`` so amounts and phone numbers generalise. They let the model learn wording the
  phrase list does not have, and ordinary wording that should lower the score. Their values
  are scaled by 1/√(number of n-grams) so a long text does not score high just by being long.
"""

from __future__ import annotations

import math
import re

NGRAM_SIZES = (2, 3)
# Runs of characters an n-gram may span: CJK, latin letters, and digits folded to "0".
_DIGITS = re.compile(r"\d+")
_CHUNK = re.compile(r"[\u4e00-\u9fff0a-z]+")


def ngrams(compact: str) -> set[str]:
    """Character bigrams and trigrams of ``compact`` (digit runs folded to one "0")."""
    out: set[str] = set()
    for chunk in _CHUNK.findall(_DIGITS.sub("0", compact)):
        n = len(chunk)
        for size in NGRAM_SIZES:
            for i in range(n - size + 1):
                out.add(chunk[i:i + size])
    return out


def extract(findings) -> dict[str, float]:
    """Feature name -> value for one inspected message (see ``ChatEngine.inspect``)."""
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
    for name in findings.markers:
        feats["x:" + name] = 1.0
    feats["x:rules"] = findings.rules_score / 100.0
    grams = ngrams(findings.compact)
    if grams:
        value = 1.0 / math.sqrt(len(grams))
        for gram in grams:
            feats["g:" + gram] = value
    return feats
