"""The engine's shortcuts give exactly what the long way gives."""

from __future__ import annotations

import re
from re import _constants as c
from re import _parser

import pytest

from quizbot.chatbot import signals
from quizbot.chatbot.engine import _contained
from quizbot.chatbot.matcher import Hit


def _first_chars(items) -> tuple[set[str], bool]:
    """Characters a match of the parsed ``items`` can begin with, and whether it can be empty.
    Raises for what this small walker does not know (any character, classes, ...)."""
    out: set[str] = set()
    for op, av in items:
        if op is c.LITERAL:
            return out | {chr(av)}, False
        if op in (c.AT, c.ASSERT, c.ASSERT_NOT):  # zero-width: look at what follows
            continue
        if op is c.SUBPATTERN:
            first, empty = _first_chars(av[3])
        elif op is c.BRANCH:
            firsts = [_first_chars(branch) for branch in av[1]]
            first = set().union(*(f for f, _ in firsts))
            empty = any(e for _, e in firsts)
        elif op is c.IN and all(o is c.LITERAL for o, _ in av):
            first, empty = {chr(a) for _, a in av}, False
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT):
            first, empty = _first_chars(av[2])
            empty = empty or av[0] == 0
        else:
            raise ValueError(f"cannot tell the first characters of {op}")
        out |= first
        if not empty:
            return out, False
    return out, True


def test_every_negator_begins_with_a_listed_character():
    first, can_be_empty = _first_chars(_parser.parse(signals.NEGATION.pattern))
    assert not can_be_empty
    assert first <= signals.NEGATORS


def test_each_spells_out_a_group_in_order():
    assert signals._each("刚刚|刚|已", "转了") == "刚刚转了|刚转了|已转了"
    grouped, spelt = re.compile(r"(?:刚刚?|已)转了?"), re.compile(signals._each("刚刚|刚|已", "转了?"))
    for text in ("刚刚转了", "刚转", "已转了", "刚刚", "我刚刚转"):
        assert [m.span() for m in grouped.finditer(text)] == [m.span() for m in spelt.finditer(text)]


def _contained_the_long_way(hits, anchor_only):
    spans = [(h.start, h.end) for h in hits if h.phrase not in anchor_only]
    return {id(h) for h in hits
            if any(s <= h.start and e >= h.end and e - s > h.end - h.start for s, e in spans)}


def test_phrases_inside_longer_ones_are_found_in_one_pass():
    hits = sorted([Hit("安全账户", 3, 7, False), Hit("安全", 3, 5, False), Hit("账户", 5, 7, False),
                   Hit("转到安全", 1, 5, False), Hit("到安", 2, 4, False), Hit("户口", 6, 8, False),
                   Hit("账户x", 5, 8, False), Hit("账户", 5, 7, True)],
                  key=lambda h: (h.start, -h.end))
    for anchor_only in (frozenset(), frozenset({"转到安全"}), frozenset({"账户x", "安全账户"})):
        assert _contained(hits, anchor_only) == _contained_the_long_way(hits, anchor_only)


def _kept_the_long_way(engine, compact):
    """inspect's two-character filter, tokenizing every clause that holds a doubtful hit."""
    from quizbot.chatbot.engine import _CLAUSE

    found = engine.index.find(compact)
    short = engine._overlapping(compact, [h for h in found if len(h.phrase) == 2
                                          and h.phrase not in engine._anchor_only])
    boundaries = set()
    for clause in _CLAUSE.finditer(compact):
        begin, end = clause.span()
        if any(begin <= h.start < end for h in short):
            pos = begin
            boundaries.add(pos)
            for token in engine.tokenizer.lcut(clause.group(), HMM=False):
                pos += len(token)
                boundaries.add(pos)
    doubtful = {id(h) for h in short}
    return [h for h in found if id(h) not in doubtful or h.start in boundaries or h.end in boundaries]


@pytest.mark.parametrize("text", [
    "集中奖励，中奖了", "中奖了！集中奖励大家", "恭喜中奖，请集中奖励", "集中奖励", "他说中奖",
    "冒充领导、熟人、亲友让我转账，集中奖励", "刷单返利，中奖，退款",
])
def test_clause_edges_are_boundaries_without_tokenizing(engine, text):
    from quizbot.chatbot.normalize import normalize

    compact = normalize(text).compact
    assert engine.inspect(normalize(text)).hits == _kept_the_long_way(engine, compact)


def _ngrams_the_long_way(compact):
    """features.ngrams as first written: punctuation runs become "|", n-grams holding one dropped."""
    text = re.sub(r"[^\u4e00-\u9fff0a-z]+", "|", re.sub(r"\d+", "0", compact))
    pairs = [a + b for a, b in zip(text, text[1:], strict=False)]
    out = {p for p in pairs if p.isalnum()}
    out.update(p + c for p, c in zip(pairs, text[2:], strict=False) if (p + c).isalnum())
    return out


def test_every_cjk_character_counts_as_alphanumeric():
    # the n-gram pattern's character class stands for "alphanumeric after folding"
    assert all(chr(code).isalnum() for code in range(0x4E00, 0xA000))


@pytest.mark.parametrize("compact", [
    "", "a", "安全", "转账到安全账户", "我转了3000元，对方说45分钟内到账!!", "abc12x9yz", "a-b_c|d",
    "ＡＢ全角", "ABC大写", "かな混じり文字", "㐀㐁扩展a区", "🙂表情🙂", "价格:1,200.50元", "é重音", "。。，，",
])
def test_ngrams_are_the_same_set_in_the_same_order(compact):
    from quizbot.chatbot.features import ngrams

    fast, slow = ngrams(compact), _ngrams_the_long_way(compact)
    assert fast == slow
    assert list(fast) == list(slow)  # same insertions in the same order: the same iteration order


def _ends_the_long_way(engine, text):
    """Token ends from jieba itself, as inspect used to get them."""
    ends, pos = [], 0
    for token in engine.tokenizer.lcut(text, HMM=False):
        pos += len(token)
        ends.append(pos)
    return ends


@pytest.mark.parametrize("text", [
    "", "a", "中", "集中奖励", "恭喜您中奖了", "abc12x9yz中奖", "q群说给抖音视频点赞", "a-b_c.d%e中文",
    "价格:1,200.50元", "🙂表情🙂", "かな混じり", "第1名a", "行\r\n转账 到 安全账户", "ＡＢ全角退款",
])
def test_word_ends_are_jiebas_on_edge_cases(engine, text):
    assert engine._word_ends(text) == _ends_the_long_way(engine, text)


def test_word_ends_are_jiebas_on_every_corpus_text_and_windows_of_it(engine):
    import random

    from quizbot.chatbot.normalize import normalize
    from scripts.train_chatbot import load_corpus

    rng = random.Random(7)
    checked = 0
    for row in load_corpus():
        compact = normalize(row["text"]).compact
        a = rng.randrange(len(compact) or 1)
        for text in (compact, compact[a:a + rng.randrange(2, 16)]):
            assert engine._word_ends(text) == _ends_the_long_way(engine, text), text
            checked += 1
    assert checked > 30_000
