"""Officers' workflow as it is really done (issue 13): household sheets as people have them,
review rules that fit families, queues that say why, and the small defects."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from openpyxl import Workbook, load_workbook

from quizbot.extensions import db
from quizbot.models import AuditLog, Household, IntegrityFlag, Member
from quizbot.services.household_import import normalize_phone
from tests.officers.conftest import make_household
from tests.officers.test_households import upload
from tests.officers.test_participation import quiz
from tests.test_api_errors import assert_envelope

HEADER = "户编号,地址,门牌号,户主,联系电话,成员姓名,性别,年龄段,标签"
INHERITED = [
    "H001,甲村一组,2,王大,138-1234-5670,王大,男,60-69,独居老人",
    ",,,,,李二,女,36-59,企业财务",
    ",,,,,王小,男,0-17,留守儿童、学生",
    "H002,甲村一组,10,赵三,+86 139 0000 1111,赵三,男,18-35,外来务工",
    "H003,甲村一组,3,钱四,0571-87654321,钱四,女,70+,空巢老人；低保户",
]


def sheet(lines, header=HEADER) -> bytes:
    return ("\n".join([header, *lines]) + "\n").encode("utf-8")


def members(app, code):
    with app.app_context():
        return {m.name: m for m in db.session.execute(
            sa.select(Member).join(Household).where(Household.code == code)).scalars()}


@pytest.mark.parametrize(("typed", "stored"), [
    ("13812345670", "13812345670"), ("138-1234-5670", "13812345670"), ("138 1234 5670", "13812345670"),
    ("+86 138 1234 5670", "13812345670"), ("0086-13812345670", "13812345670"),
    ("8613812345670", "13812345670"), ("１３８１２３４５６７０", "13812345670"),
    ("0571-87654321", "0571-87654321"), ("057187654321", "0571-87654321"),
    ("(010) 6512 3456", "010-65123456"), ("+86 571 8765 4321", "0571-87654321"),
])
def test_phone_spellings_are_normalised(typed, stored):
    assert normalize_phone(typed) == stored


@pytest.mark.parametrize("typed", ["12345", "1381234567", "138123456701", "abc", "0571-0765432", "",
                                   "+1 415 555 0100", "23812345670"])
def test_bad_phones_are_refused(typed):
    assert normalize_phone(typed) is None


def test_household_columns_inherited_phones_and_tag_synonyms(oclient, tokens, officer_app):
    response = upload(oclient, tokens["station"], sheet(INHERITED))
    assert response.status_code == 200, response.get_json()
    data = response.get_json()["data"]
    assert (data["households_created"], data["members_created"]) == (3, 5)
    with officer_app.app_context():
        h1 = db.session.execute(sa.select(Household).where(Household.code == "H001")).scalar_one()
        assert (h1.member_count, h1.phone, h1.address) == (3, "13812345670", "甲村一组")
        phones = dict(db.session.execute(sa.select(Household.code, Household.phone)).all())
        assert phones == {"H001": "13812345670", "H002": "13900001111", "H003": "0571-87654321"}
    got = members(officer_app, "H001")
    assert got["王大"].tags == ["elderly"] and got["李二"].tags == ["enterprise_finance"]
    assert got["王小"].tags == ["student", "youth"]
    assert members(officer_app, "H003")["钱四"].tags == ["elderly", "low_income"]


def test_unchanged_reimport_reports_unchanged(oclient, tokens, officer_app):
    upload(oclient, tokens["station"], sheet(INHERITED))
    again = upload(oclient, tokens["station"], sheet(INHERITED)).get_json()["data"]
    assert again == {"rows": 5, "households_created": 0, "households_updated": 0, "households_unchanged": 3,
                     "members_created": 0, "members_updated": 0, "members_unchanged": 5}
    # The same phone spelled differently is the same phone.
    respelled = [INHERITED[0].replace("138-1234-5670", "13812345670"), *INHERITED[1:]]
    assert upload(oclient, tokens["station"], sheet(respelled)).get_json()["data"]["households_unchanged"] == 3
    changed = [*INHERITED[:2], ",,,,,王小,男,0-17,学生", *INHERITED[3:]]
    data = upload(oclient, tokens["station"], sheet(changed)).get_json()["data"]
    assert (data["households_updated"], data["members_updated"], data["members_unchanged"]) == (1, 1, 4)


def test_unknown_tag_lists_the_accepted_ones_and_a_new_household_without_code_is_an_error(oclient, tokens):
    bad = [*INHERITED[:2], ",,,,,某,男,,外星人", ",另一个地址,5,孙,13812345670,孙,男,,"]
    error = assert_envelope(upload(oclient, tokens["station"], sheet(bad)), 422, "import_invalid")
    by_row = {(e["row"], e["column"]): e["reason"] for e in error["details"]["errors"]}
    assert "外星人" in by_row[(4, "标签")] and "老人" in by_row[(4, "标签")] and "低保户" in by_row[(4, "标签")]
    assert by_row[(5, "户编号")] == "不能为空"  # different address: a new household, not an inherited row


def test_merged_xlsx_cells_read_as_their_top_left_value(oclient, tokens, officer_app):
    workbook = Workbook()
    ws = workbook.active
    ws.append(HEADER.split(","))
    ws.append(["H001", "甲村一组", 2, "王大", 13812345670, "王大", "男", "60-69", ""])
    ws.append([None, None, None, None, None, "李二", "女", "36-59", ""])
    ws.append(["H002", "甲村二组", 10, "赵三", "139 0000 1111", "赵三", "男", "18-35", "务工"])
    ws.append([None, None, None, None, None, "赵四", "女", "18-35", None])
    for column in "ABCDE":
        ws.merge_cells(f"{column}2:{column}3")
        ws.merge_cells(f"{column}4:{column}5")
    ws.merge_cells("I4:I5")  # one tag for both members
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = upload(oclient, tokens["station"], buffer.getvalue(), name="合并单元格.xlsx")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["data"]["households_created"] == 2
    assert members(officer_app, "H002")["赵四"].tags == ["worker_merchant"]
    assert set(members(officer_app, "H001")) == {"王大", "李二"}


def test_template_download_has_a_comment_per_column_and_imports_as_is(oclient, tokens, officer_app):
    response = oclient.get("/api/v1/households/template.xlsx", headers=tokens["station"])
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    ws = load_workbook(io.BytesIO(response.data)).active
    headers = [c.value for c in ws[1]]
    assert headers[:5] == ["户编号", "地址", "门牌号", "户主", "联系电话"]
    assert all(c.comment is not None and c.comment.text for c in ws[1])
    assert upload(oclient, tokens["station"], response.data, name="模板.xlsx").status_code == 200
    assert_envelope(oclient.get("/api/v1/households/template.xlsx"), 401)
    result = officer_app.test_cli_runner().invoke(args=["households", "template", "/nonexistent/dir/x.xlsx"])
    assert result.exit_code != 0


def test_dry_run_writes_nothing(officer_app, tmp_path):
    path = tmp_path / "h.csv"
    path.write_bytes(sheet(INHERITED))
    result = officer_app.test_cli_runner().invoke(args=["households", "import", str(path), "--region", "V1",
                                                        "--dry-run"])
    assert result.exit_code == 0 and "households 3 created" in result.output, result.output
    with officer_app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(Household)).scalar_one() == 0


# --- review rules --------------------------------------------------------------------------

def _family(app, code="F1", size=4):
    with app.app_context():
        h = make_household(code, "G1", members=size)
        ids = db.session.execute(sa.select(Member.id).where(Member.household_id == h.id)
                                 .order_by(Member.id)).scalars().all()
        return h.invite_code, ids


def test_a_family_quizzing_one_after_another_is_not_held(oclient, officer_app, tokens):
    code, ids = _family(officer_app)
    for member_id in ids:
        quiz(oclient, officer_app, {"invite_code": code, "member_id": member_id, "client_id": "family-phone"},
             count=1, age=30)
    data = oclient.get("/api/v1/households/F1", headers=tokens["officer"]).get_json()["data"]
    assert (data["quiz_count"], data["members_quizzed"], data["held"]) == (4, 4, False)


def test_one_member_again_and_again_is_held_and_shown_on_households(oclient, officer_app, tokens):
    code, ids = _family(officer_app)
    sessions = [quiz(oclient, officer_app, {"invite_code": code, "member_id": ids[0]}, count=1, age=30)
                for _ in range(4)]
    listed = oclient.get("/api/v1/households", query_string={"region": "V1"}, headers=tokens["officer"])
    row = listed.get_json()["data"][0]
    assert row["held"] is True and row["held_reasons"] == ["同一人 10 分钟内答题次数异常"]
    state = oclient.get(f"/api/v1/quiz/sessions/{sessions[-1]}").get_json()["data"]
    assert state["held_for_review"] is True and "核对" in state["notice"]
    assert oclient.get(f"/api/v1/quiz/sessions/{sessions[0]}").get_json()["data"]["held_for_review"] is False


def test_device_rule_works_without_client_id(oclient, officer_app):
    codes = [_family(officer_app, f"D{i}", size=1)[0] for i in range(11)]
    for code in codes:
        quiz(oclient, officer_app, {"invite_code": code}, count=1, age=30)
    with officer_app.app_context():
        assert db.session.execute(sa.select(IntegrityFlag.reasons)).scalars().all() == [["device_many_households"]]
    # Another phone (another user agent) is another device.
    other = _family(officer_app, "D99", size=1)[0]
    started = oclient.post("/api/v1/quiz/sessions", json={"count": 1, "participant": {"invite_code": other}},
                           headers={"User-Agent": "another phone"})
    assert started.status_code == 201


def test_review_note_is_audited_and_admin_sees_the_whole_queue(oclient, officer_app, tokens):
    code, ids = _family(officer_app)
    quiz(oclient, officer_app, {"invite_code": code, "member_id": ids[0]}, age=0)  # too fast
    flags = oclient.get("/api/v1/integrity/flags", headers=tokens["root"])  # admin, no region
    assert flags.status_code == 200, flags.get_json()
    flag_id = flags.get_json()["data"][0]["id"]
    error = assert_envelope(oclient.post(f"/api/v1/integrity/flags/{flag_id}", headers=tokens["station"],
                                         json={"decision": "reject", "note": "长" * 501}), 422)
    assert "note" in error["details"]
    assert_envelope(oclient.post(f"/api/v1/integrity/flags/{flag_id}", headers=tokens["station"],
                                 json={"decision": "reject", "note": 5}), 422)
    ok = oclient.post(f"/api/v1/integrity/flags/{flag_id}", headers=tokens["station"],
                      json={"decision": "reject", "note": "入户核实：老人由孙子代点"})
    assert ok.status_code == 200 and ok.get_json()["data"]["status"] == "rejected"
    with officer_app.app_context():
        entry = db.session.execute(sa.select(AuditLog).where(AuditLog.action == "integrity_reject")).scalar_one()
        assert entry.reason == "入户核实：老人由孙子代点" and entry.username == "station"
    assert_envelope(oclient.get("/api/v1/integrity/flags", headers=tokens["officer"]), 403)


# --- queues and lists ----------------------------------------------------------------------

def test_households_and_revisits_walk_in_natural_order_and_revisits_say_why(oclient, officer_app, tokens):
    with officer_app.app_context():
        for code, number in (("N10", "10"), ("N2", "2"), ("N1", "1")):
            make_household(code, "G1", members=2, house_number=number)
    listed = oclient.get("/api/v1/households", query_string={"region": "G1"}, headers=tokens["officer"])
    assert [h["house_number"] for h in listed.get_json()["data"]] == ["1", "2", "10"]

    code_n1 = oclient.get("/api/v1/households/N1", headers=tokens["officer"]).get_json()["data"]
    ids = [m["id"] for m in code_n1["members"]]
    for member_id in ids:  # N1: everyone quizzed → off the queue
        quiz(oclient, officer_app, {"invite_code": code_n1["invite_code"], "member_id": member_id}, count=1)
    n2 = oclient.get("/api/v1/households/N2", headers=tokens["officer"]).get_json()["data"]
    quiz(oclient, officer_app, {"invite_code": n2["invite_code"], "member_id": n2["members"][0]["id"]}, count=1)
    oclient.post("/api/v1/visits", headers=tokens["officer"], json={
        "id": "visit-n10-0001", "household": "N10", "outcome": "refused", "visited_at": "2026-11-29T08:00:00+08:00"})
    queue = oclient.get("/api/v1/revisits", query_string={"region": "G1"}, headers=tokens["officer"]).get_json()
    rows = {r["code"]: r["revisit_reasons"] for r in queue["data"]}
    assert list(rows) == ["N2", "N10"] and queue["meta"]["total"] == 2
    assert rows["N2"] == ["未答题成员 1 人"] and rows["N10"] == ["未答题成员 2 人", "拒绝"]


# --- small defects -------------------------------------------------------------------------

def test_csv_export_names_its_charset_once(oclient, tokens):
    response = oclient.get("/api/v1/exports/households", query_string={"region": "V1"}, headers=tokens["officer"])
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"


def test_logout_without_a_body(oclient, tokens):
    assert oclient.post("/api/v1/auth/logout", headers=tokens["grid"]).status_code == 204
    assert_envelope(oclient.get("/api/v1/auth/me", headers=tokens["grid"]), 401)


def test_empty_answers_are_refused_and_do_not_lock_the_session(oclient, officer_app):
    started = oclient.post("/api/v1/quiz/sessions", json={"count": 1}).get_json()["data"]
    error = assert_envelope(oclient.post(f"/api/v1/quiz/sessions/{started['session_id']}/answers",
                                         json={"answers": {}}), 422)
    assert "answers" in error["details"]
    state = oclient.get(f"/api/v1/quiz/sessions/{started['session_id']}").get_json()["data"]
    assert state["state"] == "open"


def test_api_docs_work_offline(oclient):
    page = oclient.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "cdn." not in html and "/static/vendor/swagger-ui-dist-" in html
    for asset in ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"):
        src = html.split('"')[[i for i, part in enumerate(html.split('"')) if part.endswith(asset)][0]]
        with oclient.get(src) as served:
            assert served.status_code == 200 and len(served.data) > 1000, src
