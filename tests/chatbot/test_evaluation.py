"""The engine on the team's labelled cases: the floors from issue #4."""

from __future__ import annotations

from collections import Counter

import pytest

from quizbot.bank.taxonomy import SCAM_TYPE_IDS
from scripts.evaluate_chatbot import evaluate, load_cases
from tests.conftest import ROOT

CASES = ROOT / "tests" / "data" / "chat_cases.yaml"


@pytest.fixture(scope="module")
def cases():
    return load_cases(CASES)


@pytest.fixture(scope="module")
def report(engine, cases):
    return evaluate(engine, cases)


def test_case_set_meets_its_floors(cases):
    assert len(cases) >= 450
    per_type = Counter(c["scam_type"] for c in cases if c["is_scam"])
    assert all(per_type[t] >= 15 for t in SCAM_TYPE_IDS), per_type
    assert sum(1 for c in cases if not c["is_scam"]) >= 120
    assert all(c["scam_type"] in SCAM_TYPE_IDS for c in cases if c["is_scam"])


def test_recall_at_least_95_percent(report):
    assert report.recall >= 0.95, report.per_type_recall


def test_non_scam_warned_at_most_3_percent(report):
    assert report.nonscam_warned <= 0.03


def test_top1_type_accuracy_at_least_85_percent(report):
    assert report.top1_accuracy >= 0.85, report.confusions
