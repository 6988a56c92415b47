"""WeChat fixtures: configured app, a fake WeChat API server, and a client built on wechatpy."""

from __future__ import annotations

import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
import xmltodict
from wechatpy.crypto import WeChatCrypto
from wechatpy.enterprise.crypto import WeChatCrypto as WeComCrypto
from wechatpy.replies import deserialize_reply
from wechatpy.utils import WeChatSigner

TOKEN = "wx-test-token"
APP_ID = "wx1234567890abcdef"
ACCOUNT = "gh_0123456789ab"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
OLD_AES_KEY = "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut"
WECOM_TOKEN = "wecom-test-token"
CORP_ID = "ww0123456789abcdef"
WECOM_KEY = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"

_counter = itertools.count(1)

def unique() -> int:
    """A fresh number per call (message ids, nonces)."""
    return next(_counter) * 1000 + int(time.time() * 1000) % 1000


class FakeWeChatAPI:
    """A local stand-in for api.weixin.qq.com / qyapi.weixin.qq.com, recording every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict, dict | None]] = []
        self.sent = threading.Event()
        self.fail_first_send_with: int | None = None
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def _answer(self, data: dict) -> None:
                body = json.dumps(data).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                url = urlparse(self.path)
                fake.calls.append(("GET", url.path, parse_qs(url.query), None))
                self._answer({"access_token": f"TOKEN{len(fake.calls)}", "expires_in": 7200})

            def do_POST(self):
                url = urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                payload = json.loads(self.rfile.read(length).decode("utf-8"))
                fake.calls.append(("POST", url.path, parse_qs(url.query), payload))
                if fake.fail_first_send_with is not None:
                    code, fake.fail_first_send_with = fake.fail_first_send_with, None
                    self._answer({"errcode": code, "errmsg": "access_token expired"})
                    return
                self._answer({"errcode": 0, "errmsg": "ok"})
                fake.sent.set()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def posts(self) -> list[tuple[str, dict, dict]]:
        return [(path, query, payload) for method, path, query, payload in self.calls if method == "POST"]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_api():
    api = FakeWeChatAPI()
    yield api
    api.close()


@pytest.fixture
def wx_app(loaded_app, mini_bank_dir, fake_api):
    """The app with the mini bank, both callbacks configured and the API pointed at the fake."""
    loaded_app.config.update(
        QUESTION_BANK_DIR=str(mini_bank_dir),
        WECHAT_TOKEN=TOKEN, WECHAT_APP_ID=APP_ID, WECHAT_APP_SECRET="wx-secret",
        WECHAT_ENCODING_AES_KEY=AES_KEY, WECHAT_PREVIOUS_ENCODING_AES_KEY=OLD_AES_KEY,
        WECOM_TOKEN=WECOM_TOKEN, WECOM_CORP_ID=CORP_ID, WECOM_CORP_SECRET="wecom-secret",
        WECOM_AGENT_ID="1000002", WECOM_ENCODING_AES_KEY=WECOM_KEY,
        WECHAT_API_BASE=fake_api.base, WECOM_API_BASE=fake_api.base,
    )
    yield loaded_app
    runtime = loaded_app.extensions.get("wechat")
    if runtime is not None:
        runtime.shutdown()


class CountingEngine:
    """A stand-in chatbot engine: a fixed high-risk verdict, and a record of every text."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def analyze(self, text: str):
        from quizbot.chatbot import TypeMatch, Verdict

        self.calls.append(text)
        return Verdict(
            risk="high", risk_score=90, intent="assess",
            scam_types=[TypeMatch(id="fake_authority", name="冒充公检法", score=9.0,
                                  evidence=["安全账户", "涉嫌洗钱"])],
            reply="公检法不会通过电话办案，更没有“安全账户”。请立即挂断，不要转账。\n"
                  "拿不准就打 96110，已经转账马上打 110 报警。",
        )


@pytest.fixture
def bot_calls(monkeypatch):
    """Swap the chatbot engine for ``CountingEngine`` (chat logging still runs); its calls."""
    from quizbot.services import chat

    engine = CountingEngine()
    monkeypatch.setattr(chat, "get_engine", lambda bank_dir: engine)
    return engine.calls


def message_xml(msg_type: str = "text", *, user: str = "oUser0001", to: str = ACCOUNT,
                create_time: int | None = None, msg_id: int | None = None, **fields) -> str:
    """An inbound message as WeChat's servers send it (``msg_id=0`` leaves MsgId out)."""
    create_time = create_time or int(time.time())
    parts = [f"<ToUserName><![CDATA[{to}]]></ToUserName>",
             f"<FromUserName><![CDATA[{user}]]></FromUserName>",
             f"<CreateTime>{create_time}</CreateTime>",
             f"<MsgType><![CDATA[{msg_type}]]></MsgType>"]
    for name, value in fields.items():
        parts.append(f"<{name}><![CDATA[{value}]]></{name}>")
    if msg_type != "event" and msg_id != 0:
        parts.append(f"<MsgId>{msg_id or unique()}</MsgId>")
    return "<xml>" + "".join(parts) + "</xml>"


def sign(*parts) -> str:
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


class WxClient:
    """Calls /wechat or /wecom as WeChat's servers do, with wechatpy doing the crypto."""

    def __init__(self, client, path: str = "/wechat", *, token: str = TOKEN, aes_key: str | None = None,
                 receive_id: str = APP_ID) -> None:
        self.client = client
        self.path = path
        self.token = token
        self.enterprise = path == "/wecom"
        self.crypto = None
        if aes_key:
            cls = WeComCrypto if self.enterprise else WeChatCrypto
            self.crypto = cls(token, aes_key, receive_id)

    def args(self, timestamp: int | None = None, nonce: str | None = None) -> dict:
        timestamp = str(timestamp or int(time.time()))
        nonce = nonce or f"n{unique()}"
        return {"timestamp": timestamp, "nonce": nonce,
                "signature": sign(self.token, timestamp, nonce)}

    def encrypt(self, xml: str, args: dict) -> tuple[str, dict]:
        """The encrypted body and query (``msg_signature``) for ``xml``."""
        envelope = xmltodict.parse(self.crypto.encrypt_message(xml, args["nonce"], args["timestamp"]))["xml"]
        body = f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>"
        query = dict(args, encrypt_type="aes", msg_signature=envelope["MsgSignature"])
        return body, query

    def post(self, xml: str | bytes, *, timestamp=None, nonce=None, query: dict | None = None,
             raw: bool = False, **kwargs):
        args = self.args(timestamp, nonce)
        body = xml
        if self.crypto is not None and not raw:
            body, args = self.encrypt(xml, args)
        if query is not None:
            args = query(args) if callable(query) else query
        return self.client.post(self.path, query_string=args, data=body,
                                content_type="text/xml", **kwargs)

    def reply_text(self, response) -> str | None:
        """The text content of a reply (decrypted when encrypted); None for ``success``."""
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_data(as_text=True)
        if body == "success":
            return None
        if self.crypto is not None:
            outer = xmltodict.parse(body)["xml"]
            body = self.crypto.decrypt_message(body, outer["MsgSignature"], outer["TimeStamp"], outer["Nonce"])
        reply = deserialize_reply(body)
        return reply.content

    def say(self, text: str, **kwargs) -> str | None:
        return self.reply_text(self.post(message_xml("text", Content=text, **kwargs)))


@pytest.fixture
def wx(wx_app):
    return WxClient(wx_app.test_client())


@pytest.fixture
def wx_aes(wx_app):
    return WxClient(wx_app.test_client(), aes_key=AES_KEY)


@pytest.fixture
def wecom(wx_app):
    return WxClient(wx_app.test_client(), "/wecom", token=WECOM_TOKEN, aes_key=WECOM_KEY,
                    receive_id=CORP_ID)
