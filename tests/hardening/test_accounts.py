"""Sign-in lockout per username+IP with backoff, admin unlock, logout with any body, quiz limits,
and the database rate-limit storage that every worker shares."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from quizbot.extensions import db
from quizbot.models import AuditLog
from quizbot.ratelimit import DatabaseStorage
from quizbot.services.auth import lock_seconds
from tests.officers.conftest import PASSWORD, auth, login
from tests.test_api_errors import assert_envelope

HOME, AWAY = {"REMOTE_ADDR": "10.0.0.1"}, {"REMOTE_ADDR": "10.0.0.2"}


def _login(client, username, password, where):
    return client.post("/api/v1/auth/login", json={"username": username, "password": password},
                       environ_base=where)


def test_lockout_is_per_username_and_ip(oclient):
    for _ in range(4):
        assert_envelope(_login(oclient, "grid", "bad-bad-bad", AWAY), 401, "bad_credentials")
    assert_envelope(_login(oclient, "grid", "bad-bad-bad", AWAY), 423, "account_locked")
    assert_envelope(_login(oclient, "grid", PASSWORD, AWAY), 423, "account_locked")
    # The officer at home is not locked out by whoever guessed from elsewhere.
    assert _login(oclient, "grid", PASSWORD, HOME).status_code == 200


def test_unknown_usernames_are_answered_like_known_ones(oclient):
    known = [_login(oclient, "grid", "bad-bad-bad", AWAY) for _ in range(6)]
    unknown = [_login(oclient, "nobody-here", "bad-bad-bad", {"REMOTE_ADDR": "10.0.0.3"}) for _ in range(6)]
    shape = [(r.status_code, r.get_json()) for r in known]
    assert shape == [(r.status_code, r.get_json()) for r in unknown]
    assert [s for s, _ in shape] == [401, 401, 401, 401, 423, 423]


def test_lockouts_back_off():
    assert [lock_seconds(n) for n in (1, 2, 3)] == [900, 1800, 3600]
    assert lock_seconds(50) == 24 * 3600


def test_admin_unlocks_a_user(oclient, officer_app):
    for _ in range(5):
        _login(oclient, "grid", "bad-bad-bad", AWAY)
    assert _login(oclient, "grid", PASSWORD, AWAY).status_code == 423
    grid = auth(login(oclient, "grid"))
    other = auth(login(oclient, "other_county"))
    assert_envelope(oclient.post("/api/v1/auth/users/grid/unlock", headers=grid), 403)
    assert_envelope(oclient.post("/api/v1/auth/users/grid/unlock", headers=other), 404)
    county = auth(login(oclient, "county"))
    assert oclient.post("/api/v1/auth/users/grid/unlock", headers=county).status_code == 204
    assert _login(oclient, "grid", PASSWORD, AWAY).status_code == 200
    with officer_app.app_context():
        assert db.session.execute(sa.select(AuditLog.action).where(
            AuditLog.target == "grid", AuditLog.action == "user_unlock")).scalar_one()


@pytest.mark.parametrize("kwargs", [{}, {"json": {}}, {"data": "bye", "content_type": "text/plain"},
                                    {"data": "{", "content_type": "application/json"}])
def test_logout_with_or_without_a_body(oclient, kwargs):
    token = login(oclient, "officer")
    assert oclient.post("/api/v1/auth/logout", headers=auth(token), **kwargs).status_code == 204
    assert_envelope(oclient.get("/api/v1/auth/me", headers=auth(token)), 401)


def test_logout_without_a_token_is_401(oclient):
    assert_envelope(oclient.post("/api/v1/auth/logout"), 401)


def test_anonymous_quiz_sessions_are_limited_per_ip(quiz_client, loaded_app):
    loaded_app.config["QUIZ_SESSION_RATE_LIMIT"] = "3 per minute"
    statuses = [quiz_client.post("/api/v1/quiz/sessions", json={"count": 1}, environ_base=HOME).status_code
                for _ in range(4)]
    assert statuses == [201, 201, 201, 429]
    assert_envelope(quiz_client.post("/api/v1/quiz/sessions", json={"count": 1}, environ_base=HOME), 429)
    assert quiz_client.post("/api/v1/quiz/sessions", json={"count": 1}, environ_base=AWAY).status_code == 201


@pytest.fixture
def storage(app, tmp_path):
    """The database storage on the test database (a file for SQLite: a second engine must see it)."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'limits.sqlite3'}"
        engine = sa.create_engine(url)
        db.metadata.tables["rate_limit_counter"].create(engine)
        engine.dispose()
    store = DatabaseStorage("database://", database_url=url)
    yield store
    store.engine.dispose()


def test_database_storage_counts_windows(storage):
    assert storage.check()
    assert [storage.incr("k", 60) for _ in range(3)] == [1, 2, 3]
    assert storage.get("k") == 3 and storage.get_expiry("k") > 0
    assert storage.incr("short", 0) == 1 and storage.incr("short", 0) == 1  # expired window restarts
    storage.clear("k")
    assert storage.get("k") == 0


def test_database_storage_counts_once_under_concurrency(storage):
    def hammer():
        for _ in range(25):
            storage.incr("race", 60)

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert storage.get("race") == 100
