"""The callback protocol as WeChat's servers speak it: signatures, time, replay, parsing, crypto."""

from __future__ import annotations

import base64
import time

import pytest
import sqlalchemy as sa
import xmltodict
from wechatpy.crypto import WeChatCrypto
from wechatpy.enterprise.crypto import WeChatCrypto as WeComCrypto

from quizbot.extensions import db
from quizbot.models import ChatLog, WechatMessage
from quizbot.wechat import adapter, callback, replies

from .conftest import (
    ACCOUNT,
    AES_KEY,
    APP_ID,
    CORP_ID,
    OLD_AES_KEY,
    TOKEN,
    WECOM_KEY,
    WECOM_TOKEN,
    WxClient,
    message_xml,
    sign,
    unique,
)

# --- signatures -------------------------------------------------------------------------


def test_official_signature_vector():
    assert adapter.sign("AAAAA", "1714036504", "1514711492") == "f464b24fc39322e44b38aa78f5edd27bd1441696"
    assert adapter.signature_ok(("AAAAA", "1714036504", "1514711492"),
                                "f464b24fc39322e44b38aa78f5edd27bd1441696")


def test_url_check_with_official_vector(wx_app, monkeypatch):
    wx_app.config["WECHAT_TOKEN"] = "AAAAA"
    monkeypatch.setattr(callback, "_now", lambda: 1714036504.0)
    query = {"signature": "f464b24fc39322e44b38aa78f5edd27bd1441696", "timestamp": "1714036504",
             "nonce": "1514711492", "echostr": "4375120948345356249"}
    response = wx_app.test_client().get("/wechat", query_string=query)
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "4375120948345356249"


@pytest.mark.parametrize("signature", [None, "", "0" * 40, "f464b24fc39322e44b38aa78f5edd27bd144169",
                                       "not-a-signature"])
def test_url_check_bad_or_missing_signature_is_refused_without_echo(wx, signature):
    query = wx.args()
    query["echostr"] = "echo-me-123"
    if signature is None:
        del query["signature"]
    else:
        query["signature"] = signature
    response = wx.client.get("/wechat", query_string=query)
    assert response.status_code in (400, 403)
    assert "echo-me-123" not in response.get_data(as_text=True)


def test_url_check_ok_and_uppercase_signature_ok(wx):
    query = dict(wx.args(), echostr="echo-me-123")
    assert wx.client.get("/wechat", query_string=query).get_data(as_text=True) == "echo-me-123"


def test_post_bad_missing_signature(wx, bot_calls):
    xml = message_xml("text", Content="你好")
    assert wx.post(xml, query=lambda a: dict(a, signature="0" * 40)).status_code == 403
    assert wx.post(xml, query=lambda a: {k: v for k, v in a.items() if k != "signature"}).status_code == 403
    assert bot_calls == []


def test_post_swapped_signature_in_safe_mode(wx_aes, bot_calls):
    """``signature`` where ``msg_signature`` belongs does not decrypt anything."""
    xml = message_xml("text", Content="你好")

    def swap(args):
        return {**args, "msg_signature": args["signature"]}

    assert wx_aes.post(xml, query=swap).status_code == 403

    def drop(args):
        return {k: v for k, v in args.items() if k != "msg_signature"}

    assert wx_aes.post(xml, query=drop).status_code == 403
    assert bot_calls == []


@pytest.mark.parametrize("offset", [-301, -3600, 301, 86400])
def test_stale_and_future_timestamps_refused(wx, bot_calls, offset):
    response = wx.post(message_xml("text", Content="你好"), timestamp=int(time.time()) + offset)
    assert response.status_code == 403
    assert bot_calls == []


def test_timestamp_inside_window_accepted(wx):
    response = wx.post(message_xml("text", Content="帮助"), timestamp=int(time.time()) - 250)
    assert "96110" in wx.reply_text(response)


def test_bad_timestamp_is_400(wx):
    assert wx.post(message_xml("text", Content="你好"), query=lambda a: dict(a, timestamp="abc")).status_code == 400


def test_reused_nonce_refused_for_a_new_message(wx, bot_calls):
    nonce = f"n{unique()}"
    assert wx.post(message_xml("text", Content="帮助"), nonce=nonce).status_code == 200
    response = wx.post(message_xml("text", Content="有人让我转账"), nonce=nonce)
    assert response.status_code == 403
    assert bot_calls == []


def test_reused_nonce_for_a_retry_gets_the_stored_reply(wx):
    nonce, xml = f"n{unique()}", message_xml("text", Content="帮助", msg_id=unique())
    first = wx.reply_text(wx.post(xml, nonce=nonce))
    assert wx.reply_text(wx.post(xml, nonce=nonce)) == first


# --- parsing ----------------------------------------------------------------------------

BAD_BODIES = {
    "empty": b"",
    "whitespace": b"   \n ",
    "malformed": b"<xml><ToUserName>abc</xml>",
    "not xml": b"hello world",
    "wrong root": b"<root><MsgType>text</MsgType><FromUserName>u</FromUserName></root>",
    "empty root": b"<xml></xml>",
    "self closing": b"<xml/>",
    "no msgtype": b"<xml><FromUserName>u</FromUserName><CreateTime>1</CreateTime></xml>",
    "bad create time": b"<xml><FromUserName>u</FromUserName><MsgType>text</MsgType><CreateTime>x</CreateTime></xml>",
    "undefined entity": b"<xml><FromUserName>&a;</FromUserName></xml>",
    "latin1": "<xml><FromUserName>é</FromUserName></xml>".encode("latin-1"),
    "nested": b"<xml><MsgType><a>1</a></MsgType><FromUserName>u</FromUserName></xml>",
}


@pytest.mark.parametrize("name", sorted(BAD_BODIES))
def test_unparseable_bodies_are_logged_400(wx, bot_calls, caplog, name):
    response = wx.post(BAD_BODIES[name])
    assert response.status_code == 400, name
    assert bot_calls == []
    assert any("refused" in r.getMessage() for r in caplog.records)


def test_control_characters_are_stripped_before_parsing(wx):
    xml = message_xml("text", Content="帮\x01助\x1f")
    assert "反诈小助手" in wx.reply_text(wx.post(xml))


def test_oversize_body_is_413_even_below_max_content_length(wx, wx_app):
    assert wx_app.config["MAX_CONTENT_LENGTH"] > 70_000
    body = message_xml("text", Content="骗" * 25_000)  # ~75 KB
    assert wx.post(body).status_code == 413


def test_declared_oversize_is_413(wx):
    response = wx.client.post("/wechat", query_string=wx.args(), data=b"<xml></xml>",
                              environ_overrides={"CONTENT_LENGTH": "999999"}, content_type="text/xml")
    assert response.status_code == 413


# --- XML attacks ------------------------------------------------------------------------

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE xml [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<xml><ToUserName>gh</ToUserName><FromUserName>oUser</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>&lol9;</Content><MsgId>1</MsgId></xml>"""


def xxe(path) -> str:
    return f"""<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file://{path}">]>
<xml><ToUserName>gh</ToUserName><FromUserName>oUser</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>&xxe;</Content><MsgId>2</MsgId></xml>"""


def quadratic_blowup() -> str:
    big = "A" * 20_000
    return (f'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "{big}">]>'
            "<xml><ToUserName>gh</ToUserName><FromUserName>oUser</FromUserName><CreateTime>1</CreateTime>"
            "<MsgType>text</MsgType><Content>" + "&a;" * 2_000 + "</Content></xml>")


@pytest.fixture
def secret_file(tmp_path):
    path = tmp_path / "secret.txt"
    path.write_text("TOP-SECRET-CONTENTS", encoding="utf-8")
    return path


def _attacks(secret_file):
    return {"billion laughs": BILLION_LAUGHS, "xxe": xxe(secret_file),
            "quadratic blowup": quadratic_blowup()}


@pytest.mark.parametrize("name", ["billion laughs", "xxe", "quadratic blowup"])
def test_xml_attacks_refused_fast_plain(wx, wx_app, bot_calls, secret_file, name):
    started = time.perf_counter()
    response = wx.post(_attacks(secret_file)[name].encode())
    assert time.perf_counter() - started < 1.0
    assert response.status_code == 400
    assert b"TOP-SECRET" not in response.get_data()
    assert bot_calls == []
    with wx_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(WechatMessage)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ChatLog)) == 0


@pytest.mark.parametrize("name", ["billion laughs", "xxe", "quadratic blowup"])
def test_xml_attacks_refused_fast_inside_ciphertext(wx_aes, bot_calls, secret_file, name):
    started = time.perf_counter()
    response = wx_aes.post(_attacks(secret_file)[name])
    assert time.perf_counter() - started < 1.0
    assert response.status_code == 400
    assert bot_calls == []


@pytest.mark.parametrize("name", ["billion laughs", "xxe", "quadratic blowup"])
def test_wechatpy_parser_itself_refuses_entities(secret_file, name):
    """Even without our DTD pre-check, wechatpy's xmltodict refuses entity declarations."""
    from wechatpy import parse_message

    started = time.perf_counter()
    with pytest.raises(ValueError, match="entities are disabled"):
        parse_message(_attacks(secret_file)[name])
    assert time.perf_counter() - started < 1.0


# --- safe mode crypto -------------------------------------------------------------------


def test_safe_mode_round_trip(wx_aes):
    assert "反诈小助手" in wx_aes.say("帮助")


def test_compatible_mode_plain_post_still_answers(wx):
    assert "反诈小助手" in wx.say("帮助")


def test_rotated_key_still_decrypts(wx_app):
    old = WxClient(wx_app.test_client(), aes_key=OLD_AES_KEY)
    response = old.post(message_xml("text", Content="帮助"))
    assert response.status_code == 200
    # The reply goes out under the current key.
    current = WxClient(wx_app.test_client(), aes_key=AES_KEY)
    assert "反诈小助手" in current.reply_text(response)


def test_unknown_key_is_400(wx_app, bot_calls):
    other = WxClient(wx_app.test_client(), aes_key="Q" * 43)
    assert other.post(message_xml("text", Content="帮助")).status_code == 400
    assert bot_calls == []


def test_wrong_app_id_is_400(wx_app, bot_calls):
    wrong = WxClient(wx_app.test_client(), aes_key=AES_KEY, receive_id="wx_wrong_app")
    assert wrong.post(message_xml("text", Content="帮助")).status_code == 400
    assert bot_calls == []


def _post_ciphertext(client, encrypt: str, path="/wechat", token=TOKEN):
    ts, nonce = str(int(time.time())), f"n{unique()}"
    query = {"timestamp": ts, "nonce": nonce, "encrypt_type": "aes", "signature": sign(token, ts, nonce),
             "msg_signature": sign(token, ts, nonce, encrypt)}
    body = f"<xml><ToUserName>{ACCOUNT}</ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    return client.post(path, query_string=query, data=body, content_type="text/xml")


@pytest.mark.parametrize("encrypt", [
    "not base64 at all!!!",
    "abc",  # bad padding
    base64.b64encode(b"x" * 17).decode(),  # not a multiple of the block size
    base64.b64encode(b"x" * 32).decode(),  # decrypts to garbage
    base64.b64encode(b"").decode() or "=",
])
def test_bad_ciphertext_is_400(wx_app, bot_calls, encrypt):
    response = _post_ciphertext(wx_app.test_client(), encrypt)
    assert response.status_code == 400
    assert bot_calls == []


def test_missing_encrypt_element_is_400(wx_aes):
    ts, nonce = str(int(time.time())), f"n{unique()}"
    query = {"timestamp": ts, "nonce": nonce, "encrypt_type": "aes", "msg_signature": "0" * 40}
    response = wx_aes.client.post("/wechat", query_string=query, data="<xml><ToUserName>a</ToUserName></xml>")
    assert response.status_code == 400


def test_ciphertext_of_garbage_plaintext_is_400(wx_app):
    crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
    envelope = xmltodict.parse(crypto.encrypt_message("<xml><oops", "n1", "1"))["xml"]
    assert _post_ciphertext(wx_app.test_client(), envelope["Encrypt"]).status_code == 400


# --- WeCom ------------------------------------------------------------------------------


def test_wecom_echostr_is_decrypted(wecom):
    crypto = WeComCrypto(WECOM_TOKEN, WECOM_KEY, CORP_ID)
    ts, nonce = str(int(time.time())), f"n{unique()}"
    envelope = xmltodict.parse(crypto.encrypt_message("1616140317555161061", nonce, ts))["xml"]
    query = {"msg_signature": envelope["MsgSignature"], "timestamp": ts, "nonce": nonce,
             "echostr": envelope["Encrypt"]}
    response = wecom.client.get("/wecom", query_string=query)
    assert response.status_code == 200
    assert response.get_data() == b"1616140317555161061"


def test_wecom_echostr_bad_signature_refused(wecom):
    crypto = WeComCrypto(WECOM_TOKEN, WECOM_KEY, CORP_ID)
    ts, nonce = str(int(time.time())), "n1"
    envelope = xmltodict.parse(crypto.encrypt_message("1616140317555161061", nonce, ts))["xml"]
    query = {"msg_signature": "0" * 40, "timestamp": ts, "nonce": nonce, "echostr": envelope["Encrypt"]}
    response = wecom.client.get("/wecom", query_string=query)
    assert response.status_code == 403
    assert b"1616140317555161061" not in response.get_data()


def test_wecom_message_round_trip(wecom):
    xml = message_xml("text", to=CORP_ID, Content="帮助", AgentID="1000002")
    assert "反诈小助手" in wecom.reply_text(wecom.post(xml))


def test_wecom_wrong_corp_id_is_400(wx_app, bot_calls):
    wrong = WxClient(wx_app.test_client(), "/wecom", token=WECOM_TOKEN, aes_key=WECOM_KEY,
                     receive_id="ww_wrong")
    assert wrong.post(message_xml("text", Content="帮助")).status_code == 400


def test_wecom_plain_post_refused(wx_app):
    client = WxClient(wx_app.test_client(), "/wecom", token=WECOM_TOKEN)
    assert client.post(message_xml("text", Content="帮助")).status_code in (400, 403)


# --- configuration ----------------------------------------------------------------------


def test_unconfigured_endpoints_are_404(client):
    assert client.get("/wechat").status_code == 404
    assert client.post("/wechat", data="<xml/>").status_code == 404
    assert client.get("/wecom").status_code == 404
    assert client.post("/wecom", data="<xml/>").status_code == 404


# --- reply building ---------------------------------------------------------------------


def test_reply_is_cut_at_1800_bytes_on_a_character_boundary():
    for text in ("骗" * 2000, "a" + "😀" * 1000, "ab" + "骗" * 700 + "x" * 100):
        cut = replies.fit(text)
        assert len(cut.encode("utf-8")) <= 1800
        assert cut.endswith("…")
        cut.encode("utf-8").decode("utf-8")  # whole characters only
    assert replies.fit("短消息") == "短消息"


def test_cdata_terminator_is_escaped_and_round_trips():
    inbound = adapter.Inbound(kind="text", from_user="oUser]]>x", to_user=ACCOUNT, create_time=1)
    xml = adapter.render_text(inbound, "a]]><evil/>b")
    parsed = xmltodict.parse(xml)["xml"]
    assert parsed["Content"] == "a]]><evil/>b"
    assert parsed["ToUserName"] == "oUser]]>x"
    assert "evil" not in parsed
