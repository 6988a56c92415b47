"""WeChat callback hardening: WECHAT_MODE, URL-check parameters not replayable, a MsgId's
stored reply only for its own user, and racing deliveries of one callback answered alike."""

from __future__ import annotations

import threading

import pytest

from config import TestConfig
from quizbot import ConfigurationError, create_app
from tests.wechat.conftest import AES_KEY, TOKEN, WxClient, message_xml, sign, unique


def test_safe_mode_refuses_plaintext(wx_app, bot_calls):
    wx_app.config["WECHAT_MODE"] = "safe"
    plain, safe = WxClient(wx_app.test_client()), WxClient(wx_app.test_client(), aes_key=AES_KEY)
    assert plain.post(message_xml("text", Content="有人让我转账")).status_code == 403
    assert bot_calls == []
    assert "反诈小助手" in safe.say("帮助")


def test_plain_mode_refuses_ciphertext(wx_app, bot_calls):
    wx_app.config["WECHAT_MODE"] = "plain"
    safe = WxClient(wx_app.test_client(), aes_key=AES_KEY)
    assert safe.post(message_xml("text", Content="有人让我转账")).status_code == 400
    assert "反诈小助手" in WxClient(wx_app.test_client()).say("帮助")


def test_unknown_mode_stops_start_up():
    class Bad(TestConfig):
        WECHAT_MODE = "secure"

    with pytest.raises(ConfigurationError):
        create_app(Bad)


def test_url_check_parameters_cannot_be_replayed(wx, bot_calls):
    import time

    timestamp, nonce = str(int(time.time())), f"n{unique()}"
    query = {"timestamp": timestamp, "nonce": nonce, "signature": sign(TOKEN, timestamp, nonce),
             "echostr": "hello123"}
    assert wx.client.get("/wechat", query_string=query).get_data(as_text=True) == "hello123"
    assert wx.client.get("/wechat", query_string=query).status_code == 403  # the check itself
    post = {k: v for k, v in query.items() if k != "echostr"}
    response = wx.client.post("/wechat", query_string=post, content_type="text/xml",
                              data=message_xml("text", Content="有人让我转账到安全账户"))
    assert response.status_code == 403
    assert bot_calls == []


def test_a_retried_msgid_answers_only_its_own_user(wx):
    msg_id = unique()
    first = wx.reply_text(wx.post(message_xml("text", Content="帮助", user="oOwner", msg_id=msg_id)))
    assert "反诈小助手" in first
    stolen = wx.post(message_xml("text", Content="帮助", user="oThief", msg_id=msg_id))
    assert stolen.status_code == 403 and "反诈" not in stolen.get_data(as_text=True)
    again = wx.post(message_xml("text", Content="帮助", user="oOwner", msg_id=msg_id))
    assert wx.reply_text(again) == first


def test_racing_deliveries_of_one_callback_agree(wx_app, bot_calls):
    if wx_app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite://":
        pytest.skip("one in-memory SQLite connection cannot race; runs on PostgreSQL and files")
    xml, nonce, timestamp = message_xml("text", Content="帮助", msg_id=unique()), f"n{unique()}", None
    barrier, statuses = threading.Barrier(6), []

    def deliver():
        client = WxClient(wx_app.test_client())
        barrier.wait()
        statuses.append(client.post(xml, nonce=nonce, timestamp=timestamp).status_code)

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 6
