"""The resident quiz: drawing, scoring once, idempotent resubmission, bad input."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import sqlalchemy as sa

from quizbot.extensions import db
from quizbot.models import QuizAnswer, QuizSession, utcnow
from tests.conftest import MINI_TYPES
from tests.test_api_errors import assert_envelope


def start(client, **payload):
    response = client.post("/api/v1/quiz/sessions", json=payload)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["data"]


def correct_answers(app, session_id):
    """The right answers in this attempt's display keys (options are shuffled per attempt)."""
    from quizbot.services import quiz as quiz_service

    with app.app_context():
        session = db.session.get(QuizSession, session_id)
        return {q["id"]: q["answer"] for q in quiz_service.client_questions(session, reveal=True)}


def test_session_has_questions_without_answers(quiz_client):
    data = start(quiz_client, count=6)
    assert len(data["questions"]) == 6
    for q in data["questions"]:
        assert set(q) == {"id", "type", "stem", "options", "scam_type"}
    text = str(data)
    assert "explanation" not in text and "answer" not in text


def test_session_ids_are_opaque_and_unique(quiz_client):
    ids = {start(quiz_client, count=1)["session_id"] for _ in range(5)}
    assert len(ids) == 5
    assert all(len(i) >= 32 and not i.isdigit() for i in ids)


def test_default_count_is_ten(quiz_client):
    assert len(start(quiz_client)["questions"]) == 10


def test_draw_mixes_types_and_difficulties(quiz_client):
    questions = start(quiz_client, count=9)["questions"]
    assert len({q["id"] for q in questions}) == 9
    assert Counter(q["scam_type"] for q in questions) == {t: 3 for t in MINI_TYPES}


def test_draw_balances_difficulty(loaded_app):
    import random

    from quizbot.services import bank as bank_service
    from quizbot.services.quiz import draw_questions

    with loaded_app.app_context():
        pool = bank_service.snapshot().active
    for seed in range(20):
        chosen = draw_questions(pool, 6, random.Random(seed))
        assert Counter(q.difficulty for q in chosen) == {1: 2, 2: 2, 3: 2}


def test_scam_type_filter(quiz_client):
    questions = start(quiz_client, count=4, scam_types=["fake_authority"])["questions"]
    assert {q["scam_type"] for q in questions} == {"fake_authority"}


def test_unknown_scam_type_is_422(quiz_client):
    response = quiz_client.post("/api/v1/quiz/sessions", json={"scam_types": ["nope"]})
    assert "scam_types" in assert_envelope(response, 422)["details"]


def test_audience_is_followed(quiz_client, loaded_app):
    from quizbot.services import bank as bank_service

    questions = start(quiz_client, count=6, audience="elderly")["questions"]
    with loaded_app.app_context():
        snap = bank_service.snapshot()
    assert all("elderly" in snap.questions[q["id"]].audiences for q in questions)


def test_count_out_of_range_is_422(quiz_client):
    for count in (0, 31, -1):
        response = quiz_client.post("/api/v1/quiz/sessions", json={"count": count})
        assert "count" in assert_envelope(response, 422)["details"]


def test_no_bank_is_503(client):
    assert_envelope(client.post("/api/v1/quiz/sessions", json={}), 503, "bank_not_loaded")


def test_same_participant_gets_fresh_questions(quiz_client):
    participant = {"client_id": "phone-1"}
    first = {q["id"] for q in start(quiz_client, count=6, participant=participant)["questions"]}
    second = {q["id"] for q in start(quiz_client, count=6, participant=participant)["questions"]}
    third = {q["id"] for q in start(quiz_client, count=6, participant=participant)["questions"]}
    assert not first & second and not (first | second) & third


def test_perfect_submission_scores_100_and_stores_every_answer(quiz_client, loaded_app):
    data = start(quiz_client, count=5)
    answers = correct_answers(loaded_app, data["session_id"])
    response = quiz_client.post(f"/api/v1/quiz/sessions/{data['session_id']}/answers",
                                json={"answers": answers})
    assert response.status_code == 200
    result = response.get_json()["data"]
    assert (result["score"], result["correct_count"], result["total"]) == (100, 5, 5)
    assert result["weak_scam_types"] == []
    assert all(r["correct"] and r["explanation"] for r in result["results"])
    with loaded_app.app_context():
        rows = db.session.execute(sa.select(QuizAnswer)).scalars().all()
        session = db.session.get(QuizSession, data["session_id"])
    assert len(rows) == 5 and all(r.correct for r in rows)
    assert session.bank_version and session.duration_seconds is not None


def test_wrong_and_missing_answers_score_and_name_weak_types(quiz_client, loaded_app):
    data = start(quiz_client, count=4)
    answers = correct_answers(loaded_app, data["session_id"])
    ids = list(answers)
    first = next(q for q in data["questions"] if q["id"] == ids[0])
    answers[ids[0]] = [next(o["key"] for o in first["options"] if [o["key"]] != answers[ids[0]])]
    wrong_type = first["scam_type"]
    del answers[ids[1]]
    result = quiz_client.post(f"/api/v1/quiz/sessions/{data['session_id']}/answers",
                              json={"answers": answers}).get_json()["data"]
    assert result["correct_count"] == 2 and result["score"] == 50
    assert wrong_type in [w["id"] for w in result["weak_scam_types"]]
    missing = next(r for r in result["results"] if r["question_id"] == ids[1])
    assert missing["your_answer"] == [] and missing["correct"] is False
    assert any("96110" in line for line in result["advice"])


def test_resubmitting_the_same_answers_returns_stored_result(quiz_client, loaded_app):
    data = start(quiz_client, count=3)
    answers = correct_answers(loaded_app, data["session_id"])
    url = f"/api/v1/quiz/sessions/{data['session_id']}/answers"
    first = quiz_client.post(url, json={"answers": answers}).get_json()
    # same answers, different order and case: the same submission
    reordered = {k: [x.lower() for x in v] for k, v in reversed(list(answers.items()))}
    second = quiz_client.post(url, json={"answers": reordered})
    assert second.status_code == 200 and second.get_json() == first
    with loaded_app.app_context():
        count = db.session.execute(sa.select(sa.func.count()).select_from(QuizAnswer)).scalar()
    assert count == 3  # never double-counted


def test_different_submission_after_first_is_409(quiz_client, loaded_app):
    data = start(quiz_client, count=2)
    url = f"/api/v1/quiz/sessions/{data['session_id']}/answers"
    answers = correct_answers(loaded_app, data["session_id"])
    quiz_client.post(url, json={"answers": answers})
    first = data["questions"][0]
    answers[first["id"]] = [next(o["key"] for o in first["options"] if [o["key"]] != answers[first["id"]])]
    assert_envelope(quiz_client.post(url, json={"answers": answers}), 409, "already_submitted")


def test_submission_after_expiry_is_409(quiz_client, loaded_app):
    data = start(quiz_client, count=2)
    with loaded_app.app_context():
        session = db.session.get(QuizSession, data["session_id"])
        session.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    url = f"/api/v1/quiz/sessions/{data['session_id']}/answers"
    answers = correct_answers(loaded_app, data["session_id"])
    assert_envelope(quiz_client.post(url, json={"answers": answers}), 409, "session_expired")
    state = quiz_client.get(f"/api/v1/quiz/sessions/{data['session_id']}").get_json()["data"]
    assert state["state"] == "expired" and state["result"] is None


def test_unknown_session_is_404(quiz_client):
    assert_envelope(quiz_client.post("/api/v1/quiz/sessions/nope/answers",
                                     json={"answers": {"q": ["A"]}}), 404, "session_not_found")
    assert_envelope(quiz_client.get("/api/v1/quiz/sessions/" + "x" * 300), 404)


def test_answers_for_questions_not_in_session_are_named(quiz_client):
    data = start(quiz_client, count=2)
    response = quiz_client.post(f"/api/v1/quiz/sessions/{data['session_id']}/answers",
                                json={"answers": {"not-a-question": ["A"]}})
    error = assert_envelope(response, 422)
    assert "not-a-question" in error["details"]["answers"]


def test_bad_keys_and_shapes_are_named(quiz_client):
    data = start(quiz_client, count=3, scam_types=["fake_authority"])
    q = data["questions"]
    single = next((x for x in q if x["type"] in ("single", "judge")), q[0])
    answers = {q[0]["id"]: ["Z"], q[1]["id"]: 5, q[2]["id"]: [1, 2]}
    response = quiz_client.post(f"/api/v1/quiz/sessions/{data['session_id']}/answers",
                                json={"answers": answers})
    details = assert_envelope(response, 422)["details"]["answers"]
    assert set(details) == {x["id"] for x in q}
    two = {single["id"]: [o["key"] for o in single["options"]][:2]}
    response = quiz_client.post(f"/api/v1/quiz/sessions/{data['session_id']}/answers",
                                json={"answers": two})
    assert single["id"] in assert_envelope(response, 422)["details"]["answers"]


def test_answers_missing_or_wrong_type_is_422(quiz_client):
    data = start(quiz_client, count=1)
    url = f"/api/v1/quiz/sessions/{data['session_id']}/answers"
    assert "answers" in assert_envelope(quiz_client.post(url, json={}), 422)["details"]
    assert "answers" in assert_envelope(quiz_client.post(url, json={"answers": [1]}), 422)["details"]


def test_bad_submission_loses_nothing(quiz_client, loaded_app):
    data = start(quiz_client, count=2)
    url = f"/api/v1/quiz/sessions/{data['session_id']}/answers"
    quiz_client.post(url, json={"answers": {"bogus": ["A"]}})
    answers = correct_answers(loaded_app, data["session_id"])
    assert quiz_client.post(url, json={"answers": answers}).get_json()["data"]["score"] == 100


def test_get_session_shows_result_only_after_submission(quiz_client, loaded_app):
    data = start(quiz_client, count=2)
    url = f"/api/v1/quiz/sessions/{data['session_id']}"
    before = quiz_client.get(url).get_json()["data"]
    assert before["state"] == "open" and before["result"] is None
    assert "answer" not in str(before["questions"])
    answers = correct_answers(loaded_app, data["session_id"])
    quiz_client.post(url + "/answers", json={"answers": answers})
    after = quiz_client.get(url).get_json()["data"]
    assert after["state"] == "submitted" and after["result"]["score"] == 100


def test_scam_types_endpoints(quiz_client):
    items = quiz_client.get("/api/v1/scam-types").get_json()["data"]
    assert [i["id"] for i in items] == list(MINI_TYPES)
    one = quiz_client.get("/api/v1/scam-types/fake_authority").get_json()["data"]
    assert one["warning"] and one["advice"] and one["red_flags"]
    assert_envelope(quiz_client.get("/api/v1/scam-types/nope"), 404, "scam_type_not_found")
