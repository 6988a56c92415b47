"""Household import (CSV/XLSX, all or nothing), list/search with masked phones, QR codes."""

from __future__ import annotations

import io

import sqlalchemy as sa
from openpyxl import Workbook

from quizbot.extensions import db
from quizbot.models import AuditLog, Household, Member
from quizbot.services.households import mask_phone
from tests.officers.conftest import make_household
from tests.test_api_errors import assert_envelope

HEADER = "户编号,地址,门牌号,户主,联系电话,成员姓名,性别,年龄段,标签,区域编码"
GOOD = [
    "H001,甲村一组,3,王大,13812341234,王大,男,60-69,老人,G1",
    "H001,甲村一组,3,王大,13812341234,李二,女,36-59,,G1",
    "H002,甲村二组,12,赵三,13900001111,赵三,男,18-35,务工经商、学生,G2",
]


def csv_bytes(lines) -> bytes:
    return ("\n".join([HEADER, *lines]) + "\n").encode("utf-8")


def upload(client, headers, data: bytes, name="households.csv", region="V1"):
    return client.post("/api/v1/households/import", headers=headers, content_type="multipart/form-data",
                       data={"region": region, "file": (io.BytesIO(data), name)})


def test_mask_phone():
    assert mask_phone("13812341234") == "138****1234"
    assert mask_phone(None) is None and mask_phone("12") == "**"


def test_import_csv_creates_households_and_members(oclient, tokens, officer_app):
    response = upload(oclient, tokens["station"], csv_bytes(GOOD))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["data"] == {"rows": 3, "households_created": 2, "households_updated": 0,
                                           "households_unchanged": 0, "members_created": 3,
                                           "members_updated": 0, "members_unchanged": 0}
    with officer_app.app_context():
        h = db.session.execute(sa.select(Household).where(Household.code == "H001")).scalar_one()
        assert h.member_count == 2 and len(h.invite_code) >= 16
        tags = db.session.execute(sa.select(Member.tags).where(Member.name == "赵三")).scalar_one()
        assert tags == ["student", "worker_merchant"]
        assert "household_import" in db.session.execute(sa.select(AuditLog.action)).scalars().all()


def test_reimport_updates_instead_of_duplicating(oclient, tokens, officer_app):
    upload(oclient, tokens["station"], csv_bytes(GOOD))
    again = GOOD[:2] + ["H002,甲村二组新址,12,赵三,13900002222,赵三,男,18-35,,G2",
                        "H002,甲村二组新址,12,赵三,13900002222,赵小,女,0-17,学生,G2"]
    response = upload(oclient, tokens["station"], csv_bytes(again))
    data = response.get_json()["data"]
    assert (data["households_updated"], data["households_unchanged"]) == (1, 1)
    assert (data["members_created"], data["members_updated"], data["members_unchanged"]) == (1, 1, 2)
    with officer_app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(Household)).scalar_one() == 2
        h = db.session.execute(sa.select(Household).where(Household.code == "H002")).scalar_one()
        assert h.address == "甲村二组新址" and h.member_count == 2


def test_every_bad_row_is_reported_and_nothing_imported(oclient, tokens, officer_app):
    bad = GOOD + [
        ",无户号,1,某,13812341234,某,男,,,G1",            # row 5: missing code
        "H003,地址,1,孙,12345,孙,男,,,G1",                  # row 6: bad phone
        "H004,地址,1,周,13812341234,周,未知,200岁,外星人,G1",  # row 7: sex, age band, tag
        "H001,另一个地址,3,王大,13812341234,王三,男,,,G1",     # row 8: inconsistent address
        "H001,甲村一组,3,王大,13812341234,王大,男,,,G1",       # row 9: duplicate member
        "H005,地址,1,吴,13812341234,吴,男,,,V9",             # row 10: region outside
        "H006," + "长" * 201 + ",1,吴,13812341234,吴,男,,,G1",  # row 11: too long
    ]
    error = assert_envelope(upload(oclient, tokens["station"], csv_bytes(bad)), 422, "import_invalid")
    found = {(e["row"], e["column"]) for e in error["details"]["errors"]}
    assert {(5, "户编号"), (6, "联系电话"), (7, "性别"), (7, "年龄段"), (7, "标签"), (8, "地址"),
            (9, "成员姓名"), (10, "区域编码"), (11, "地址")} <= found
    with officer_app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(Household)).scalar_one() == 0


def test_import_bad_inputs(oclient, tokens):
    assert "columns" in assert_envelope(upload(oclient, tokens["station"], b"foo,bar\n1,2\n"), 422)["details"]
    assert_envelope(upload(oclient, tokens["station"], (HEADER + "\n").encode()), 422)
    assert_envelope(upload(oclient, tokens["station"], b"x", name="a.pdf"), 422)
    assert_envelope(upload(oclient, tokens["station"], b"PK\x03\x04garbage", name="a.xlsx"), 422)
    missing = oclient.post("/api/v1/households/import", headers=tokens["station"],
                           content_type="multipart/form-data", data={"region": "V1"})
    assert "file" in assert_envelope(missing, 422)["details"]
    assert_envelope(upload(oclient, tokens["station"], csv_bytes(GOOD), region="V9"), 404)
    assert_envelope(upload(oclient, tokens["grid"], csv_bytes(GOOD), region="G1"), 403)
    as_json = oclient.post("/api/v1/households/import", headers=tokens["station"], json={"region": "V1"})
    assert_envelope(as_json, 422)


def test_import_xlsx(oclient, tokens):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER.split(","))
    for line in GOOD:
        cells = line.split(",")
        cells[4] = int(cells[4])  # phones typed as numbers in Excel
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = upload(oclient, tokens["station"], buffer.getvalue(), name="户籍.xlsx")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["data"]["households_created"] == 2


def test_cli_import_with_progress(officer_app, tmp_path):
    path = tmp_path / "h.csv"
    path.write_bytes(csv_bytes(GOOD))
    result = officer_app.test_cli_runner().invoke(args=["households", "import", str(path), "--region", "V1"])
    assert result.exit_code == 0, result.output
    assert "households 2 created" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes(["H9,地址,1,孙,12345,孙,男,,,G1"]))
    result = officer_app.test_cli_runner().invoke(args=["households", "import", str(bad), "--region", "V1"])
    assert result.exit_code != 0 and "row 2 联系电话" in result.output


def test_list_is_paginated_masked_and_scoped(oclient, tokens):
    upload(oclient, tokens["station"], csv_bytes(GOOD))
    response = oclient.get("/api/v1/households", query_string={"region": "V1", "per_page": 1},
                           headers=tokens["officer"])
    body = response.get_json()
    assert body["meta"] == {"page": 1, "per_page": 1, "total": 2}
    item = body["data"][0]
    assert {"code", "visited", "quizzed"} <= set(item)
    # Invite codes credit quizzes to a household: not in lists (only on the household page).
    with_invites = oclient.get("/api/v1/households", query_string={"region": "V1"}, headers=tokens["officer"])
    assert all("invite_code" not in h for h in with_invites.get_json()["data"])
    assert item["phone"] == "138****1234" and "13812341234" not in response.get_data(as_text=True)
    grid = oclient.get("/api/v1/households", headers=tokens["grid"]).get_json()  # default: own region
    assert [h["code"] for h in grid["data"]] == ["H001"]
    found = oclient.get("/api/v1/households", query_string={"region": "V1", "q": "赵"},
                        headers=tokens["officer"]).get_json()
    assert [h["code"] for h in found["data"]] == ["H002"]
    assert_envelope(oclient.get("/api/v1/households", query_string={"page": 0}, headers=tokens["officer"]), 422)
    assert_envelope(oclient.get("/api/v1/households", query_string={"per_page": "x"}, headers=tokens["officer"]), 422)
    assert_envelope(oclient.get("/api/v1/households", query_string={"region": "V9"}, headers=tokens["officer"]), 404)
    assert_envelope(oclient.get("/api/v1/households", headers=tokens["root"]), 422)  # admin: region required


def test_detail_and_qr_codes(oclient, tokens):
    upload(oclient, tokens["station"], csv_bytes(GOOD))
    data = oclient.get("/api/v1/households/H001", headers=tokens["officer"]).get_json()["data"]
    assert data["invite_url"].endswith("/q/" + data["invite_code"])
    assert [m["name"] for m in data["members"]] == ["王大", "李二"]
    png = oclient.get("/api/v1/households/H001/qr.png", headers=tokens["officer"])
    assert png.status_code == 200 and png.mimetype == "image/png" and png.data[:4] == b"\x89PNG"
    svg = oclient.get("/api/v1/households/H001/qr.svg", headers=tokens["officer"])
    assert svg.mimetype == "image/svg+xml" and b"<svg" in svg.data
    assert_envelope(oclient.get("/api/v1/households/H001/qr.gif", headers=tokens["officer"]), 422)
    assert_envelope(oclient.get("/api/v1/households/H001/qr.png", headers=tokens["other_village"]), 404)


def test_large_lists_page_by_region_in_the_same_walking_order(officer_app, monkeypatch):
    """Above LARGE_LIST the unfiltered list pages region by region from the counters; every
    page must equal the plain sorted query's page, including pages that span two groups."""
    from quizbot.services import households as household_service
    from quizbot.services.regions import Scope

    with officer_app.app_context():
        for i, number in enumerate(["10", "2", "1", "3", "11", "2A", "7"]):
            make_household(f"G1-{i}", "G1", members=1, house_number=number)
        for i, number in enumerate(["5", "1", "12", "4"]):
            make_household(f"G2-{i}", "G2", members=1, house_number=number)
        make_household("V1-own", "V1", members=1, house_number="9")
        scope = Scope(0, "t", "admin", None, None)

        def pages():
            return [[r["code"] for r in household_service.search(scope, "V1", page=p, per_page=3)[0]]
                    for p in range(1, 6)]

        monkeypatch.setattr(household_service, "LARGE_LIST", 10_000)
        sorted_pages = pages()
        monkeypatch.setattr(household_service, "LARGE_LIST", 0)
        walked_pages = pages()
        assert walked_pages == sorted_pages
        assert sorted_pages[0][0] == "V1-own"  # the village's own households come before its groups
        assert household_service.search(scope, "V1", page=1, per_page=3)[1] == 12


def test_a_code_registered_in_another_jurisdiction_imports_like_a_fresh_code(oclient, tokens, officer_app):
    """Issue 12: a station admin's import must not reveal that a code exists elsewhere. Codes
    are unique per region, so W1 (registered in 丙村, another township) imports exactly like a
    code nobody holds: same report, nothing of the other household shown or changed."""
    with officer_app.app_context():
        make_household("W1", "V3", address="丙村某路1号", head_name="钱七")
    taken = upload(oclient, tokens["station"], csv_bytes(["W1,甲村一组,3,王大,13812341234,王大,男,,,G1"]))
    fresh = upload(oclient, tokens["station"], csv_bytes(["W2,甲村一组,4,李四,13812341235,李四,男,,,G1"]))
    assert taken.status_code == fresh.status_code == 200, taken.get_json()
    assert taken.get_json() == fresh.get_json()
    for secret in ("丙村", "V3", "西镇", "T2", "钱七"):
        assert secret not in taken.get_data(as_text=True)
    with officer_app.app_context():
        rows = db.session.execute(sa.select(Household.head_name, Household.address)
                                  .where(Household.code == "W1").order_by(Household.id)).all()
        assert [tuple(r) for r in rows] == [("钱七", "丙村某路1号"), ("王大", "甲村一组")]
        assert not db.session.execute(sa.select(AuditLog).filter(
            AuditLog.action.like("%refused%"))).scalars().all()
    # Each officer sees only the W1 of their own jurisdiction.
    mine = oclient.get("/api/v1/households/W1", headers=tokens["station"]).get_json()["data"]
    assert (mine["head_name"], mine["region"]) == ("王大", "G1")


def test_a_code_held_twice_in_a_county_needs_its_region(oclient, tokens, officer_app):
    """A county admin over both W1s is asked which one (409 listing the regions it may see);
    ``region`` picks one, in the API, the console and a visit."""
    with officer_app.app_context():
        make_household("W1", "V3", head_name="钱七")
        make_household("W1", "G1", head_name="王大")
    error = assert_envelope(oclient.get("/api/v1/households/W1", headers=tokens["county"]), 409,
                            "household_ambiguous")
    assert sorted(error["details"]["region"]) == ["G1", "V3"]
    picked = oclient.get("/api/v1/households/W1?region=V3", headers=tokens["county"]).get_json()["data"]
    assert picked["head_name"] == "钱七"
    assert oclient.get("/api/v1/households/W1/qr.svg?region=G1", headers=tokens["county"]).status_code == 200
    assert_envelope(oclient.get("/api/v1/households/W1?region=V2", headers=tokens["county"]), 404)
    for bad in ("", "V" * 65):  # empty or too long: refused, not read as "no region"
        assert_envelope(oclient.get("/api/v1/households/W1", query_string={"region": bad},
                                    headers=tokens["county"]), 422)
    # a region outside the officer's jurisdiction reads like an unknown one
    assert_envelope(oclient.get("/api/v1/households/W1?region=V3", headers=tokens["station"]), 404)
    visit = {"id": "visit-w1-v3-0001", "household": "W1", "region": "V3", "outcome": "completed",
             "visited_at": "2026-11-29T08:00:00+08:00"}
    assert oclient.post("/api/v1/visits", json=visit, headers=tokens["county"]).status_code == 201
    assert_envelope(oclient.post("/api/v1/visits", json={**visit, "id": "visit-w1-any-0001", "region": None},
                                 headers=tokens["county"]), 422)
    del visit["region"]
    assert_envelope(oclient.post("/api/v1/visits", json={**visit, "id": "visit-w1-any-0002"},
                                 headers=tokens["county"]), 409, "household_ambiguous")
    with officer_app.app_context():
        counts = dict(db.session.execute(sa.select(Household.head_name, Household.visit_count)
                                         .where(Household.code == "W1")).all())
        assert counts == {"钱七": 1, "王大": 0}


def test_a_county_sheet_with_one_code_in_two_regions_round_trips(oclient, tokens, officer_app):
    """Two villages may both number a household 001: a county sheet holding both imports as two
    households, and importing it again changes nothing; a row whose region is not one of the
    holders must name it."""
    rows = ["001,甲村一组,1,王大,13812341234,王大,男,,,G1",
            "001,甲村一组,1,王大,13812341234,王小,女,,,G1",
            "001,丙村,1,钱七,13812341236,钱七,男,,,V3"]
    first = upload(oclient, tokens["county"], csv_bytes(rows), region="C1")
    assert first.status_code == 200, first.get_json()
    assert (first.get_json()["data"]["households_created"], first.get_json()["data"]["members_created"]) == (2, 3)
    again = upload(oclient, tokens["county"], csv_bytes(rows), region="C1").get_json()["data"]
    assert (again["households_unchanged"], again["members_unchanged"], again["households_created"]) == (2, 3, 0)
    with officer_app.app_context():
        members = dict(db.session.execute(sa.select(Household.head_name, Household.member_count)
                                          .where(Household.code == "001")).all())
        assert members == {"王大": 2, "钱七": 1}
    error = assert_envelope(upload(oclient, tokens["county"], csv_bytes(["001,乙村,1,孙,13812341237,孙,男,,,V2"]),
                                   region="C1"), 422, "import_invalid")
    assert error["details"]["errors"][0]["column"] == "户编号"
    assert "区域编码" in error["details"]["errors"][0]["reason"]


def test_control_characters_in_an_api_import_are_stripped_and_exports_still_work(oclient, tokens, officer_app):
    data = csv_bytes(["H\x00101,甲\x1c村一组,3,王\x07大,13812341234,王\x07大,男,60-69,老人,G1",
                      "H\x00101,甲\x1c村一组,3,王\x07大,13812341234,李\x0b二,女,,,G1"])
    response = upload(oclient, tokens["station"], data, name="户\x1c籍.csv")
    assert response.status_code == 200, response.get_json()
    with officer_app.app_context():
        h = db.session.execute(sa.select(Household).where(Household.code == "H101")).scalar_one()
        assert (h.address, h.head_name) == ("甲村一组", "王大")
        names = set(db.session.execute(sa.select(Member.name).where(Member.household_id == h.id)).scalars())
        assert names == {"王大", "李二"}
    export = oclient.get("/api/v1/exports/households?region=V1&format=xlsx", headers=tokens["station"])
    assert export.status_code == 200


def test_a_region_field_no_region_can_have_is_404_not_500(oclient, tokens):
    for region in ("V\x001", "V\x1c1"):
        assert_envelope(upload(oclient, tokens["station"], csv_bytes(GOOD), region=region), 404)


def test_cli_household_import_strips_control_characters(officer_app, tmp_path):
    path = tmp_path / "h.csv"
    path.write_bytes(csv_bytes(["H\x07201,甲村\x00一组,3,王大,13812341234,王\x1c大,男,,,G1"]))
    result = officer_app.test_cli_runner().invoke(args=["households", "import", str(path), "--region", "V1"])
    assert result.exit_code == 0, result.output
    with officer_app.app_context():
        h = db.session.execute(sa.select(Household).where(Household.code == "H201")).scalar_one()
        assert (h.address, h.head_name) == ("甲村一组", "王大")


def test_invite_codes_never_begin_with_a_spreadsheet_formula_character(monkeypatch):
    # the exports escape a cell beginning with "-" with "'", which would change the code
    import secrets

    from quizbot.services.invites import new_invite_code

    drawn = iter(["-abcDEF123456", "xyzDEF123456"])
    monkeypatch.setattr(secrets, "token_urlsafe", lambda n: next(drawn))
    assert new_invite_code() == "xyzDEF123456"
    monkeypatch.undo()
    codes = {new_invite_code() for _ in range(2000)}
    assert len(codes) == 2000 and not any(c.startswith("-") for c in codes)
