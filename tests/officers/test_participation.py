"""Invite codes credit households and members; campaign codes credit regions; visits; integrity."""

from __future__ import annotations

import uuid
from datetime import timedelta

import sqlalchemy as sa

from quizbot.extensions import db
from quizbot.models import Household, IntegrityFlag, Member, QuizSession, utcnow
from quizbot.services.households import find_by_invite_code
from tests.officers.conftest import age_session, make_household
from tests.test_api_errors import assert_envelope
from tests.test_quiz_api import correct_answers


def household(app, code="H1", region="G1"):
    with app.app_context():
        h = make_household(code, region)
        member_id = db.session.execute(sa.select(Member.id).where(Member.household_id == h.id)).scalars().first()
        return h.invite_code, member_id


def quiz(client, app, participant, *, age=120, count=4):
    started = client.post("/api/v1/quiz/sessions", json={"count": count, "participant": participant})
    assert started.status_code == 201, started.get_json()
    session_id = started.get_json()["data"]["session_id"]
    if age:
        age_session(app, session_id, age)
    answers = correct_answers(app, session_id)
    assert client.post(f"/api/v1/quiz/sessions/{session_id}/answers", json={"answers": answers}).status_code == 200
    return session_id


def test_find_by_invite_code(officer_app):
    code, _ = household(officer_app)
    with officer_app.app_context():
        assert find_by_invite_code(code).code == "H1"
        assert find_by_invite_code("nope") is None and find_by_invite_code("x" * 40) is None


def test_invite_code_credits_household_and_member_once(oclient, officer_app, tokens):
    code, member_id = household(officer_app)
    session_id = quiz(oclient, officer_app, {"invite_code": code, "member_id": member_id})
    # Sending the same answers again does not count twice.
    answers = correct_answers(officer_app, session_id)
    oclient.post(f"/api/v1/quiz/sessions/{session_id}/answers", json={"answers": answers})
    data = oclient.get("/api/v1/households/H1", headers=tokens["officer"]).get_json()["data"]
    assert data["quizzed"] is True and data["quiz_count"] == 1 and data["members_quizzed"] == 1
    assert data["average_score"] == 100
    assert [m["quizzed"] for m in data["members"]] == [True, False]


def test_unknown_invite_code_or_foreign_member_is_422(oclient, officer_app):
    _code, member_id = household(officer_app, "H1")
    other_code, _ = household(officer_app, "H2")
    error = assert_envelope(oclient.post("/api/v1/quiz/sessions",
                                         json={"participant": {"invite_code": "nope"}}), 422)
    assert "invite_code" in error["details"]["participant"]
    error = assert_envelope(oclient.post("/api/v1/quiz/sessions", json={
        "participant": {"invite_code": other_code, "member_id": member_id}}), 422)
    assert "member_id" in error["details"]["participant"]
    assert_envelope(oclient.post("/api/v1/quiz/sessions", json={"participant": {"member_id": "x"}}), 422)


def test_campaign_code_credits_region(oclient, officer_app, tokens):
    made = oclient.post("/api/v1/campaign-codes", headers=tokens["officer"], json={"region": "V1", "name": "群推送"})
    assert made.status_code == 201
    code = made.get_json()["data"]["code"]
    quiz(oclient, officer_app, {"invite_code": code})
    coverage = oclient.get("/api/v1/coverage", query_string={"region": "V1"}, headers=tokens["officer"]).get_json()
    assert coverage["data"]["quiz_attempts"] == 1 and coverage["data"]["households_quizzed"] == 0


def test_too_fast_quiz_is_held_until_reviewed(oclient, officer_app, tokens):
    code, _ = household(officer_app)
    session_id = quiz(oclient, officer_app, {"invite_code": code}, age=0)
    assert oclient.get("/api/v1/households/H1", headers=tokens["officer"]).get_json()["data"]["quizzed"] is False
    flags = oclient.get("/api/v1/integrity/flags", query_string={"region": "V1"}, headers=tokens["station"])
    item = flags.get_json()["data"][0]
    assert item["session_id"] == session_id and item["reasons"] == ["too_fast"]
    assert_envelope(oclient.post(f"/api/v1/integrity/flags/{item['id']}", json={"decision": "accept"},
                                 headers=tokens["officer"]), 403)
    assert_envelope(oclient.post(f"/api/v1/integrity/flags/{item['id']}", json={"decision": "maybe"},
                                 headers=tokens["station"]), 422)
    ok = oclient.post(f"/api/v1/integrity/flags/{item['id']}", json={"decision": "accept"}, headers=tokens["station"])
    assert ok.get_json()["data"]["status"] == "accepted"
    assert oclient.get("/api/v1/households/H1", headers=tokens["officer"]).get_json()["data"]["quizzed"] is True
    assert_envelope(oclient.post(f"/api/v1/integrity/flags/{item['id']}", json={"decision": "accept"},
                                 headers=tokens["station"]), 409)
    assert_envelope(oclient.post("/api/v1/integrity/flags/999", json={"decision": "accept"},
                                 headers=tokens["station"]), 404)


def test_one_device_for_many_households_is_flagged(oclient, officer_app):
    codes = [household(officer_app, f"H{i}")[0] for i in range(12)]
    for code in codes:
        quiz(oclient, officer_app, {"invite_code": code, "client_id": "phone-1"}, count=1, age=30)
    with officer_app.app_context():
        flagged = db.session.execute(sa.select(IntegrityFlag.reasons)).scalars().all()
        assert flagged == [["device_many_households"]] * 2  # the 11th and the 12th household
        assert db.session.execute(sa.select(sa.func.count()).select_from(Household)
                                  .where(Household.quiz_count > 0)).scalar_one() == 10
        held = db.session.execute(sa.select(QuizSession).where(QuizSession.credited.is_(False),
                                                               QuizSession.submitted_at.is_not(None))).scalars().all()
        assert len(held) == 2


def visit(client, headers, **overrides):
    body = {"id": str(uuid.uuid4()), "household": "H1", "outcome": "not_home",
            "visited_at": utcnow().isoformat(), "latitude": 30.1, "longitude": 120.2, "note": "敲门无人"}
    body.update(overrides)
    return client.post("/api/v1/visits", json=body, headers=headers), body


def test_visit_is_recorded_and_resending_is_harmless(oclient, officer_app, tokens):
    household(officer_app)
    first, body = visit(oclient, tokens["grid"])
    assert first.status_code == 201
    data = first.get_json()["data"]
    assert data["id"] == body["id"] and data["officer"] == "grid" and data["held_for_review"] is False
    again = oclient.post("/api/v1/visits", json=body, headers=tokens["grid"])
    assert again.status_code == 200 and again.get_json()["data"] == data
    changed = oclient.post("/api/v1/visits", json={**body, "outcome": "refused"}, headers=tokens["grid"])
    assert_envelope(changed, 409, "visit_conflict")
    h = oclient.get("/api/v1/households/H1", headers=tokens["officer"]).get_json()["data"]
    assert h["visited"] is True and h["last_visit_outcome"] == "not_home"
    # A visit sent late (older) does not replace the latest outcome.
    visit(oclient, tokens["grid"], outcome="completed",
          visited_at=(utcnow() - timedelta(days=1)).isoformat())
    assert oclient.get("/api/v1/households/H1", headers=tokens["officer"]).get_json()["data"][
        "last_visit_outcome"] == "not_home"


def test_visit_bad_inputs(oclient, officer_app, tokens):
    household(officer_app)
    cases = [({"outcome": "partied"}, "outcome"), ({"visited_at": "yesterday"}, "visited_at"),
             ({"visited_at": "2026-01-01T10:00:00"}, "visited_at"), ({"latitude": 91}, "latitude"),
             ({"latitude": "north"}, "latitude"), ({"note": "长" * 501}, "note"), ({"id": "short"}, "id"),
             ({"household": 5}, "household"), ({"extra": 1}, "extra"),
             ({"visited_at": (utcnow() + timedelta(days=1)).isoformat()}, "visited_at"),
             ({"latitude": 30.0, "longitude": None}, "location")]
    for override, field in cases:
        response, _ = visit(oclient, tokens["grid"], **override)
        assert field in assert_envelope(response, 422)["details"], (override, response.get_json())
    response, _ = visit(oclient, tokens["grid"], household="NOPE")
    assert_envelope(response, 404, "household_not_found")
    response, _ = visit(oclient, tokens["other_village"])
    assert_envelope(response, 404, "household_not_found")
    missing = oclient.post("/api/v1/visits", json={}, headers=tokens["grid"])
    assert {"id", "household", "outcome", "visited_at"} <= set(assert_envelope(missing, 422)["details"])
