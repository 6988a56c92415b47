"""Personal data stays where it belongs: phone search only on the whole number, chat text
stored with numbers masked, and no phone, name, openid or invite code in any log line."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from quizbot.extensions import db
from quizbot.models import ChatLog
from quizbot.text import mask_personal
from tests.officers.conftest import make_household


@pytest.fixture
def registry(officer_app):
    with officer_app.app_context():
        make_household("H1", "G1", phone="13901234567", head_name="王建国")
        make_household("H2", "G1", phone="139-0123-9999", head_name="李秀英")
    return officer_app


def _codes(client, headers, q):
    response = client.get("/api/v1/households", query_string={"q": q, "region": "G1"}, headers=headers)
    assert response.status_code == 200, response.get_json()
    return sorted(row["code"] for row in response.get_json()["data"])


def test_phone_search_needs_the_whole_number(registry, oclient, tokens):
    grid = tokens["grid"]
    # The old walk: a prefix with a wildcard, a digit more each time.
    for probe in ("1390%", "1390", "13901", "139012345", "%4567", "139_1234567", "4567"):
        assert _codes(oclient, grid, probe) == [], probe
    assert _codes(oclient, grid, "13901234567") == ["H1"]
    assert _codes(oclient, grid, "+86 139 0123 4567") == ["H1"]
    assert _codes(oclient, grid, "13901239999") == ["H2"]  # stored with dashes, found by digits
    assert _codes(oclient, grid, "王建") == ["H1"]          # names and codes still match in part
    assert _codes(oclient, grid, "H") == ["H1", "H2"]


def test_mask_personal():
    text = "电话13812345678，身份证110101199003071234，卡号6222 0212 3456 7890 123，订单2026112901"
    masked = mask_personal(text)
    for secret in ("13812345678", "110101199003071234", "62220212345678901", "5678901"):
        assert secret not in masked.replace(" ", "")
    assert "订单2026112901" in masked and "138****5678" in masked


def test_stored_chat_text_is_masked(quiz_client, loaded_app):
    loaded_app.config["CHAT_LOG_TEXT"] = True
    text = "对方让我把13812345678的验证码和身份证110101199003071234、银行卡6222021234567890123发给他"
    assert quiz_client.post("/api/v1/chat", json={"text": text}).status_code == 200
    with loaded_app.app_context():
        stored = db.session.execute(sa.select(ChatLog.text)).scalar_one()
    assert "13812345678" not in stored and "110101199003071234" not in stored
    assert "6222021234567890123" not in stored and "验证码" in stored


PHONES = ("13901234567", "13901239999", "13987654321")
NAMES = ("王建国", "李秀英", "赵铁柱")


def test_no_personal_data_in_the_logs(registry, oclient, tokens, caplog):
    """A run that searches, exports with a reason, fails in the database and logs requests: the
    captured log holds none of the phones, names, openids or invite codes it used."""
    caplog.set_level(logging.DEBUG)
    registry.config["PROPAGATE_EXCEPTIONS"] = False
    county = tokens["county"]
    for q in PHONES[:2] + NAMES[:2]:
        oclient.get("/api/v1/households", query_string={"q": q}, headers=county)
    oclient.get("/api/v1/exports/households", headers=county, query_string={
        "region": "C1", "full": "true", "reason": f"核查{NAMES[2]}来电{PHONES[2]}"})
    with registry.app_context():
        invite = db.session.execute(sa.text("select invite_code from household where code='H1'")).scalar()
        try:  # a database error whose statement carries a name and a phone
            db.session.execute(sa.text("insert into household (code, head_name, phone) values (:c, :n, :p)"),
                               {"c": "H1", "n": NAMES[2], "p": PHONES[2]})
        except sa.exc.SQLAlchemyError:
            logging.getLogger("quizbot.test").exception("insert failed")
            db.session.rollback()
    # What an access log writes (gunicorn, Werkzeug): the request line with its query string.
    access = logging.getLogger("gunicorn.access")
    access.info('1.2.3.4 - - "GET /api/v1/households?q=%s&region=V1 HTTP/1.1" 200', PHONES[0])
    access.info('1.2.3.4 - - "POST /wechat?signature=x&timestamp=1&nonce=2&openid=oAbCdEf123456 HTTP/1.1" 200')
    access.info('1.2.3.4 - - "GET /q/%s HTTP/1.1" 200', invite)
    logging.getLogger("werkzeug").info('"GET /check?invite=%s HTTP/1.1" 200', invite)
    logged = caplog.text + "".join(r.getMessage() for r in caplog.records)
    assert "insert failed" in logged and "GET /api/v1/households" in logged
    for secret in PHONES + NAMES + ("oAbCdEf123456", invite):
        assert secret not in logged, secret
