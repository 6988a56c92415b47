"""Fixtures for the officers' side: a region tree, accounts with tokens, household factories."""

from __future__ import annotations

from datetime import timedelta

import pytest

from quizbot.extensions import db
from quizbot.models import Household, Member, QuizSession, utcnow
from quizbot.services import auth as auth_service
from quizbot.services import counters
from quizbot.services import regions as region_service
from quizbot.services.households import new_invite_code

PASSWORD = "correct-horse-9"
# County C1 → towns T1, T2 → villages V1 (groups G1, G2), V2 (under T1), V3 (under T2); county C2 → V9.
TREE = [("C1", "一号县", None), ("T1", "东镇", "C1"), ("T2", "西镇", "C1"), ("V1", "甲村", "T1"),
        ("V2", "乙村", "T1"), ("V3", "丙村", "T2"), ("G1", "一组", "V1"), ("G2", "二组", "V1"),
        ("C2", "二号县", None), ("T9", "北镇", "C2"), ("V9", "丁村", "T9")]


def build_tree() -> None:
    for code, name, parent in TREE:
        region_service.create(None, code, name, parent, commit=False)
    db.session.commit()


def make_user(username: str, role: str, region: str | None) -> None:
    auth_service.create_user(username, PASSWORD, role, region)


def make_household(code: str, region: str, members: int = 2, **overrides) -> Household:
    """A household with ``members`` members in region ``region`` (a code)."""
    values = {"code": code, "region_id": region_service.get_by_code(region).id, "address": f"{code}路1号",
              "house_number": "1", "head_name": "张三", "phone": "13812341234",
              "invite_code": new_invite_code(), "member_count": members}
    values.update(overrides)
    household = Household(**values)
    db.session.add(household)
    db.session.flush()
    for i in range(members):
        db.session.add(Member(household_id=household.id, name=f"成员{i}", tags=[]))
    counters.add(household.region_id, households_total=1, members_total=members)
    db.session.commit()
    return household


@pytest.fixture
def officer_app(loaded_app):
    """The app with the mini bank, the region tree and one account per role."""
    with loaded_app.app_context():
        build_tree()
        make_user("root", "admin", None)
        make_user("county", "county_admin", "C1")
        make_user("station", "station_admin", "T1")
        make_user("officer", "officer", "V1")
        make_user("grid", "grid_worker", "G1")
        make_user("other_county", "county_admin", "C2")
        make_user("other_village", "officer", "V2")
    return loaded_app


@pytest.fixture
def oclient(officer_app):
    return officer_app.test_client()


def login(client, username: str, password: str = PASSWORD) -> str:
    response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]["token"]


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def tokens(oclient):
    """Header dicts per username."""
    return {name: auth(login(oclient, name)) for name in
            ("root", "county", "station", "officer", "grid", "other_county", "other_village")}


def age_session(app, session_id: str, seconds: int = 120) -> None:
    """Pretend a quiz was started ``seconds`` ago (so it is not flagged as too fast)."""
    with app.app_context():
        session = db.session.get(QuizSession, session_id)
        session.created_at = utcnow() - timedelta(seconds=seconds)
        db.session.commit()
