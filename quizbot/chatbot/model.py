"""Learned weights: two logistic regressions read from one JSON file with pure Python.

``scripts/train_chatbot.py`` fits them (scikit-learn, at development time only) on the corpus
in ``tests/data/chat_corpus/`` and writes ``weights.json`` beside this module:

- ``scam``: scam / not scam over the features of ``features.extract``; its probability becomes
  the risk score, with the medium and high thresholds chosen on the training writers'
  out-of-fold predictions (never by hand);
- ``type``: a multinomial regression over the knowledge entries, read only when the message
  is warned about, to name the type.

No numpy or scikit-learn at run time: a dot product over the few hundred features a message
has is a loop over a dict.
"""

from __future__ import annotations

import json
import math
from itertools import repeat
from operator import itemgetter, mul, sub, truediv
from pathlib import Path

from .features import GRAM, Features

WEIGHTS_FILE = Path(__file__).with_name("weights.json")
FORMAT_VERSION = 1


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


class LearnedModel:
    """The scam and type regressions plus the thresholds they were trained with."""

    def __init__(self, data: dict) -> None:
        if data.get("version") != FORMAT_VERSION:
            raise ValueError(f"weights format {data.get('version')!r}, expected {FORMAT_VERSION}")
        scam = data["scam"]
        self.scam_bias: float = scam["bias"]
        self.scam_rules, self.scam_grams = _split(scam["weights"])
        types = data["type"]
        self.classes: list[str] = types["classes"]
        self.type_bias: tuple[float, ...] = tuple(types["bias"])
        # feature -> one weight per class; the file packs each sparsely as "3:0.12 7:-0.4"
        # (a string per feature loads several times faster than nested lists)
        n = len(self.classes)
        if len(self.type_bias) != n:
            raise ValueError(f"type bias has {len(self.type_bias)} values for {n} classes")
        self.type_rules, self.type_grams = _split({
            name: _dense(_unpack(text), n) for name, text in types["weights"].items()})
        self.medium: float = data["thresholds"]["medium"]
        self.high: float = data["thresholds"]["high"]
        self.info: dict = data.get("trained", {})
        # the knowledge entries (ids) whose rules produced the features it was trained on
        self.bank_entries: list[str] = sorted(self.info.get("bank_entries", []))

    @classmethod
    def load(cls, path: str | Path = WEIGHTS_FILE) -> LearnedModel | None:
        """The model in ``path``, or None when there is no such file."""
        path = Path(path)
        if not path.exists():
            return None
        return cls(json.loads(path.read_text(encoding="utf-8")))

    def scam_probability(self, feats: Features) -> float:
        """P(scam) for one message's features."""
        rules = self.scam_rules
        z = self.scam_bias + sum(map(self.scam_grams.get, feats.grams, repeat(0.0)))
        for name, value in feats.rules.items():
            w = rules.get(name)
            if w is not None:
                z += w * value
        return _sigmoid(z)

    def type_probabilities(self, feats: Features) -> list[tuple[str, float]]:
        """(type id, probability), most likely first."""
        # A few dozen features of a message have type weights: dense vectors summed in C.
        vectors = [self.type_bias]
        vectors += filter(None, map(self.type_grams.get, feats.grams))
        dense = self.type_rules
        for name, value in feats.rules.items():
            vec = dense.get(name)
            if vec is not None:
                vectors.append(vec if value == 1.0 else list(map(mul, repeat(value), vec)))
        logits = list(map(sum, zip(*vectors, strict=True)))
        top = max(logits)
        exps = list(map(math.exp, map(sub, logits, repeat(top))))
        total = sum(exps)
        probs = map(truediv, exps, repeat(total))
        return sorted(zip(self.classes, probs, strict=True), key=itemgetter(1), reverse=True)

    def risk_score(self, p: float, medium_at: int, high_at: int) -> int:
        """Map P(scam) onto the 0–100 risk scale so that the learned thresholds land exactly on
        ``medium_at`` and ``high_at`` (piecewise linear, monotone)."""
        if p < self.medium:
            return min(medium_at - 1, int(medium_at * p / self.medium))
        if p < self.high:
            span = (p - self.medium) / (self.high - self.medium)
            return min(high_at - 1, medium_at + int((high_at - medium_at) * span))
        span = (p - self.high) / (1.0 - self.high) if self.high < 1.0 else 1.0
        return min(100, high_at + int((100 - high_at) * span))


def _unpack(text: str) -> tuple[tuple[int, float], ...]:
    """"3:0.12 7:-0.4" -> ((3, 0.12), (7, -0.4))."""
    return tuple((int(i), float(w)) for i, w in (pair.split(":") for pair in text.split()))


def _dense(pairs: tuple[tuple[int, float], ...], n: int) -> tuple[float, ...]:
    vec = [0.0] * n
    for i, w in pairs:
        vec[i] = w
    return tuple(vec)


def _split(weights: dict) -> tuple[dict, dict]:
    """Rule features by name, n-gram features by the bare n-gram (no prefix to build per call)."""
    rules, grams = {}, {}
    for name, value in weights.items():
        if name.startswith(GRAM):
            grams[name[len(GRAM):]] = value
        else:
            rules[name] = value
    return rules, grams
