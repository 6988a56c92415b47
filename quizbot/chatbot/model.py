"""Learned weights: two logistic regressions read from one JSON file with pure Python.

``scripts/train_chatbot.py`` fits them (scikit-learn, at development time only) on the corpus
in ``tests/data/chat_corpus/`` and writes ``weights.json`` beside this module:

- ``scam``: scam / not scam over the features of ``features.extract``; its probability becomes
  the risk score, with the medium and high thresholds chosen on the training writers'
  out-of-fold predictions (never by hand);
- ``type``: a multinomial regression over the knowledge entries, read only when the message
  is warned about, to name the type;
- ``moved``: money lost to a scam / not (the corpus rows say whether money has already moved),
  read with the type for a warned message: at or above its threshold the reply leads with the
  emergency script even where the hand-written money-moved rules found no wording they know.

No numpy or scikit-learn at run time: a dot product over the few hundred features a message
has is a loop over a dict.
"""

from __future__ import annotations

import json
import math
import struct
from itertools import repeat
from operator import itemgetter, sub, truediv
from pathlib import Path

from .features import GRAM, Features

WEIGHTS_FILE = Path(__file__).with_name("weights.json")
FORMAT_VERSION = 2  # 2: the money-lost regression (session 5)
# Naming the type sums one weight vector (a weight per type) for each feature a message has,
# times the feature's value. Each vector is packed into one Python int, a 64-bit lane per type
# holding the weight in units of 1/TYPE_SCALE plus _OFFSET, so the weighted sum of a few dozen
# vectors is a few dozen big-int operations and the lanes come back out with one
# ``struct.unpack``, instead of a transpose and 25 float sums (43 -> 26 us a message on the
# bench corpus). TYPE_SCALE: the trainer writes 3 significant digits and drops weights under
# 0.03, so 1e-5 units hold every weight exactly. VALUE_SCALE: feature values (1, or log1p of a
# rule score) are taken to 1/1000, which moves a logit by at most 0.0005 × the weight.
# _OFFSET keeps lanes non-negative; 64-bit lanes leave room for thousands of features.
TYPE_SCALE = 100_000
VALUE_SCALE = 1000
_OFFSET = 1 << 32
_SCAM_WEIGHT, _TYPE_VECTOR = itemgetter(0), itemgetter(1)  # the two halves of a gram's entry


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
        self.scam_rules, scam_grams = _split(scam["weights"])
        types = data["type"]
        self.classes: list[str] = types["classes"]
        n = len(self.classes)
        if len(types["bias"]) != n:
            raise ValueError(f"type bias has {len(types['bias'])} values for {n} classes")
        # feature -> one weight per class; the file packs each sparsely as "3:0.12 7:-0.4"
        # (a string per feature loads several times faster than nested lists); in memory each
        # becomes one packed int (see TYPE_SCALE)
        # The money-lost regression rides along as one more lane (index n): its logit comes out
        # of the same sums for free.
        moved = data["moved"]
        lanes = {name: list(_unpack(text)) for name, text in types["weights"].items()}
        for name, weight in moved["weights"].items():
            lanes.setdefault(name, []).append((n, weight))
        self._packed_rules, packed_grams = _split({
            name: _pack(pairs, n + 1) for name, pairs in lanes.items()})
        # One table for both reads of an n-gram: (scam weight, packed type vector), 0.0 or 0
        # where the gram has none; one dict look-up per n-gram instead of two for a warned
        # message (9 of 24 us of naming the type were the second look-ups).
        self._grams: dict[str, tuple[float, int]] = {
            gram: (scam_grams.get(gram, 0.0), packed_grams.get(gram, 0))
            for gram in [*scam_grams, *(g for g in packed_grams if g not in scam_grams)]}
        self._packed_bias = _pack([*enumerate(types["bias"]), (n, moved["bias"])], n + 1)
        self._lanes = struct.Struct(f"<{n + 1}Q")
        self.moved_threshold: float = moved["threshold"]
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
        z = self.scam_bias + sum(map(_SCAM_WEIGHT, self._found(feats)))
        for name, value in feats.rules.items():
            w = rules.get(name)
            if w is not None:
                z += w * value
        return _sigmoid(z)

    def _found(self, feats: Features) -> list[tuple[float, int]]:
        """The table entries of the message's n-grams that have any weight, in gram order."""
        if feats.found is None:
            feats.found = list(filter(None, map(self._grams.get, feats.grams)))
        return feats.found

    def type_probabilities(self, feats: Features) -> list[tuple[str, float]]:
        """(type id, probability), most likely first."""
        return self.types_and_moved(feats)[0]

    def types_and_moved(self, feats: Features) -> tuple[list[tuple[str, float]], float]:
        """(type id, probability) most likely first, and P(money already lost to a scam)."""
        binary = [self._packed_bias]
        binary += filter(None, map(_TYPE_VECTOR, self._found(feats)))
        weighted = 0  # the valued features: sum of packed vector × value units
        units = 0  # value units summed, to take the offsets back out
        packed_rules = self._packed_rules
        for name, value in feats.rules.items():
            vec = packed_rules.get(name)
            if vec is not None:
                if value == 1.0:
                    binary.append(vec)
                else:
                    q = round(value * VALUE_SCALE)
                    weighted += vec * q
                    units += q
        total = sum(binary) * VALUE_SCALE + weighted
        base = (len(binary) * VALUE_SCALE + units) * _OFFSET
        scale = TYPE_SCALE * VALUE_SCALE
        lanes = self._lanes.unpack(total.to_bytes(self._lanes.size, "little"))
        logits = [(lane - base) / scale for lane in lanes]
        moved = _sigmoid(logits.pop())
        top = max(logits)
        exps = list(map(math.exp, map(sub, logits, repeat(top))))
        total_exp = sum(exps)
        probs = map(truediv, exps, repeat(total_exp))
        return sorted(zip(self.classes, probs, strict=True), key=itemgetter(1), reverse=True), moved

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


def _pack(pairs, n: int) -> int:
    """Sparse (class index, weight) pairs as the lanes of one int: every one of the ``n`` lanes
    holds ``_OFFSET``, plus the weight in 1/TYPE_SCALE units where one is given."""
    packed = sum(_OFFSET << (64 * k) for k in range(n))
    for k, w in pairs:
        units = round(w * TYPE_SCALE)
        if not 0 <= k < n or not -_OFFSET <= units < _OFFSET:
            raise ValueError(f"type weight {k}:{w} is outside {n} classes or the packed range")
        packed += units << (64 * k)
    return packed


def _split(weights: dict) -> tuple[dict, dict]:
    """Rule features by name, n-gram features by the bare n-gram (no prefix to build per call)."""
    rules, grams = {}, {}
    for name, value in weights.items():
        if name.startswith(GRAM):
            grams[name[len(GRAM):]] = value
        else:
            rules[name] = value
    return rules, grams
