"""Find knowledge-base phrases in a compact text: exact hits plus one-character typos.

Every phrase is indexed by its first two and last two characters. A single substituted
character ("安全帐户", "屏幕共亨", "刷单反利") always leaves one of those pairs intact, so one
dictionary look-up per position finds the candidates and rapidfuzz's Hamming distance
confirms them. No per-phrase scan of the text, so the cost grows with the text, not with
the size of the knowledge base.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from operator import add
from typing import NamedTuple

import zhconv
from rapidfuzz.distance import Hamming

# Chosen by measurement on tests/data/chat_cases.yaml (see docs/chatbot.md): fuzzy matching
# for 3-character phrases produced more false alarms than typos it caught.
FUZZY_MIN_LEN = 4
FUZZY_MIN_WEIGHT = 2.0
FUZZY_FACTOR = 0.7


def canonical(phrase: str) -> str:
    """A phrase in the same form as normalized text (half-width, simplified, lower, compact)."""
    text = unicodedata.normalize("NFKC", phrase)
    text = zhconv.convert(text, "zh-hans").lower()
    return "".join(ch for ch in text if not ch.isspace() and ch not in "*-_·|/")


@dataclass(frozen=True)
class Term:
    """What a phrase means to one scam type."""

    type_id: str
    weight: float  # 0 for words that only matter inside combos
    anchor: bool = False  # learnt from the question bank: ranks types, never raises risk


class Hit(NamedTuple):
    """One occurrence of a phrase in the compact text (a tuple: about ten are made per message,
    and a frozen dataclass costs several times more to build)."""

    phrase: str
    start: int
    end: int
    fuzzy: bool


class PhraseIndex:
    """All phrases of the knowledge base with the types they point to."""

    def __init__(self) -> None:
        self.terms: dict[str, list[Term]] = defaultdict(list)
        self._by_prefix: dict[str, list[str]] = defaultdict(list)
        self._by_suffix: dict[str, list[str]] = defaultdict(list)
        self._prefix_pairs: frozenset[str] = frozenset()
        self._suffix_pairs: frozenset[str] = frozenset()

    def add(self, phrase: str, type_id: str, weight: float, anchor: bool = False) -> str | None:
        """Register ``phrase`` for ``type_id``; returns its canonical form (None if unusable).

        An anchor never replaces a real red flag of the same type.
        """
        key = canonical(phrase)
        if len(key) < 2:
            return None
        terms = self.terms[key]
        for i, term in enumerate(terms):
            if term.type_id == type_id:
                if anchor:
                    return key
                if weight > term.weight or term.anchor:
                    terms[i] = Term(type_id, max(weight, 0.0 if term.anchor else term.weight))
                return key
        terms.append(Term(type_id, weight, anchor))
        return key

    def freeze(self) -> None:
        """Build the look-up tables once every phrase is in."""
        self._by_prefix.clear()
        self._by_suffix.clear()
        for key, terms in self.terms.items():
            self._by_prefix[key[:2]].append(key)
            if self._fuzzy_ok(key, terms):
                self._by_suffix[key[-2:]].append(key)
        # Longest first so a long phrase is tried before its own prefix.
        for bucket in self._by_prefix.values():
            bucket.sort(key=len, reverse=True)
        self._fuzzy = {k for k, t in self.terms.items() if self._fuzzy_ok(k, t)}
        self._prefix_pairs = frozenset(self._by_prefix)
        self._suffix_pairs = frozenset(self._by_suffix)
        # What find's inner loop needs per phrase, worked out once: (phrase, length, may be a typo)
        self._prefix_entries = {pair: tuple((key, len(key), key in self._fuzzy) for key in bucket)
                                for pair, bucket in self._by_prefix.items()}

    @staticmethod
    def _fuzzy_ok(key: str, terms: list[Term]) -> bool:
        return len(key) >= FUZZY_MIN_LEN and max(
            (t.weight for t in terms if not t.anchor), default=0.0) >= FUZZY_MIN_WEIGHT

    def find(self, text: str) -> list[Hit]:
        """Every exact and one-substitution occurrence of a known phrase in ``text``.

        Only the character pairs that begin or end some phrase are visited: the text's pairs
        are intersected with the index's (in C), then each such pair's positions are found
        with ``str.find``. Hits come back ordered by start, longest first.
        """
        hits: dict[tuple[str, int], Hit] = {}
        n = len(text)
        by_prefix, by_suffix = self._prefix_entries, self._by_suffix
        # The order pairs are visited in does not matter: hits are sorted below, and two hits
        # with the same start and end come from one bucket, in its order.
        pairs = list(map(add, text, text[1:]))  # every two consecutive characters, in C
        for pair in self._prefix_pairs.intersection(pairs):
            i = text.find(pair)
            while i != -1:
                for key, size, fuzzy in by_prefix[pair]:
                    end = i + size
                    if end > n:
                        continue
                    if text.startswith(key, i):
                        hits[(key, i)] = Hit(key, i, end, False)
                    # One substitution leaves at least one of the last two characters in place:
                    # a cheap necessary test before the real one.
                    elif (fuzzy and (text[end - 1] == key[-1] or text[end - 2] == key[-2])
                          and (key, i) not in hits and _typo(text[i:end], key)):
                        hits[(key, i)] = Hit(key, i, end, True)
                i = text.find(pair, i + 1)
        for pair in self._suffix_pairs.intersection(pairs):
            i = text.find(pair)
            while i != -1:
                for key in by_suffix[pair]:
                    start = i + 2 - len(key)
                    if start < 0 or (text[start] != key[0] and text[start + 1] != key[1]) or (
                            (key, start) in hits):
                        continue
                    window = text[start:i + 2]
                    if window != key and _typo(window, key):
                        hits[(key, start)] = Hit(key, start, i + 2, True)
                i = text.find(pair, i + 1)
        return sorted(hits.values(), key=lambda h: (h.start, -h.end))


# Characters that change what a phrase means when swapped for each other ("卖医保卡" is a
# scam sign, "用医保卡" is daily life): a substitution involving one of them is not a typo.
_MEANINGFUL = frozenset("买卖租借收用办开关不没无有要给拿送存取查退交付转还欠领发")


def _typo(window: str, key: str) -> bool:
    """One substituted CJK character that does not change the phrase's meaning."""
    if Hamming.distance(window, key, score_cutoff=1) > 1:
        return False
    for a, b in zip(window, key, strict=True):
        if a != b:
            return "\u4e00" <= a <= "\u9fff" and a not in _MEANINGFUL and b not in _MEANINGFUL
    return False
