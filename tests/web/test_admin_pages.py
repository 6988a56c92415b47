"""The officers' console through the Flask test client: sign-in, jurisdiction, forms."""

from __future__ import annotations

import io

import sqlalchemy as sa

from quizbot.extensions import db
from quizbot.models import AuditLog, AuthToken, Household, User, Visit
from quizbot.services import accounts
from tests.officers.conftest import PASSWORD, make_household
from tests.web.conftest import csrf_from, sign_in, token_of


def test_pages_need_a_session_and_login_is_checked(accounts_app):
    client = accounts_app.test_client()
    response = client.get("/admin/households?region=G1")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
    bad = sign_in(client, "station", "wrong-password")
    assert bad.status_code == 401 and "用户名或密码错误" in bad.get_data(as_text=True)
    unknown = sign_in(client, "nobody", "wrong-password")
    assert unknown.status_code == 401 and "用户名或密码错误" in unknown.get_data(as_text=True)
    ok = sign_in(client, "station")
    assert ok.status_code == 303
    assert "Set-Cookie" in ok.headers and "HttpOnly" in ok.headers["Set-Cookie"]
    assert "SameSite=Lax" in ok.headers["Set-Cookie"]
    assert client.get("/admin/households?region=G1").status_code == 200


def test_login_redirects_only_on_site(accounts_app):
    client = accounts_app.test_client()
    page = client.get("/admin/login?next=//evil.example/").get_data(as_text=True)
    response = client.post("/admin/login", data={"csrf_token": csrf_from(page), "username": "station",
                                                  "password": PASSWORD, "next": "https://evil.example/"})
    assert response.headers["Location"] == "/admin"


def test_logout_revokes_the_server_side_session(accounts_app):
    client = accounts_app.test_client()
    sign_in(client, "station")
    token = token_of(client)
    assert client.post("/admin/logout", data={"csrf_token": token}).status_code == 303
    assert client.get("/admin/households").status_code == 302
    with accounts_app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(AuthToken)
                                  .where(AuthToken.revoked_at.is_(None))).scalar_one() == 0


def test_idle_session_expires(accounts_app):
    client = accounts_app.test_client()
    sign_in(client, "station")
    with accounts_app.app_context():
        db.session.execute(sa.update(AuthToken).values(expires_at=sa.func.current_timestamp()))
        db.session.commit()
    assert client.get("/admin/households").status_code == 302


def test_generated_password_must_be_changed_first(page_app):
    with page_app.app_context():
        accounts.ensure_first_admin("generated-pass-1")
    client = page_app.test_client()
    assert sign_in(client, "admin", "generated-pass-1").status_code == 303
    response = client.get("/admin/households?region=G1")
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/password")
    page = client.get("/admin/password").get_data(as_text=True)
    mismatch = client.post("/admin/password", data={"csrf_token": csrf_from(page), "old_password": "generated-pass-1",
                                                    "new_password": "a-new-pass-22", "confirm_password": "other-pass-22"})
    assert mismatch.status_code == 422 and "不一致" in mismatch.get_data(as_text=True)
    done = client.post("/admin/password", data={"csrf_token": csrf_from(page), "old_password": "generated-pass-1",
                                                "new_password": "a-new-pass-22", "confirm_password": "a-new-pass-22"})
    assert done.status_code == 303
    assert sign_in(client, "admin", "a-new-pass-22").status_code == 303
    assert client.get("/admin/households?region=G1").status_code == 200
    with page_app.app_context():
        assert db.session.execute(sa.select(User).filter_by(username="admin")).scalar_one().must_change_password is False


def test_out_of_jurisdiction_is_404_and_lower_role_403(accounts_app):
    client = accounts_app.test_client()
    sign_in(client, "west")  # an officer of the other township
    for url in ("/admin/regions/V1", "/admin/households/H1", "/admin/households?region=V1",
                "/admin/revisits?region=G1", "/admin/regions/G1/qr-sheet", "/admin/households/H1/qr.svg"):
        response = client.get(url)
        assert response.status_code == 404 and response.mimetype == "text/html", url
        assert "不在您的辖区" in response.get_data(as_text=True)
    assert client.get("/admin/import").status_code == 403
    assert client.get("/admin/audit").status_code == 403


def test_household_list_walks_in_natural_order_and_masks_phones(accounts_app):
    client = accounts_app.test_client()
    sign_in(client, "grid")
    html = client.get("/admin/households?region=G1").get_data(as_text=True)
    assert "13812345678" not in html and "138****5678" in html
    detail = client.get("/admin/households/H1").get_data(as_text=True)
    assert "王小华" in detail and "/q/" in detail and "13812345678" not in detail
    assert "老人" in detail and "elderly" not in detail  # tags in Chinese, not their stored ids
    assert client.get("/admin/households?region=G1&status=bogus").status_code == 422
    assert client.get("/admin/households?region=G1&page=0").status_code == 422


def test_visit_form_is_idempotent_and_csrf_checked(accounts_app):
    client = accounts_app.test_client()
    sign_in(client, "grid")
    token = token_of(client)
    form = {"visit_id": "visit-abc-123", "household": "H2", "outcome": "not_home", "csrf_token": token}
    assert client.post("/admin/visits", data={k: v for k, v in form.items() if k != "csrf_token"}).status_code == 400
    first = client.post("/admin/visits", data=form, headers={"Accept": "application/json"})
    again = client.post("/admin/visits", data=form, headers={"Accept": "application/json"})
    assert first.status_code == 201 and again.status_code == 200
    assert client.post("/admin/visits", data={**form, "visit_id": "visit-xyz-999", "outcome": "lost"}).status_code == 422
    assert client.post("/admin/visits", data={**form, "visit_id": "visit-xyz-999", "household": "H404"}).status_code == 404
    with accounts_app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(Visit)).scalar_one() == 1


SHEET_OK = "户编号,地址,门牌号,户主,联系电话,成员姓名,性别,年龄段,标签\nN1,一组,5,周一,13900001111,周一,男,36-59,\n"
SHEET_BAD = SHEET_OK + "N2,一组,6,周二,12345,周二,男,36-59,\nN3,一组,7,周三,13900002222,周三,男,不知道,\n"


def _upload(client, text: str, region: str = "G1"):
    page = client.get("/admin/import").get_data(as_text=True)
    return client.post("/admin/import", data={"csrf_token": csrf_from(page), "region": region,
                                              "file": (io.BytesIO(text.encode()), "sheet.csv")},
                       content_type="multipart/form-data")


def test_import_previews_errors_then_writes_on_confirm(accounts_app):
    client = accounts_app.test_client()
    sign_in(client, "station")
    bad = _upload(client, SHEET_BAD)
    assert bad.status_code == 303 and "/admin/import/jobs/" in bad.headers["Location"]
    html = client.get(bad.headers["Location"]).get_data(as_text=True)
    assert "<td>3</td>" in html and "<td>4</td>" in html and "什么都没有写入" in html
    ok = _upload(client, SHEET_OK)
    job_url = ok.headers["Location"]
    preview = client.get(job_url)
    assert preview.status_code == 200 and "新增 1 户" in preview.get_data(as_text=True)
    with accounts_app.app_context():  # the preview wrote nothing
        assert db.session.execute(sa.select(Household).filter_by(code="N1")).scalar_one_or_none() is None
    done = client.post(job_url + "/confirm", data={"csrf_token": token_of(client)})
    assert done.status_code == 303
    assert "导入完成" in client.get(job_url).get_data(as_text=True)
    with accounts_app.app_context():
        assert db.session.execute(sa.select(Household).filter_by(code="N1")).scalar_one().head_name == "周一"
    again = client.post(job_url + "/confirm", data={"csrf_token": token_of(client)})
    assert again.status_code == 303  # a second click imports nothing twice
    with accounts_app.app_context():
        imports = db.session.execute(sa.select(AuditLog).filter_by(action="household_import")).scalars().all()
        assert len(imports) == 1


def test_qr_sheet_pdf_and_exports(accounts_app):
    client = accounts_app.test_client()
    sign_in(client, "station")
    sheet = client.get("/admin/regions/G1/qr-sheet").get_data(as_text=True)
    assert sheet.count('class="code"') == 3
    pdf = client.get("/admin/regions/G1/qr-sheet?format=pdf")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    xlsx = client.get("/admin/exports/households.xlsx?region=G1")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    assert client.get("/admin/exports/secrets.csv?region=G1").status_code == 422


def test_review_decision_is_audited_with_note(accounts_app):
    from quizbot.services import integrity

    with accounts_app.app_context():
        household = db.session.execute(sa.select(Household).filter_by(code="H1")).scalar_one()
        row = integrity.flag("quiz", ["too_fast"], region_id=household.region_id)
        db.session.commit()
        flag_id = row.id
    client = accounts_app.test_client()
    sign_in(client, "station")
    page = client.get("/admin/integrity").get_data(as_text=True)
    assert "答题太快" in page or "too_fast" not in page
    response = client.post(f"/admin/integrity/{flag_id}",
                           data={"csrf_token": csrf_from(page), "decision": "reject", "note": "同一人代答"})
    assert response.status_code == 303
    with accounts_app.app_context():
        entry = db.session.execute(sa.select(AuditLog).filter_by(action="integrity_reject")).scalar_one()
        assert entry.reason == "同一人代答" and entry.username == "station"
    assert client.post(f"/admin/integrity/{flag_id}", data={"csrf_token": csrf_from(page),
                                                            "decision": "accept"}).status_code == 409


def test_dashboard_and_reports_render_for_county(accounts_app):
    client = accounts_app.test_client()
    sign_in(client, "county")
    dash = client.get("/admin")
    html = dash.get_data(as_text=True)
    assert dash.status_code == 200 and "住户覆盖率" in html and "<svg" in html
    report = client.get("/admin/reports?from=2026-11-01&to=2026-11-29").get_data(as_text=True)
    assert "阶段工作总结" in report
    assert client.get("/admin/reports?from=yesterday").status_code == 422
    assert client.get("/admin/audit?from=2026-11-01").status_code == 200
    # Dates no campaign has: a friendly 422 page, not a 500 (0001-01-01 in Shanghai is before
    # year 1 in UTC; 9999-12-31 has no next day).
    for url in ("/admin/reports?from=0001-01-01&to=0001-01-02", "/admin/reports?from=9999-12-30&to=9999-12-31",
                "/admin/audit?from=0001-01-01", "/admin/audit?to=9999-12-31"):
        bad = client.get(url)
        assert bad.status_code == 422 and "日期超出范围" in bad.get_data(as_text=True), url


def test_household_list_filters_held(accounts_app):
    from quizbot.models import QuizSession
    from quizbot.services import integrity

    with accounts_app.app_context():
        household = db.session.execute(sa.select(Household).filter_by(code="H2")).scalar_one()
        session = QuizSession(id="held-session-1", created_at=household.created_at, expires_at=household.created_at,
                              bank_version="x", question_ids=[], household_id=household.id,
                              region_id=household.region_id)
        db.session.add(session)
        integrity.flag("quiz", ["too_fast"], region_id=household.region_id, session=session)
        db.session.commit()
    client = accounts_app.test_client()
    sign_in(client, "station")
    html = client.get("/admin/households?region=G1&status=held").get_data(as_text=True)
    assert ">H2</a>" in html and ">H1</a>" not in html and ">H3</a>" not in html and "待审核" in html


def test_import_template_is_the_commented_xlsx(accounts_app):
    from openpyxl import load_workbook

    client = accounts_app.test_client()
    sign_in(client, "station")
    response = client.get("/admin/import/template.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet["A1"].value == "户编号" and sheet["A1"].comment is not None


def test_a_code_held_in_two_villages_is_asked_for_and_linked_with_its_region(accounts_app):
    """Codes are unique per region (issue 12): the county admin's list links each W1 with its
    region, and the bare code gets a friendly 409 page, not the wrong household or a 500."""
    with accounts_app.app_context():
        make_household("W1", "V3", head_name="钱七")
        make_household("W1", "G1", head_name="孙八")
    client = accounts_app.test_client()
    sign_in(client, "county")
    listing = client.get("/admin/households?region=C1&q=W1").get_data(as_text=True)
    assert "/admin/households/W1?region=V3" in listing and "/admin/households/W1?region=G1" in listing
    bare = client.get("/admin/households/W1")
    assert bare.status_code == 409 and "请同时指明区域编码" in bare.get_data(as_text=True)
    assert "Traceback" not in bare.get_data(as_text=True)
    page = client.get("/admin/households/W1?region=V3").get_data(as_text=True)
    assert "钱七" in page and "孙八" not in page
    assert client.get("/admin/households/W1/qr.svg?region=G1").status_code == 200
