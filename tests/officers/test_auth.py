"""Sign-in, tokens, lockout, rate limit, password change and the accounts CLI."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from quizbot.extensions import db
from quizbot.models import AuditLog, AuthToken, LoginThrottle, utcnow
from tests.officers.conftest import PASSWORD, auth, login
from tests.test_api_errors import assert_envelope


def test_login_returns_bearer_token_with_expiry(oclient, officer_app):
    response = oclient.post("/api/v1/auth/login", json={"username": "officer", "password": PASSWORD})
    data = response.get_json()["data"]
    assert response.status_code == 200
    assert data["token_type"] == "Bearer" and len(data["token"]) >= 40 and data["expires_at"]
    assert data["user"] == {"username": "officer", "role": "officer", "region": "V1", "active": True}
    me = oclient.get("/api/v1/auth/me", headers=auth(data["token"]))
    assert me.get_json()["data"]["username"] == "officer"
    with officer_app.app_context():  # only a hash is stored
        stored = db.session.execute(sa.select(AuthToken.token_hash)).scalars().all()
        assert data["token"] not in stored and len(stored[0]) == 64


def test_wrong_password_and_unknown_user_look_the_same(oclient):
    a = oclient.post("/api/v1/auth/login", json={"username": "officer", "password": "nope-nope"})
    b = oclient.post("/api/v1/auth/login", json={"username": "ghost", "password": "nope-nope"})
    assert assert_envelope(a, 401, "bad_credentials")["message"] == assert_envelope(b, 401)["message"]


def test_login_validation(oclient):
    assert "password" in assert_envelope(oclient.post("/api/v1/auth/login", json={"username": "x"}), 422)["details"]
    assert "username" in assert_envelope(
        oclient.post("/api/v1/auth/login", json={"username": 5, "password": "x"}), 422)["details"]
    assert "username" in assert_envelope(
        oclient.post("/api/v1/auth/login", json={"username": "x" * 65, "password": "x"}), 422)["details"]


def test_account_locks_after_repeated_failures(oclient, officer_app):
    for _ in range(4):
        assert_envelope(oclient.post("/api/v1/auth/login", json={"username": "grid", "password": "bad-bad"}), 401)
    assert_envelope(oclient.post("/api/v1/auth/login", json={"username": "grid", "password": "bad-bad"}),
                    423, "account_locked")
    # Even the right password is refused while locked.
    assert_envelope(oclient.post("/api/v1/auth/login", json={"username": "grid", "password": PASSWORD}), 423)
    with officer_app.app_context():  # the lock is per username and IP, and it runs out
        db.session.execute(sa.update(LoginThrottle).values(locked_until=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    login(oclient, "grid")


def test_login_is_rate_limited(officer_app):
    officer_app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    client = officer_app.test_client()
    statuses = [client.post("/api/v1/auth/login", json={"username": "x", "password": "y"}).status_code
                for _ in range(4)]
    assert statuses[:3] == [401] * 3
    assert_envelope(client.post("/api/v1/auth/login", json={"username": "x", "password": "y"}), 429)


def test_no_token_bad_token_expired_token(oclient, officer_app):
    assert_envelope(oclient.get("/api/v1/auth/me"), 401, "unauthorized")
    assert_envelope(oclient.get("/api/v1/auth/me", headers=auth("forged")), 401, "token_invalid")
    assert_envelope(oclient.get("/api/v1/auth/me", headers={"Authorization": "Basic abc"}), 401)
    token = login(oclient, "officer")
    with officer_app.app_context():
        db.session.execute(sa.update(AuthToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert_envelope(oclient.get("/api/v1/auth/me", headers=auth(token)), 401, "token_invalid")


def test_logout_revokes_the_token(oclient):
    token = login(oclient, "officer")
    assert oclient.post("/api/v1/auth/logout", headers=auth(token), json={}).status_code == 204
    assert_envelope(oclient.get("/api/v1/auth/me", headers=auth(token)), 401)


def test_password_change_revokes_every_token(oclient):
    first, second = login(oclient, "officer"), login(oclient, "officer")
    bad = oclient.post("/api/v1/auth/password", headers=auth(first),
                       json={"old_password": "wrong-one", "new_password": "another-pass-1"})
    assert "old_password" in assert_envelope(bad, 422)["details"]
    short = oclient.post("/api/v1/auth/password", headers=auth(first),
                         json={"old_password": PASSWORD, "new_password": "short"})
    assert "new_password" in assert_envelope(short, 422)["details"]
    ok = oclient.post("/api/v1/auth/password", headers=auth(first),
                      json={"old_password": PASSWORD, "new_password": "another-pass-1"})
    assert ok.status_code == 204
    for token in (first, second):
        assert_envelope(oclient.get("/api/v1/auth/me", headers=auth(token)), 401)
    login(oclient, "officer", "another-pass-1")


def test_users_create_cli(officer_app):
    runner = officer_app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "li", "--role", "grid_worker", "--region", "G2",
                                 "--password-stdin"], input="secret-pass-1\n")
    assert result.exit_code == 0, result.output
    assert officer_app.test_client().post(
        "/api/v1/auth/login", json={"username": "li", "password": "secret-pass-1"}).status_code == 200
    again = runner.invoke(args=["users", "create", "li", "--role", "grid_worker", "--region", "G2",
                                "--password-stdin"], input="secret-pass-1\n")
    assert again.exit_code != 0 and "已存在" in again.output
    bad_region = runner.invoke(args=["users", "create", "wang", "--role", "officer", "--region", "NOPE",
                                     "--password-stdin"], input="secret-pass-1\n")
    assert bad_region.exit_code != 0
    bad_role = runner.invoke(args=["users", "create", "wang", "--role", "boss", "--region", "V1",
                                   "--password-stdin"], input="secret-pass-1\n")
    assert bad_role.exit_code != 0


def test_role_and_region_changes_are_audited(oclient, tokens, officer_app):
    response = oclient.patch("/api/v1/auth/users/grid", headers=tokens["county"],
                             json={"role": "officer", "region": "V2"})
    assert response.status_code == 200 and response.get_json()["data"]["region"] == "V2"
    # Cannot touch users outside the jurisdiction, nor grant county_admin.
    assert_envelope(oclient.patch("/api/v1/auth/users/other_village", headers=tokens["other_county"],
                                  json={"role": "officer"}), 404)
    assert_envelope(oclient.patch("/api/v1/auth/users/officer", headers=tokens["county"],
                                  json={"role": "county_admin"}), 422)
    assert_envelope(oclient.patch("/api/v1/auth/users/officer", headers=tokens["officer"],
                                  json={"role": "grid_worker"}), 403)
    with officer_app.app_context():
        entry = db.session.execute(sa.select(AuditLog).where(AuditLog.action == "user_update")).scalar_one()
        assert entry.username == "county" and entry.details["role"] == ["grid_worker", "officer"]
    created = oclient.post("/api/v1/auth/users", headers=tokens["county"],
                           json={"username": "zhao", "password": "zhao-pass-1", "role": "officer", "region": "V3"})
    assert created.status_code == 201
    assert_envelope(oclient.post("/api/v1/auth/users", headers=tokens["station"], json={
        "username": "qian", "password": "qian-pass-1", "role": "officer", "region": "V1"}), 403)
