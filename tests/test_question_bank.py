"""The real question bank meets the floors of issue #3; CI fails if it regresses."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from quizbot.bank import Floors, load_bank, validate_bank
from quizbot.bank.taxonomy import ALL_IDS, AUDIENCES, SCAM_TYPE_IDS
from tests.conftest import REAL_BANK_DIR


@pytest.fixture(scope="module")
def bank():
    return load_bank(REAL_BANK_DIR)


def test_real_bank_passes_every_rule_and_floor(bank):
    assert validate_bank(bank, Floors()) == []


def test_one_knowledge_entry_per_taxonomy_id(bank):
    assert [s.id for s in bank.scam_types] == list(ALL_IDS)
    for entry in bank.scam_types:
        if entry.kind == "scam":
            assert len(entry.red_flags) >= 15, entry.id
            assert len(entry.warning) <= 60 and 2 <= len(entry.advice) <= 5
            assert entry.aliases and entry.summary and entry.sources


def test_question_floors(bank):
    per_type = Counter(q.scam_type for q in bank.questions)
    assert len(bank.questions) >= 360
    assert all(per_type[t] >= 12 for t in SCAM_TYPE_IDS)
    assert per_type["prevention_basics"] >= 30 and per_type["child_safety"] >= 8
    per_qtype = Counter(q.type for q in bank.questions)
    assert all(per_qtype[t] >= 60 for t in ("single", "multiple", "judge"))
    per_audience = Counter(a for q in bank.questions for a in set(q.audiences))
    assert all(per_audience[a] >= 40 for a in AUDIENCES)
    for type_id in SCAM_TYPE_IDS:
        assert {q.difficulty for q in bank.questions if q.scam_type == type_id} == {1, 2, 3}


def test_elderly_stems_are_short(bank):
    assert all(len(q.stem) <= 60 for q in bank.questions if "elderly" in q.audiences)


def test_hotline_facts_are_right(bank):
    """96110 is the warning and advice line; fraud is reported to 110."""
    texts = [q.stem + q.explanation + " ".join(o["text"] for o in q.options) for q in bank.questions]
    texts += [s.summary + s.warning + " ".join(s.advice) for s in bank.scam_types]
    wrong = re.compile(r"96110\s*报警|报警电话\s*96110|拨打\s*96110\s*报案")
    assert not [t for t in texts if wrong.search(t)]


def test_multiple_choice_answers_are_not_all_options(bank):
    for q in bank.questions:
        if q.type == "multiple":
            assert 2 <= len(q.answer) < len(q.options), q.id


def test_naive_strategies_score_at_most_40_percent(bank):
    """Always the longest option, always B, or the option echoing the stem must not pass."""
    from quizbot.bank import naive_strategy_scores

    singles = [q for q in bank.questions if q.type == "single"]
    assert len(singles) >= 150
    scores = naive_strategy_scores(bank)
    assert set(scores) == {"longest", "always_b", "stem_keywords"}
    for name, score in scores.items():
        assert score <= 0.40, (name, score)


def test_explanations_never_name_an_option_letter(bank):
    """Options are shuffled per session, so "选B" in an explanation would be wrong on screen."""
    letter = re.compile(r"(选项|答案|选)\s*[A-F](?![A-Za-z])|[A-F]\s*(项|选项)|[（(][A-F][)）]")
    assert [q.id for q in bank.questions if letter.search(q.explanation)] == []


def test_no_verdict_is_written_into_an_option(bank):
    verdict = re.compile(r"[，,]\s*(这|那)是(诈骗|骗局|骗人的)")
    assert [q.id for q in bank.questions
            if any(verdict.search(o["text"]) for o in q.options)] == []


def test_12381_is_taught(bank):
    """The official warning-SMS sender: in the knowledge base and in at least three questions."""
    entry = bank.scam_type("prevention_basics")
    assert "12381" in entry.summary + " ".join(entry.advice)
    texts = [q.stem + q.explanation + " ".join(o["text"] for o in q.options) for q in bank.questions]
    assert sum("12381" in t for t in texts) >= 3


def test_elderly_questions_avoid_jargon(bank):
    jargon = re.compile(r"两卡|联单|App|APP")
    assert [q.id for q in bank.questions if "elderly" in q.audiences
            and jargon.search(q.stem + " ".join(o["text"] for o in q.options))] == []
