"""Junk sent to every /api route (as an admin, so every check runs) never gives a 5xx, and every
refusal is the JSON error envelope."""

from __future__ import annotations

import re

import pytest

from tests.officers.conftest import auth, build_tree, login, make_household, make_user

QUERIES = ["?region=%00", "?region=" + "x" * 300, "?page=-1&per_page=99999", "?page=abc",
           "?from=notadate&to=2020-13-45", "?format=exe", "?region=C1&from=2026-01-01&to=2025-01-01"]
BODIES = ["{", "[]", '{"a": 1}', '{"code": null, "name": 123, "parent": [], "text": {}}', '"x"']


@pytest.fixture
def admin_client(loaded_app):
    with loaded_app.app_context():
        build_tree()
        make_user("root", "admin", None)
        make_household("H1", "G1")
    loaded_app.config["PROPAGATE_EXCEPTIONS"] = False
    client = loaded_app.test_client()
    return client, auth(login(client, "root"))


def test_junk_never_gives_a_server_error(loaded_app, admin_client):
    client, headers = admin_client
    # The logout probe revokes the token it sends: it gets its own, so every other probe runs
    # signed in to the end (and is checked for it below).
    logout_headers = auth(login(client, "root"))
    problems, signed_out = [], []
    for rule in loaded_app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or rule.endpoint.startswith("api-docs"):
            continue
        path = re.sub(r"<[^>]+>", "1", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            bodies = BODIES if method in ("POST", "PUT", "PATCH") else [None]
            for query in QUERIES:
                for body in bodies:
                    sent = logout_headers if rule.endpoint == "auth.logout" else headers
                    response = client.open(path + query, method=method, headers=sent, data=body,
                                           content_type="application/json" if body else None)
                    if response.status_code == 401 and rule.endpoint != "auth.logout":
                        signed_out.append((method, path))
                    envelope_ok = response.status_code < 400 or (
                        response.is_json and set(response.get_json()) == {"error"})
                    if response.status_code >= 500 or not envelope_ok:
                        problems.append((method, path + query[:30], body, response.status_code))
    assert problems == []
    assert signed_out == []
