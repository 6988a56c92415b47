"""Text that is safe to store, log and write into a spreadsheet (plain Python, no Flask).

Three kinds of input break things further in: NUL (PostgreSQL refuses it in text), lone UTF-16
surrogates (nothing can encode them to UTF-8) and the other C0 control characters (XML, and so
XLSX, cannot hold them). ``problem`` names what is wrong with a string; ``clean`` strips what
can be stripped, for the places that take files (imports) rather than refuse them.
"""

from __future__ import annotations

import re

# C0 controls except tab, line feed and carriage return, plus DEL; and lone surrogates.
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
SURROGATE_RE = re.compile(r"[\ud800-\udfff]")
_UNSTORABLE_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")  # both, in one pass

# The range every integer column holds on both databases (PostgreSQL INTEGER is 32-bit).
INT_MIN, INT_MAX = -(2**31), 2**31 - 1


def problem(value: str) -> str | None:
    """Why ``value`` cannot be accepted (a Chinese reason), or None when it is fine."""
    if "\x00" in value:
        return "不能包含空字符（\\u0000）"
    if SURROGATE_RE.search(value):
        return "包含无效的 Unicode 字符（单独的代理项）"
    if CONTROL_RE.search(value):
        return "不能包含不可见的控制字符"
    return None


def clean(value: str) -> str:
    """``value`` without control characters and lone surrogates."""
    return _UNSTORABLE_RE.sub("", value)


def int_in_range(value: int) -> bool:
    """Whether an integer fits the databases' INTEGER column."""
    return INT_MIN <= value <= INT_MAX


# A mainland mobile number (optionally +86 and separated 3-4-4), an 18-digit resident ID number
# and a 16–19 digit bank-card number; not inside a longer run of digits.
_PHONE_RE = re.compile(r"(?<![\d])(?:\+?86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}(?![\d])")
_ID_CARD_RE = re.compile(r"(?<![\dA-Za-z])\d{6}(?:19|20)\d{2}(?:0[1-9]|1[0-2])\d{2}\d{3}[\dXx](?![\dA-Za-z])")
_BANK_CARD_RE = re.compile(r"(?<![\d])\d(?:[ -]?\d){15,18}(?![\d])")


def mask_personal(text: str) -> str:
    """``text`` with phone, ID-card and bank-card numbers masked (first and last digits kept)."""

    def keep_ends(match: re.Match, head: int, tail: int) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        return digits[:head] + "*" * max(len(digits) - head - tail, 4) + digits[-tail:]

    text = _ID_CARD_RE.sub(lambda m: keep_ends(m, 3, 2), text)
    text = _PHONE_RE.sub(lambda m: keep_ends(m, 3, 4), text)
    return _BANK_CARD_RE.sub(lambda m: keep_ends(m, 4, 4), text)


_PHONE_QUERY_RE = re.compile(r"^\+?[\d\s\-()]{7,20}$")


def phone_query(text: str) -> str | None:
    """The digits of ``text`` when it is written like a whole phone number (7+ digits, only
    separators besides), without a leading 86; else None."""
    if not _PHONE_QUERY_RE.match(text.strip()):
        return None
    digits = re.sub(r"\D", "", text)
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits if len(digits) >= 7 else None


def escape_like(text: str) -> str:
    """``text`` for a LIKE pattern with ``escape="\\\\"``: its % and _ match only themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
