"""Normalization: what the matcher sees, whatever the resident typed or pasted."""

from __future__ import annotations

from quizbot.chatbot.normalize import MAX_CHARS, normalize


def test_full_width_and_case_are_folded():
    assert normalize("ＶＸ：ＡＢＣ１２３").text == "vx:abc123"


def test_traditional_becomes_simplified():
    assert normalize("請轉賬到安全賬戶").text == "请转账到安全账户"


def test_invisible_and_control_characters_are_removed():
    n = normalize("安\u200b全\x00账\ufeff户\x07")
    assert n.text == "安全账户" and n.compact == "安全账户"


def test_whitespace_collapses_and_compact_drops_separators():
    n = normalize("  安 全\n\n账*户   ")
    assert n.text == "安 全 账*户"
    assert n.compact == "安全账户"
    assert n.span(0, 4) == "安 全 账*户"  # evidence is shown as written


def test_emoji_are_kept_harmlessly():
    assert "😀" in normalize("你好😀").compact


def test_long_text_is_capped_and_flagged():
    n = normalize("啊" * (MAX_CHARS + 50))
    assert n.truncated and len(n.text) == MAX_CHARS
    assert not normalize("啊" * MAX_CHARS).truncated


def test_empty_and_whitespace_only():
    assert normalize("").compact == "" and normalize(" \n\t ").compact == ""
