"""Text clean-up before matching: width, script, invisible characters, whitespace."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace

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
    """The cleaned text, its compact form for matching and the maps back to what was written."""

    text: str
    compact: str
    index: tuple[int, ...]  # compact position -> text position
    truncated: bool
    raw: str = ""  # the input as written (first MAX_CHARS characters)
    raw_index: tuple[int, ...] = ()  # text position -> raw position

    def span(self, start: int, end: int) -> str:
        """The words as the user wrote them behind compact[start:end] (same script, width, case)."""
        lo, hi = self.index[start], self.index[end - 1]
        if self.raw_index:
            return _SPACES.sub(" ", self.raw[self.raw_index[lo]: self.raw_index[hi] + 1])
        return self.text[lo: hi + 1]


# Full-width ASCII and the ideographic space, one character each to one character: NFKC's
# most common change to Chinese text, done by one str.translate.
_FULL_WIDTH = {0xFF01 + i: 0x21 + i for i in range(0x5E)} | {0x3000: 0x20}
# Anything the character-by-character path would change besides lower-casing: whitespace runs,
# whitespace at either end, tabs and newlines, invisible characters.
_NOT_PLAIN = re.compile(r"\s\s|^\s|\s$|[^\S ]|" + _INVISIBLE.pattern)
# The fast path's questions as character classes: ``search`` scans for any of them in C,
# where ``frozenset.isdisjoint(text)`` makes a string object per character (several times
# slower). Whitespace or an invisible character is what every branch of _NOT_PLAIN needs.
# Traditional characters beyond the BMP would turn the class into a list re tries one by one,
# so they are looked for only in the rare text that has such a character at all.
_TRADITIONAL_BMP = re.compile("[" + "".join(re.escape(ch) for ch in sorted(_TRADITIONAL) if ch <= "\uffff") + "]")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_FULL_WIDTH_CHAR = re.compile("[\uff01-\uff5e\u3000]")
_NOISE_CHAR = re.compile("[" + "".join(map(re.escape, sorted(_NOISE))) + "]")
_NOISE_RUN = re.compile(_NOISE_CHAR.pattern + "+")
_BLANK_OR_INVISIBLE = re.compile(r"\s|" + _INVISIBLE.pattern)


def _fast(raw: str) -> Normalized | None:
    """The common case without a loop per character: no traditional characters, in NFKC once
    full-width ASCII is folded, nothing invisible, single spaces only, and lower-casing keeps
    every position. Gives exactly what the slow path gives (or None: take the slow path)."""
    if _TRADITIONAL_BMP.search(raw) or (_ASTRAL.search(raw) and not _TRADITIONAL.isdisjoint(raw)):
        return None
    # what NFKC does to "，？！（）" and full-width letters
    text = raw.translate(_FULL_WIDTH) if _FULL_WIDTH_CHAR.search(raw) else raw
    if not unicodedata.is_normalized("NFKC", text):
        return None
    text = text.lower()
    if len(text) != len(raw) or (_BLANK_OR_INVISIBLE.search(text) and _NOT_PLAIN.search(text)):
        return None
    same = tuple(range(len(text)))  # every position maps to itself
    if _NOISE_CHAR.search(text) is None:
        return Normalized(text, text, same, False, raw, same)
    # the positions between runs of separators, a range at a time
    index: list[int] = []
    kept_from = 0
    for run in _NOISE_RUN.finditer(text):
        index += range(kept_from, run.start())
        kept_from = run.end()
    index += range(kept_from, len(text))
    return Normalized(text, _NOISE_RUN.sub("", text), tuple(index), False, raw, same)


def normalize(raw: str) -> Normalized:
    """Clean ``raw`` for matching; never raises for any string.

    Works character by character so every cleaned character remembers where it came from:
    evidence is quoted from the original text, not from its simplified, lower-case copy.
    """
    truncated = len(raw) > MAX_CHARS
    raw = raw[:MAX_CHARS] if truncated else raw
    fast = _fast(raw)
    if fast is not None:
        return replace(fast, truncated=True) if truncated else fast
    convert = not _TRADITIONAL.isdisjoint(raw) or not _TRADITIONAL.isdisjoint(
        unicodedata.normalize("NFKC", raw))
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(raw):
        folded = unicodedata.normalize("NFKC", ch)
        if convert and not _TRADITIONAL.isdisjoint(folded):
            folded = zhconv.convert(folded, "zh-hans")
        for out in _INVISIBLE.sub("", folded).lower():
            if out.isspace():
                if not chars or chars[-1] == " ":
                    continue
                out = " "
            chars.append(out)
            origin.append(i)
    while chars and chars[-1] == " ":
        chars.pop()
        origin.pop()
    text = "".join(chars)
    index = [i for i, ch in enumerate(text) if ch not in _NOISE]
    compact = "".join(text[i] for i in index)
    return Normalized(text, compact, tuple(index), truncated, raw, tuple(origin))
