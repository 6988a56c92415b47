"""Input no database can hold is refused at the edge with the envelope, on SQLite and PostgreSQL."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from quizbot.extensions import db
from quizbot.models import Region
from tests.officers.conftest import make_household

DEEP = "[" * 50_000 + "]" * 50_000


def _envelope(response, *statuses):
    assert response.status_code in statuses, (response.status_code, response.get_data(as_text=True)[:300])
    assert set(response.get_json()) == {"error"}
    return response.get_json()["error"]


@pytest.mark.parametrize("path", [
    "/api/v1/quiz/sessions/%00", "/api/v1/quiz/sessions/a%00b", "/api/v1/households/%00",
    "/api/v1/regions/%1c", "/api/v1/households/%ED%A0%80",
])
def test_bad_characters_in_a_path_are_404(oclient, tokens, path):
    _envelope(oclient.get(path, headers=tokens["root"]), 404)


def test_path_integer_beyond_the_database_range_is_404(oclient, tokens):
    for flag_id in (2**31, 2**63, 10**30):
        response = oclient.post(f"/api/v1/integrity/flags/{flag_id}", headers=tokens["root"],
                                json={"decision": "accept"})
        _envelope(response, 404)


@pytest.mark.parametrize("query", ["?region=%00", "?q=%00", "?q=a%1cb", "?region=C1&x%00=1"])
def test_bad_characters_in_a_query_are_400(oclient, tokens, query):
    error = _envelope(oclient.get("/api/v1/households" + query, headers=tokens["root"]), 400)
    assert error["code"] == "invalid_characters"


@pytest.mark.parametrize("body,status", [
    ('{"count": 5, "participant": {"invite_code": "abc", "member_id": 2147483648}}', 422),
    ('{"count": 5, "participant": {"member_id": -2147483649}}', 422),
    ('{"count": 99999999999999999999999}', 422),
    ('{"count": NaN}', 422),
    ('{"count": 1e999}', 422),
    ('{"count": 5, "participant": {"client_id": "\\ud800"}}', 400),
    ('{"count": 5, "participant": {"client_id": "a\\u0000b"}}', 400),
    ('{"count": 5, "audience": "\\u0007"}', 400),
    ('{"\\u0000": 1}', 400),
    (DEEP, 400),
])
def test_bad_json_bodies_are_refused(quiz_client, body, status):
    response = quiz_client.post("/api/v1/quiz/sessions", data=body, content_type="application/json")
    _envelope(response, status)


def test_lone_surrogate_in_the_chat_user_id_is_400(quiz_client):
    response = quiz_client.post("/api/v1/chat", data='{"text": "有人让我转账", "user_id": "\\udc80"}',
                                content_type="application/json")
    assert _envelope(response, 400)["code"] == "invalid_characters"


def test_control_character_in_a_region_name_is_refused(oclient, tokens):
    response = oclient.post("/api/v1/regions", headers=tokens["root"],
                            json={"code": "V7", "name": "甲\u001c村", "parent_code": "T1"})
    _envelope(response, 400)
    response = oclient.patch("/api/v1/regions/V1", headers=tokens["root"], json={"name": "铃\u0007"})
    _envelope(response, 400)


def test_xlsx_export_over_control_characters_still_works(officer_app, oclient, tokens):
    """Rows stored before the gate existed (or by hand) cannot break the export writer."""
    with officer_app.app_context():
        region = db.session.get(Region, db.session.execute(
            db.select(Region.id).where(Region.code == "G1")).scalar_one())
        region.name = "一组\u001c"
        db.session.commit()
        make_household("H\u0007X", "G1", address="路\u000b1号", head_name="=HYPERLINK(\"x\")")
    for path in ("/api/v1/exports/households?region=V1&format=xlsx",
                 "/api/v1/exports/coverage?region=V1&format=xlsx"):
        response = oclient.get(path, headers=tokens["root"])
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
        cells = [c for row in sheet.iter_rows(values_only=True) for c in row if isinstance(c, str)]
        assert not any(c.startswith("=") for c in cells)
    csv_body = oclient.get("/api/v1/exports/households?region=V1&format=csv", headers=tokens["root"])
    assert "\u0007" not in csv_body.get_data(as_text=True)


def test_cli_region_import_strips_control_characters(officer_app, tmp_path):
    """`flask regions import` takes a file: invisible characters pasted into it are stripped
    (as in the household import), so no export over these regions can break."""
    path = tmp_path / "regions.csv"
    path.write_text("code,name,parent_code\nV7,戊\x1c村,T1\nG7,一\x00组\x07,V7\nV1,甲\x0b村,T1\n", encoding="utf-8")
    result = officer_app.test_cli_runner().invoke(args=["regions", "import", str(path)])
    assert result.exit_code == 0, result.output
    with officer_app.app_context():
        names = dict(db.session.execute(db.select(Region.code, Region.name)
                                        .where(Region.code.in_(["V7", "G7", "V1"]))).all())
    assert names == {"V7": "戊村", "G7": "一组", "V1": "甲村"}


def test_region_service_refuses_control_characters_with_a_chinese_message(officer_app):
    """Any caller that reaches the region service with a typed name (API, CLI, a script) is refused."""
    from quizbot.errors import ValidationFailed
    from quizbot.services import regions as region_service

    with officer_app.app_context():
        for name in ("铃\x07村", "空\x00村", "分\x1c隔"):
            with pytest.raises(ValidationFailed) as refused:
                region_service.create(None, "V8", name, "T1")
            assert "区域名称不能包含" in refused.value.message
        assert region_service.get_by_code("V8") is None
