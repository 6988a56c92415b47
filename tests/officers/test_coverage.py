"""Coverage roll-ups (exact, constant statements), revisit queue, exports, summary, regions."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import sqlalchemy as sa
from openpyxl import load_workbook

from quizbot.extensions import db
from quizbot.models import AuditLog, ChatLog, Household, Region
from quizbot.services import coverage as coverage_service
from quizbot.services import regions as region_service
from quizbot.services.reports import SHANGHAI
from tests.officers.conftest import make_household
from tests.officers.test_participation import quiz, visit
from tests.test_api_errors import assert_envelope

KEYS = ("households_total", "households_visited", "households_quizzed", "members_total", "members_quizzed")


def seed(app, client):
    with app.app_context():
        codes = {}
        for code, region, house in [("H1", "G1", "2"), ("H2", "G1", "10"), ("H3", "G2", "1"),
                                    ("H4", "V2", "5"), ("H5", "V3", "7")]:
            codes[code] = make_household(code, region, members=3, house_number=house).invite_code
    quiz(client, app, {"invite_code": codes["H1"]})
    quiz(client, app, {"invite_code": codes["H5"]})
    return codes


def test_coverage_contract_and_sums(oclient, officer_app, tokens):
    seed(officer_app, oclient)
    visit(oclient, tokens["county"], household="H2", outcome="not_home")
    body = oclient.get("/api/v1/coverage", query_string={"region": "C1"}, headers=tokens["county"]).get_json()
    data = body["data"]
    assert data["region"]["code"] == "C1"
    assert [data[k] for k in KEYS] == [5, 1, 2, 15, 0]
    assert data["coverage"] == 0.4 and data["average_score"] == 100 and data["last_activity"]
    assert isinstance(data["weakest_scam_types"], list) and len(data["weakest_scam_types"]) <= 3
    assert [c["region"]["code"] for c in data["children"]] == ["T1", "T2"]
    for key in KEYS:
        assert data[key] == sum(c[key] for c in data["children"])
    t1 = oclient.get("/api/v1/coverage", query_string={"region": "T1"}, headers=tokens["county"]).get_json()["data"]
    assert t1["households_total"] == data["children"][0]["households_total"] == 4
    assert [c["region"]["code"] for c in t1["children"]] == ["V1", "V2"]
    # Default region is the user's own.
    own = oclient.get("/api/v1/coverage", headers=tokens["grid"]).get_json()["data"]
    assert own["region"]["code"] == "G1" and own["households_total"] == 2 and own["children"] == []
    assert_envelope(oclient.get("/api/v1/coverage", query_string={"region": "x" * 40}, headers=tokens["county"]), 422)


def test_rollup_statement_count_does_not_grow_with_regions(officer_app):
    def count_statements(code):
        statements = []
        with officer_app.app_context():
            scope = region_service.Scope(0, "t", "admin", None, None)
            engine = db.engine
            listener = lambda *args: statements.append(args[2])  # noqa: E731
            sa.event.listen(engine, "before_cursor_execute", listener)
            try:
                coverage_service.rollup(scope, code)
            finally:
                sa.event.remove(engine, "before_cursor_execute", listener)
        return len(statements)

    small = count_statements("C1")
    with officer_app.app_context():
        for i in range(30):
            region_service.create(None, f"NT{i}", f"镇{i}", "C1", commit=False)
            for j in range(3):
                region_service.create(None, f"NV{i}-{j}", f"村{j}", f"NT{i}", commit=False)
        db.session.commit()
        for i in range(10):
            make_household(f"X{i}", f"NV{i}-0")
    assert count_statements("C1") == small <= 6


def test_revisit_queue_walking_order(oclient, officer_app, tokens):
    seed(officer_app, oclient)
    visit(oclient, tokens["officer"], household="H1", outcome="not_home")
    body = oclient.get("/api/v1/revisits", query_string={"region": "V1"}, headers=tokens["officer"]).get_json()
    # G1: H1 (quizzed but last seen not at home, house 2), H2 (house 10); then G2: H3.
    assert [h["code"] for h in body["data"]] == ["H1", "H2", "H3"]
    assert body["meta"]["total"] == 3


def test_household_export_masked_and_full(oclient, officer_app, tokens):
    seed(officer_app, oclient)
    masked = oclient.get("/api/v1/exports/households", query_string={"region": "V1"}, headers=tokens["officer"])
    assert masked.status_code == 200 and masked.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(masked.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][0] == "户编号" and rows[1][5] == "138****1234" and len(rows) == 4
    assert "邀请码" not in rows[0]  # invite codes credit quizzes: only in the audited full export
    assert_envelope(oclient.get("/api/v1/exports/households", query_string={"region": "V1", "full": "true"},
                                headers=tokens["officer"]), 403)
    assert "reason" in assert_envelope(oclient.get("/api/v1/exports/households", query_string={
        "region": "V1", "full": "true"}, headers=tokens["county"]), 422)["details"]
    full = oclient.get("/api/v1/exports/households", query_string={
        "region": "V1", "full": "true", "reason": "市局核查", "format": "xlsx"}, headers=tokens["county"])
    sheet = load_workbook(io.BytesIO(full.data)).active
    assert sheet.cell(2, 6).value == "13812341234"
    header = [cell.value for cell in sheet[1]]
    with officer_app.app_context():
        invite = db.session.execute(sa.select(Household.invite_code).where(Household.code == sheet.cell(2, 1).value)
                                    ).scalar_one()
    assert header[-1] == "邀请码" and sheet.cell(2, len(header)).value == invite
    with officer_app.app_context():
        entry = db.session.execute(sa.select(AuditLog).where(
            AuditLog.action == "export_households_full")).scalar_one()
        assert entry.username == "county" and entry.reason == "市局核查"
    assert_envelope(oclient.get("/api/v1/exports/households", query_string={"region": "V1", "format": "pdf"},
                                headers=tokens["county"]), 422)
    cov = oclient.get("/api/v1/exports/coverage", query_string={"region": "C1"}, headers=tokens["county"])
    assert "覆盖率" in cov.get_data(as_text=True)


def test_stage_summary(oclient, officer_app, tokens):
    seed(officer_app, oclient)
    visit(oclient, tokens["county"], household="H2", outcome="completed")
    with officer_app.app_context():
        v1 = db.session.execute(sa.select(Region.id).where(Region.code == "V1")).scalar_one()
        for t in ("fake_authority", "fake_authority", None):
            db.session.add(ChatLog(region_id=v1, intent="check", risk="high", risk_score=80,
                                   top_scam_type=t, scam_types=[t] if t else []))
        db.session.commit()
    # Report days are Shanghai days: between 16:00 and 24:00 UTC the UTC date is a day behind.
    local_today = datetime.now(SHANGHAI).date()
    today = local_today.isoformat()
    body = oclient.get("/api/v1/reports/summary", query_string={"region": "C1", "from": "2020-01-01", "to": today},
                       headers=tokens["county"])
    assert body.status_code == 422  # more than a year
    start = date.fromordinal(local_today.toordinal() - 30).isoformat()
    data = oclient.get("/api/v1/reports/summary", query_string={"region": "C1", "from": start, "to": today},
                       headers=tokens["county"]).get_json()["data"]
    assert data["households_visited"] == 1 and data["quiz_attempts"] == 2 and data["households_quizzed"] == 2
    assert data["chatbot_questions"] == 3
    assert data["chatbot_questions_by_type"][0] == {"id": "fake_authority", "name": "类型fake_authority", "count": 2}
    assert "不漏一户" in data["text"] and "反诈咨询机器人" in data["text"]
    assert_envelope(oclient.get("/api/v1/reports/summary", query_string={"region": "C1", "from": today,
                                                                         "to": start}, headers=tokens["county"]), 422)
    assert_envelope(oclient.get("/api/v1/reports/summary", query_string={"region": "C1", "from": "x", "to": today},
                                headers=tokens["county"]), 422)



def test_stage_summary_refuses_dates_no_campaign_has(oclient, officer_app, tokens):
    for query in ({"from": "0001-01-01", "to": "0002-01-01"}, {"from": "9999-12-30", "to": "9999-12-31"},
                  {"from": "1999-12-31", "to": "2000-01-02"}):
        body = assert_envelope(oclient.get("/api/v1/reports/summary", query_string={"region": "C1", **query},
                                           headers=tokens["county"]), 422)
        assert body["message"] == "日期超出范围"
    edge = oclient.get("/api/v1/reports/summary", query_string={"region": "C1", "from": "2000-01-01",
                                                                 "to": "2000-12-31"}, headers=tokens["county"])
    assert edge.status_code == 200

def test_regions_create_rename_move(oclient, officer_app, tokens):
    made = oclient.post("/api/v1/regions", headers=tokens["county"],
                        json={"code": "V4", "name": "戊村", "parent_code": "T2"})
    assert made.status_code == 201 and made.get_json()["data"]["path"] == "/C1/T2/V4/"
    assert_envelope(oclient.post("/api/v1/regions", headers=tokens["county"],
                                 json={"code": "V4", "name": "重复", "parent_code": "T2"}), 409)
    assert_envelope(oclient.post("/api/v1/regions", headers=tokens["county"],
                                 json={"code": "bad code", "name": "x", "parent_code": "T2"}), 422)
    assert_envelope(oclient.post("/api/v1/regions", headers=tokens["county"],
                                 json={"code": "G9", "name": "x", "parent_code": "G1"}), 422)
    assert_envelope(oclient.post("/api/v1/regions", headers=tokens["county"],
                                 json={"code": "ROOT2", "name": "x", "parent_code": None}), 403)
    assert_envelope(oclient.post("/api/v1/regions", headers=tokens["officer"],
                                 json={"code": "G3", "name": "三组", "parent_code": "V1"}), 403)
    renamed = oclient.patch("/api/v1/regions/V4", headers=tokens["county"], json={"name": "戊社区"})
    assert renamed.get_json()["data"]["name"] == "戊社区"
    moved = oclient.patch("/api/v1/regions/V1", headers=tokens["county"], json={"parent_code": "T2"})
    assert moved.get_json()["data"]["path"] == "/C1/T2/V1/"
    group = oclient.get("/api/v1/regions/G1", headers=tokens["county"]).get_json()["data"]
    assert group["path"] == "/C1/T2/V1/G1/" and group["level"] == 3
    assert_envelope(oclient.patch("/api/v1/regions/T2", headers=tokens["county"], json={"parent_code": "V1"}), 422)
    assert_envelope(oclient.patch("/api/v1/regions/V1", headers=tokens["county"], json={"parent_code": "V9"}), 404)
    children = oclient.get("/api/v1/regions/T2", headers=tokens["county"]).get_json()["data"]["children"]
    assert [c["code"] for c in children] == ["V1", "V3", "V4"]
    with officer_app.app_context():
        actions = db.session.execute(sa.select(AuditLog.action)).scalars().all()
        assert actions.count("region_update") == 2 and "region_create" in actions


def test_regions_import_cli(app, tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("code,name,parent_code\nT1,东镇,C1\nC1,一号县,\nV1,甲村,T1\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["regions", "import", str(path)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert region_service.get_by_code("V1").path == "/C1/T1/V1/"
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name,parent_code\nX1,,NOPE\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["regions", "import", str(bad)])
    assert result.exit_code != 0 and "row 2 name" in result.output
