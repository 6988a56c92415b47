"""POST /api/v1/chat: verdicts over HTTP, bad input, rate limits and the chat log."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from quizbot.extensions import db
from quizbot.models import ChatLog
from tests.test_api_errors import assert_envelope


def ask(client, **body):
    body.setdefault("user_id", uuid.uuid4().hex)
    return client.post("/api/v1/chat", json=body)


def test_chat_returns_verdict_and_reply(client):
    response = ask(client, text="有个自称京东客服的说要给我理赔，让我共享屏幕")
    assert response.status_code == 200
    data = response.get_json()["data"]
    assert data["risk"] == "high" and data["scam_types"][0]["id"] == "fake_customer_service"
    assert data["scam_types"][0]["name"] and data["scam_types"][0]["evidence"]
    assert "96110" in data["reply"]


@pytest.mark.parametrize("body,field", [
    ({}, "text"),
    ({"text": ""}, "text"),
    ({"text": "   \n "}, "text"),
    ({"text": 123}, "text"),
    ({"text": ["a"]}, "text"),
    ({"text": "x" * 5001}, "text"),
    ({"text": "你好", "user_id": "u" * 65}, "user_id"),
    ({"text": "你好", "user_id": 7}, "user_id"),
    ({"text": "你好", "extra": True}, "extra"),
])
def test_bad_chat_input_is_422_naming_the_field(client, body, field):
    response = client.post("/api/v1/chat", json=body)
    assert field in assert_envelope(response, 422)["details"]


def test_chat_is_logged_without_text_or_raw_user_id(app, client):
    ask(client, text="中奖了要先交手续费", user_id="resident-42")
    with app.app_context():
        row = db.session.execute(sa.select(ChatLog)).scalar_one()
    assert row.text is None and row.user_hash and "resident-42" not in row.user_hash
    assert row.risk in ("high", "medium", "low") and row.channel == "api"


def test_chat_text_is_logged_only_when_enabled(app, client):
    app.config["CHAT_LOG_TEXT"] = True
    ask(client, text="中奖了要先交手续费")
    with app.app_context():
        assert db.session.execute(sa.select(ChatLog.text)).scalar_one() == "中奖了要先交手续费"


def test_chat_is_rate_limited_per_user(app, client):
    app.config["CHAT_RATE_LIMIT"] = "3 per minute"
    user = uuid.uuid4().hex
    codes = [ask(client, text="你好", user_id=user).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert_envelope(ask(client, text="你好", user_id=user), 429, "rate_limited")
    assert ask(client, text="你好").status_code == 200  # another resident is not blocked


def test_chat_is_rate_limited_per_ip(app, client):
    app.config["CHAT_IP_RATE_LIMIT"] = "2 per minute"
    ip = {"REMOTE_ADDR": "10.9.8.7"}
    codes = [client.post("/api/v1/chat", json={"text": "你好", "user_id": uuid.uuid4().hex},
                         environ_base=ip).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


@pytest.mark.parametrize("text", [
    "已经把六万转给投资导师，现在说要交税才能提",
    "手机银行显示我卡里少了五万，我没操作过",  # session 5: money gone from the account
    "按那个客服说的在网页上填了卡号密码和验证码，结果卡里的存款全被提走了",  # the learned lane
])
def test_money_moved_over_http_is_an_emergency_for_a_page(client, text):
    data = ask(client, text=text).get_json()["data"]
    assert data["intent"] == "emergency" and data["emergency"] is True and data["risk"] == "high"
    assert data["reply"].startswith("🚨") and "紧急止付" in data["reply"]
    assert data["advice"][0].startswith("立刻停止转账") and any("110" in a for a in data["advice"][:2])


def test_official_warning_over_http_is_called_genuine(client):
    data = ask(client, text="收到12381的短信，说我可能正在遭遇诈骗，这是真的吗").get_json()["data"]
    assert data["intent"] == "official" and "真实" in data["reply"]
    assert not any(word in data["reply"] for word in ("可能是假", "不一定可信", "冒充"))


def test_evidence_for_a_page_is_quoted_as_written(client):
    text = "有個自稱京東客服的說要給我理賠，讓我共享屏幕"  # traditional characters
    data = ask(client, text=text).get_json()["data"]
    assert data["evidence"] and all(e in text for e in data["evidence"])
    assert len(data["evidence"]) == len(set(data["evidence"]))


@pytest.mark.parametrize("code", ["", "x" * 33, 12345, ["a"]])
def test_bad_invite_code_is_422(client, code):
    response = client.post("/api/v1/chat", json={"text": "你好", "invite_code": code})
    assert "invite_code" in assert_envelope(response, 422)["details"]
