"""Every officer route needs a token, and nothing outside the user's subtree is visible."""

from __future__ import annotations

import io
import re

import pytest

from quizbot.extensions import db
from quizbot.models import IntegrityFlag, Region, utcnow
from tests.officers.conftest import make_household
from tests.test_api_errors import assert_envelope

# Routes residents and the public use; everything else under /api/v1 is an officer route.
PUBLIC_PREFIXES = ("/api/v1/health", "/api/v1/quiz/", "/api/v1/scam-types", "/api/v1/chat",
                   "/api/v1/openapi.json", "/api/v1/docs")
PUBLIC_ENDPOINTS = {"auth.login"}


BODIES = {
    "auth.logout": lambda v: {},
    "auth.unlock_user": lambda v: {},
    "auth.change_password": lambda v: {"old_password": "x", "new_password": "yyyyyyyy"},
    "auth.create_user": lambda v: {"username": "newbie", "password": "newbie-pass", "role": "officer",
                                   "region": v["region"]},
    "auth.update_user": lambda v: {"region": v["region"]},
    "regions.create_region": lambda v: {"code": "NEW1", "name": "新区域", "parent_code": v["region"]},
    "regions.update_region": lambda v: {"name": "改名"},
    "regions.create_campaign_code": lambda v: {"region": v["region"], "name": "群推送"},
    "visits.create_visit": lambda v: {"id": "visit-0000-0001", "household": v["household"],
                                      "outcome": "completed", "visited_at": utcnow().isoformat()},
    "reports.review_flag": lambda v: {"decision": "accept"},
}


def officer_rules(app):
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1") or rule.rule.startswith(PUBLIC_PREFIXES):
            continue
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


@pytest.fixture
def foreign(officer_app):
    """Things in county C1 (village V1): a household and a pending flag."""
    with officer_app.app_context():
        make_household("H-A1", "G1")
        flag = IntegrityFlag(kind="quiz", reasons=["too_fast"],
                             region_id=db.session.query(Region.id).filter_by(code="G1").scalar())
        db.session.add(flag)
        db.session.commit()
        return {"household": "H-A1", "flag_id": flag.id}


def fill(rule, values: dict) -> str:
    def sub(match):
        name = match.group(2)
        return str({"code": values["region"] if "regions" in rule.rule else values["household"],
                    "fmt": "png", "flag_id": values["flag_id"], "username": "officer"}.get(name, "x"))
    return re.sub(r"<(?:(\w+):)?(\w+)>", sub, rule.rule)


def call(client, rule, method, values, headers=None):
    url = fill(rule, values)
    query = {"region": values["region"], "from": "2026-01-01", "to": "2026-01-31", "format": "csv"}
    if method == "GET":
        return client.get(url, query_string=query, headers=headers)
    if rule.endpoint == "households.import_households":
        data = {"region": values["region"], "file": (io.BytesIO("户编号\n".encode()), "x.csv")}
        return client.post(url, data=data, content_type="multipart/form-data", headers=headers)
    body = BODIES[rule.endpoint](values)  # a new write route must add its body here
    return getattr(client, method.lower())(url, json=body, headers=headers)


def test_there_are_officer_routes(officer_app):
    assert len(list(officer_rules(officer_app))) >= 20


def test_every_officer_route_needs_a_token(oclient, officer_app, foreign):
    values = {"region": "V1", **foreign}
    for rule, method in officer_rules(officer_app):
        response = call(oclient, rule, method, values)
        assert response.status_code == 401, (method, rule.rule, response.status_code)
        assert_envelope(response, 401)


@pytest.mark.parametrize("who", ["other_county", "other_village"])
def test_nothing_outside_the_subtree_is_visible(oclient, officer_app, tokens, foreign, who):
    """A user of another county (or a sibling village) gets 404 — or 403 when their role may not
    use the route at all — for everything in village V1, exactly as if it did not exist."""
    values = {"region": "V1", **foreign}
    for rule, method in officer_rules(officer_app):
        if rule.endpoint in ("auth.logout", "auth.get_me", "auth.change_password", "regions.list_roots",
                             "households.get_import_template"):
            continue  # about the caller only, or the same blank sheet for everyone
        response = call(oclient, rule, method, values, headers=tokens[who])
        allowed = {404} if who == "other_county" else {403, 404}
        assert response.status_code in allowed, (who, method, rule.rule, response.get_json())
        body = response.get_json()
        assert "H-A1" not in str(body) and "甲村" not in str(body)


def test_own_subtree_is_visible(oclient, tokens, foreign):
    assert oclient.get("/api/v1/households/H-A1", headers=tokens["officer"]).status_code == 200
    assert oclient.get("/api/v1/households/H-A1", headers=tokens["grid"]).status_code == 200
    assert oclient.get("/api/v1/households/H-A1", headers=tokens["county"]).status_code == 200
    assert oclient.get("/api/v1/households/H-A1", headers=tokens["root"]).status_code == 200
    # Up the tree is outside: a village officer cannot see the township.
    assert_envelope(oclient.get("/api/v1/coverage", query_string={"region": "T1"},
                                headers=tokens["officer"]), 404, "region_not_found")
    # Unknown and foreign look the same.
    a = oclient.get("/api/v1/households/NO-SUCH", headers=tokens["other_county"])
    b = oclient.get("/api/v1/households/H-A1", headers=tokens["other_county"])
    assert a.get_json() == b.get_json()
