"""Text clean-up before matching: width, script, invisible characters, whitespace."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import zhconv

MAX_CHARS = 2000

# Control characters (keep \n and \t, folded to spaces below) and zero-width characters,
# which people paste from apps or insert to dodge keyword filters.
_INVISIBLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_SPACES = re.compile(r"\s+")
# Characters dropped from the compact form used for matching: whitespace and the separators
# people put between characters to get past filters ("安 全 账 户", "刷*单").
_NOISE = frozenset(" \t\n*-_·•|/\\~^`'\"“”‘’")

# Traditional characters zhconv knows; texts without any skip the (slower) conversion.
def _load_zhconv() -> None:
    # zhconv's default loader leaves its dictionary file open (a ResourceWarning); loading it
    # by path takes its other branch, which closes the file.
    import os

    zhconv.zhconv.loaddict(os.path.join(os.path.dirname(zhconv.zhconv.__file__), "zhcdict.json"))


def _traditional_only() -> frozenset[str]:
    _load_zhconv()
    table = zhconv.zhconv.getdict("zh-hans")
    simplified = {ch for value in table.values() for ch in value}
    return frozenset(k for k, v in table.items() if len(k) == 1 and k != v and k not in simplified)


_TRADITIONAL = _traditional_only()


@dataclass(frozen=True)
class Normalized:
    """The cleaned text, its compact form for matching and the map back into the text."""

    text: str
    compact: str
    index: tuple[int, ...]  # compact position -> text position
    truncated: bool

    def span(self, start: int, end: int) -> str:
        """The text (as the user wrote it, after clean-up) behind compact[start:end]."""
        return self.text[self.index[start]: self.index[end - 1] + 1]


def normalize(raw: str) -> Normalized:
    """Clean ``raw`` for matching; never raises for any string."""
    truncated = len(raw) > MAX_CHARS
    text = raw[:MAX_CHARS] if truncated else raw
    text = unicodedata.normalize("NFKC", text)  # full-width → half-width, compatibility forms
    if not _TRADITIONAL.isdisjoint(text):
        text = zhconv.convert(text, "zh-hans")
    text = _INVISIBLE.sub("", text)
    text = _SPACES.sub(" ", text).strip().lower()
    index = []
    chars = []
    for i, ch in enumerate(text):
        if ch not in _NOISE:
            chars.append(ch)
            index.append(i)
    return Normalized(text, "".join(chars), tuple(index), truncated)
