"""Draws that fit the audience, and a create response that says when it drew fewer."""

from __future__ import annotations

import random

import pytest

from quizbot.bank import load_bank
from quizbot.services import quiz as quiz_service
from quizbot.services.bank import QuestionData
from tests.conftest import make_question, make_scam_type, write_bank
from tests.test_api_errors import assert_envelope

TYPES = ("fake_authority", "shuadan_rebate", "child_safety")


def _q(qid: str, scam_type: str, audiences: list[str], n: int) -> dict:
    return make_question(qid, scam_type, audiences=audiences, difficulty=n % 3 + 1,
                         stem=f"{qid}：第{n}种情况下您该怎么办{'甲乙丙丁戊己庚辛壬癸子丑寅卯辰'[n % 15] * (n % 7 + 1)}")


@pytest.fixture
def draw_client(app, tmp_path):
    """4 elderly questions, 20 general ones, and child_safety: 2 written for children, 1 for adults."""
    from quizbot.services import bank as bank_service

    questions = [_q(f"fa-e{i}", "fake_authority", ["elderly"], i) for i in range(4)]
    questions += [_q(f"sr-g{i}", "shuadan_rebate", ["general"], i) for i in range(20)]
    questions += [_q(f"cs-kid{i}", "child_safety", ["parent", "student"], i) for i in range(2)]
    questions += [_q("cs-adult", "child_safety", ["general", "parent"], 9)]
    bank_dir = write_bank(tmp_path / "bank", [make_scam_type(t) for t in TYPES], questions)
    with app.app_context():
        bank_service.import_bank(load_bank(bank_dir))
    return app.test_client()


def create(client, **payload):
    response = client.post("/api/v1/quiz/sessions", json=payload)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_elderly_draw_is_at_least_70_percent_elderly_and_says_it_drew_fewer(draw_client):
    body = create(draw_client, count=10, audience="elderly")
    ids = [q["id"] for q in body["data"]["questions"]]
    elderly = [i for i in ids if i.startswith("fa-e")]
    assert len(elderly) == 4 and len(elderly) / len(ids) >= 0.7  # 4 tagged + 1 general = 80%
    assert body["meta"]["requested"] == 10 and body["meta"]["drawn"] == len(ids) == 5
    assert "5" in body["meta"]["message"]
    assert not any(i.startswith("cs-") for i in ids)  # no child questions for the elderly


def test_full_draw_has_no_shortfall_message(draw_client):
    body = create(draw_client, count=3, audience="general")
    assert body["meta"] == {"requested": 3, "drawn": 3}


def test_a_type_with_fewer_questions_than_asked_is_reported(draw_client):
    body = create(draw_client, count=30, scam_types=["shuadan_rebate"])
    assert body["meta"]["drawn"] == 20 and len(body["data"]["questions"]) == 20


def test_child_questions_only_for_students_parents_or_when_tagged(draw_client):
    anyone = create(draw_client, count=5, scam_types=["child_safety"])
    assert [q["id"] for q in anyone["data"]["questions"]] == ["cs-adult"]
    assert anyone["meta"] == {"requested": 5, "drawn": 1, "message": anyone["meta"]["message"]}
    parents = create(draw_client, count=5, scam_types=["child_safety"], audience="parent")
    assert {q["id"] for q in parents["data"]["questions"]} == {"cs-kid0", "cs-kid1", "cs-adult"}
    students = create(draw_client, count=5, scam_types=["child_safety"], audience="student")
    assert {q["id"] for q in students["data"]["questions"]} == {"cs-kid0", "cs-kid1"}


def test_a_filter_that_leaves_nothing_is_422(draw_client):
    response = draw_client.post("/api/v1/quiz/sessions",
                                json={"count": 5, "scam_types": ["child_safety"], "audience": "elderly"})
    assert "scam_types" in assert_envelope(response, 422)["details"]


def _data(qid: str, scam_type: str, audiences: list[str]) -> QuestionData:
    return QuestionData(id=qid, type="single", stem=qid, options=[], answer=["A"], explanation="",
                        scam_type=scam_type, difficulty=int(qid[-1]) % 3 + 1, audiences=audiences,
                        active=True)


@pytest.mark.parametrize("tagged", [1, 3, 7, 10, 30])
def test_share_holds_for_every_pool_size(tagged):
    pool = [_data(f"t{i}", "fake_authority", ["elderly"]) for i in range(tagged)]
    pool += [_data(f"g{i}", "shuadan_rebate", ["general"]) for i in range(30)]
    for count in (1, 5, 10, 30):
        drawn = quiz_service.draw_for_audience(pool, count, "elderly", random.Random(count))
        share = sum("elderly" in q.audiences for q in drawn) / len(drawn)
        assert share >= 0.7 and len(drawn) <= count
        assert len(drawn) == min(count, tagged + int(tagged * 3 / 7 + 1e-9))
