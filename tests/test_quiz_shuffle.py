"""Options are shuffled per attempt: display keys in, display keys out, canonical keys stored."""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa

from quizbot.extensions import db
from quizbot.models import QuizAnswer, QuizSession
from quizbot.services import quiz as quiz_service
from quizbot.services.bank import QuestionData
from tests.test_api_errors import assert_envelope


def start(client, **payload):
    response = client.post("/api/v1/quiz/sessions", json=payload)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["data"]


def canonical(app, qid: str) -> QuestionData:
    from quizbot.services import bank as bank_service

    with app.app_context():
        return bank_service.snapshot().questions[qid]


def question(qtype: str = "single", qid: str = "q-1") -> QuestionData:
    options = ([{"key": "T", "text": "正确"}, {"key": "F", "text": "错误"}] if qtype == "judge"
               else [{"key": k, "text": f"选项{k}"} for k in "ABCDE"])
    return QuestionData(id=qid, type=qtype, stem="题干", options=options,
                        answer=["F"] if qtype == "judge" else ["B", "D"], explanation="因为……",
                        scam_type="fake_authority", difficulty=1, audiences=["general"], active=True)


def test_order_is_a_permutation_fixed_by_the_session_id():
    q = question()
    orders = {tuple(quiz_service.option_order(f"session-{i}", q)) for i in range(40)}
    assert all(sorted(o) == list("ABCDE") for o in orders)
    assert len(orders) > 10  # really shuffled, not one fixed order
    assert quiz_service.option_order("same", q) == quiz_service.option_order("same", q)


def test_display_keys_run_a_b_c_in_display_order_and_map_back():
    q = question()
    view = quiz_service.client_question("s-1", q, reveal=True)
    assert [o["key"] for o in view["options"]] == list("ABCDE")
    texts = {o["key"]: o["text"] for o in q.options}
    keys = quiz_service.key_map("s-1", q)
    for shown in view["options"]:  # each display key shows the text of the canonical key it maps to
        assert shown["text"] == texts[keys.to_canonical[shown["key"]]]
    assert keys.canonical(view["answer"]) == ["B", "D"]
    assert view["explanation"] == "因为……"


def test_judge_questions_keep_true_false_order_and_keys():
    q = question("judge")
    for i in range(10):
        view = quiz_service.client_question(f"s-{i}", q, reveal=True)
        assert [o["key"] for o in view["options"]] == ["T", "F"]
        assert view["answer"] == ["F"]


def test_the_correct_option_moves_between_attempts(quiz_client, loaded_app):
    positions = Counter()
    for _ in range(12):
        data = start(quiz_client, count=3, scam_types=["fake_authority"])
        for q in data["questions"]:
            if q["type"] == "single":
                right = canonical(loaded_app, q["id"])
                text = next(o["text"] for o in right.options if o["key"] == right.answer[0])
                positions[next(o["key"] for o in q["options"] if o["text"] == text)] += 1
    assert len(positions) >= 2, positions


def test_create_and_get_show_the_same_order(quiz_client):
    data = start(quiz_client, count=5)
    again = quiz_client.get(f"/api/v1/quiz/sessions/{data['session_id']}").get_json()["data"]
    assert again["questions"] == data["questions"]


def test_display_keys_are_scored_and_stored_canonically(quiz_client, loaded_app):
    # Find an attempt whose single-choice question shows the right answer under another letter.
    for _ in range(30):
        data = start(quiz_client, count=3, scam_types=["fake_authority"])
        q = next(x for x in data["questions"] if x["type"] == "single")
        right = canonical(loaded_app, q["id"])
        text = next(o["text"] for o in right.options if o["key"] == right.answer[0])
        shown = next(o["key"] for o in q["options"] if o["text"] == text)
        if shown != right.answer[0]:
            break
    else:
        raise AssertionError("the correct option never moved in 30 attempts")
    url = f"/api/v1/quiz/sessions/{data['session_id']}"
    result = quiz_client.post(url + "/answers", json={"answers": {q["id"]: [shown]}}).get_json()["data"]
    entry = next(r for r in result["results"] if r["question_id"] == q["id"])
    assert entry["correct"] is True
    assert entry["your_answer"] == [shown] and entry["correct_answer"] == [shown]
    later = quiz_client.get(url).get_json()["data"]["result"]
    assert later["results"] == result["results"]  # the same display keys later
    with loaded_app.app_context():
        row = db.session.execute(sa.select(QuizAnswer).where(
            QuizAnswer.session_id == data["session_id"], QuizAnswer.question_id == q["id"])).scalar_one()
        stored = db.session.get(QuizSession, data["session_id"]).result
    assert row.chosen == right.answer and row.correct  # canonical in the database
    assert next(r for r in stored["results"] if r["question_id"] == q["id"])["your_answer"] == right.answer


def test_the_canonical_letter_is_not_a_shortcut(quiz_client, loaded_app):
    """Sending the bank's own letter where the attempt shows another option is simply wrong."""
    for _ in range(30):
        data = start(quiz_client, count=3, scam_types=["fake_authority"])
        q = next(x for x in data["questions"] if x["type"] == "single")
        right = canonical(loaded_app, q["id"])
        text = next(o["text"] for o in right.options if o["key"] == right.answer[0])
        if next(o["key"] for o in q["options"] if o["text"] == text) != right.answer[0]:
            break
    url = f"/api/v1/quiz/sessions/{data['session_id']}/answers"
    result = quiz_client.post(url, json={"answers": {q["id"]: right.answer}}).get_json()["data"]
    assert next(r for r in result["results"] if r["question_id"] == q["id"])["correct"] is False


def test_a_letter_the_attempt_does_not_show_is_422(quiz_client):
    data = start(quiz_client, count=3, scam_types=["fake_authority"])
    q = next(x for x in data["questions"] if x["type"] == "single")
    missing = "ABCDEFG"[len(q["options"])]
    response = quiz_client.post(f"/api/v1/quiz/sessions/{data['session_id']}/answers",
                                json={"answers": {q["id"]: [missing]}})
    assert missing in str(assert_envelope(response, 422)["details"]["answers"][q["id"]])
