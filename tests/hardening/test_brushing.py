"""刷数 by a determined grid worker: one phone or one network answering for many households.

The attack from issue 12: no ``client_id``, realistic pauses, one quiz per household, 40
households from one address. Whatever the script changes (client id, cookies, user agent),
the server's own signals count it, and the run ends with the households held for review.
"""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from quizbot.device import DEVICE_COOKIE
from quizbot.extensions import db
from quizbot.models import Household, IntegrityFlag, QuizSession
from quizbot.services.integrity import MAX_HOUSEHOLDS_PER_HOUR, MAX_HOUSEHOLDS_PER_NETWORK_HOUR
from tests.officers.conftest import age_session, make_household
from tests.test_quiz_api import correct_answers

ATTACK_HOUSEHOLDS = 40


@pytest.fixture
def app_for_attack(officer_app):
    """A fresh client (its own cookie jar) on the officers' app."""
    return officer_app.test_client(), officer_app


def _households(app, n, prefix="A"):
    with app.app_context():
        return [make_household(f"{prefix}{i}", "G1", members=1).invite_code for i in range(n)]


def _answer(client, app, invite, *, ip="10.1.2.3", user_agent="phone", client_id=None):
    participant = {"invite_code": invite}
    if client_id:
        participant["client_id"] = client_id
    env = {"REMOTE_ADDR": ip}
    started = client.post("/api/v1/quiz/sessions", json={"count": 5, "participant": participant},
                          headers={"User-Agent": user_agent}, environ_base=env)
    assert started.status_code == 201, started.get_json()
    session_id = started.get_json()["data"]["session_id"]
    age_session(app, session_id, 5 * 3)  # 3 s per question: the too-fast rule does not fire
    done = client.post(f"/api/v1/quiz/sessions/{session_id}/answers",
                       json={"answers": correct_answers(app, session_id)},
                       headers={"User-Agent": user_agent}, environ_base=env)
    assert done.status_code == 200
    return done.get_json()["data"]


def _tally(app):
    with app.app_context():
        credited = db.session.execute(sa.select(sa.func.count()).select_from(Household)
                                      .where(Household.quiz_count > 0)).scalar_one()
        held = db.session.execute(sa.select(IntegrityFlag.reasons).where(
            IntegrityFlag.kind == "quiz", IntegrityFlag.status == "pending")).scalars().all()
        return credited, held


def test_the_issue_attack_ends_held(oclient, officer_app):
    invites = _households(officer_app, ATTACK_HOUSEHOLDS)
    answers = [_answer(oclient, officer_app, code) for code in invites]
    credited, held = _tally(officer_app)
    assert credited == MAX_HOUSEHOLDS_PER_HOUR
    assert len(held) == ATTACK_HOUSEHOLDS - MAX_HOUSEHOLDS_PER_HOUR
    assert all("device_many_households" in reasons for reasons in held)
    # The resident (here: the script) is told the quiz counts only after a check.
    assert [a["held_for_review"] for a in answers].count(True) == len(held)


def test_changing_client_id_cookie_and_user_agent_does_not_reset_the_count(app_for_attack):
    client, app = app_for_attack
    invites = _households(app, ATTACK_HOUSEHOLDS)
    for i, code in enumerate(invites):
        client.delete_cookie(DEVICE_COOKIE)
        _answer(client, app, code, user_agent=f"phone-{i}", client_id=uuid.uuid4().hex)
    credited, held = _tally(app)
    assert credited == MAX_HOUSEHOLDS_PER_NETWORK_HOUR
    assert len(held) == ATTACK_HOUSEHOLDS - MAX_HOUSEHOLDS_PER_NETWORK_HOUR
    assert all(reasons == ["network_many_households"] for reasons in held)
    with app.app_context():  # only keyed hashes are stored, never the address
        keys = db.session.execute(sa.select(QuizSession.network_key).distinct()).scalars().all()
        assert len(keys) == 1 and "10.1.2.3" not in keys[0]


def test_a_village_on_its_own_phones_is_not_held(app_for_attack):
    client, app = app_for_attack
    invites = _households(app, 2 * MAX_HOUSEHOLDS_PER_HOUR)
    for i, code in enumerate(invites):
        client.delete_cookie(DEVICE_COOKIE)
        _answer(client, app, code, ip=f"10.9.0.{i + 1}", user_agent=f"phone-{i}")
    assert _tally(app) == (2 * MAX_HOUSEHOLDS_PER_HOUR, [])


def test_a_phone_keeping_our_cookie_is_one_device_whatever_its_user_agent(app_for_attack):
    client, app = app_for_attack
    invites = _households(app, MAX_HOUSEHOLDS_PER_HOUR + 1)
    assert client.post("/api/v1/quiz/sessions", json={"count": 1}).status_code == 201  # gets the cookie
    for i, code in enumerate(invites):  # new address and user agent each time, same cookie
        _answer(client, app, code, ip=f"10.8.{i}.1", user_agent=f"ua-{i}")
    credited, held = _tally(app)
    assert credited == MAX_HOUSEHOLDS_PER_HOUR and held == [["device_many_households"]]


def test_a_forged_device_cookie_is_not_believed(app_for_attack):
    client, app = app_for_attack
    invites = _households(app, 2)
    for code in invites:
        client.set_cookie(DEVICE_COOKIE, "a" * 32)  # unsigned: ignored, a signed one is issued
        started = client.post("/api/v1/quiz/sessions", json={"count": 1, "participant": {"invite_code": code}},
                              headers={"User-Agent": "x"})
        cookie = started.headers.get("Set-Cookie", "")
        assert cookie.startswith(f"{DEVICE_COOKIE}=") and "HttpOnly" in cookie and "a" * 32 + ";" not in cookie
    with app.app_context():
        keys = db.session.execute(sa.select(QuizSession.device_key)).scalars().all()
        assert len(set(keys)) == 1 and not keys[0].startswith("c-")  # IP + user agent, not the forged id


def test_ipv6_phones_are_one_network_per_64(officer_app):
    from quizbot.device import network_key

    with officer_app.test_request_context():
        assert network_key("2001:db8:1:2::5") == network_key("2001:db8:1:2:ffff::9")
        assert network_key("2001:db8:1:3::5") != network_key("2001:db8:1:2::5")
        assert network_key("::ffff:10.1.2.3") == network_key("10.1.2.3")
        assert network_key("not an address") is not None and network_key("") is None
