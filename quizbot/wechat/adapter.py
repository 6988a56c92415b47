"""The one module that calls wechatpy: signatures, AES crypto, XML parsing and reply rendering.

Everything wechatpy leaves to us that belongs to the protocol is here too: constant-time
signature comparison, control characters stripped before parsing, DTDs refused before expat
sees them, and ``]]>`` escaped inside CDATA. Every failure surfaces as ``ProtocolError``.
"""

from __future__ import annotations

import binascii
import hmac
import re
import struct
import time
from dataclasses import dataclass
from xml.parsers.expat import ExpatError

import xmltodict
from wechatpy.crypto import PrpCrypto as OfficialPrpCrypto
from wechatpy.enterprise.crypto import PrpCrypto as WeComPrpCrypto
from wechatpy.enterprise.parser import parse_message as parse_wecom_message
from wechatpy.exceptions import WeChatException
from wechatpy.parser import parse_message as parse_official_message
from wechatpy.replies import TextReply
from wechatpy.utils import WeChatSigner

CONTROL_CHARS = re.compile(r"[\x00-\x08\x0B\x0C\x0E-\x1F]")
# A DTD is how entity bombs and external entities get in; WeChat never sends one.
DTD_MARKERS = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)

# Everything the libraries raise on hostile or broken input.
PARSE_ERRORS = (
    ExpatError, KeyError, TypeError, binascii.Error, ValueError, struct.error, IndexError,
    AttributeError, UnicodeError, WeChatException, AssertionError, OverflowError,
)


class ProtocolError(Exception):
    """A request that cannot be verified, decrypted or parsed (answered with 400/403)."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass
class Inbound:
    """One parsed message or event, as plain data."""

    kind: str  # text | voice | image | video | shortvideo | location | link | event | unknown
    from_user: str
    to_user: str
    create_time: int
    msg_id: str | None = None
    content: str = ""
    recognition: str = ""
    event: str = ""
    event_key: str = ""
    agent_id: str | None = None

    @property
    def dedupe_key(self) -> str:
        """MsgId for messages; ``FromUserName + CreateTime`` (+ event) for events."""
        if self.msg_id:
            return f"m:{self.msg_id}"
        return f"e:{self.from_user}:{self.create_time}:{self.event}"[:200]


def sign(*parts: str) -> str:
    """The WeChat signature: sha1 over the sorted parts (token, timestamp, nonce[, encrypt])."""
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


def signature_ok(expected_parts: tuple[str, ...], given: str | None) -> bool:
    """Compare a given signature in constant time."""
    if not given:
        return False
    return hmac.compare_digest(sign(*expected_parts).encode(), given.strip().lower().encode())


def _strip(text: str) -> str:
    return CONTROL_CHARS.sub("", text)


def _decode_body(body: bytes | str | None) -> str:
    if body is None or len(body) == 0:
        raise ProtocolError("empty body")
    raw = body.encode("utf-8") if isinstance(body, str) else body
    if DTD_MARKERS.search(raw):
        raise ProtocolError("DTD or entity declaration refused")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError("body is not UTF-8") from exc
    text = _strip(text).strip()
    if not text:
        raise ProtocolError("empty body")
    return text


def _xml_root(text: str) -> dict:
    try:
        root = xmltodict.parse(text)["xml"]
    except PARSE_ERRORS as exc:
        raise ProtocolError(f"malformed XML: {type(exc).__name__}") from exc
    if not isinstance(root, dict):
        raise ProtocolError("empty <xml> root")
    return root


def read_envelope(body: bytes | str | None) -> str:
    """The ``Encrypt`` field of an encrypted POST body."""
    root = _xml_root(_decode_body(body))
    encrypt = root.get("Encrypt")
    if not isinstance(encrypt, str) or not encrypt.strip():
        raise ProtocolError("no Encrypt element")
    return encrypt.strip()


class CallbackCrypto:
    """AES crypto for one endpoint; ``keys`` are tried in order (current key first)."""

    def __init__(self, token: str, keys: list[str], receive_id: str, *, enterprise: bool) -> None:
        self.token = token
        self.receive_id = receive_id
        self.prp_class = WeComPrpCrypto if enterprise else OfficialPrpCrypto
        self.keys = [self._key(k) for k in keys if k]
        if not self.keys:
            raise ValueError("no EncodingAESKey configured")

    @staticmethod
    def _key(encoding_aes_key: str) -> bytes:
        key = binascii.a2b_base64((encoding_aes_key + "=").encode())
        if len(key) != 32:
            raise ValueError("EncodingAESKey must be 43 characters of base64 (32 bytes)")
        return key

    def decrypt(self, encrypt: str, msg_signature: str | None, timestamp: str, nonce: str) -> str:
        """Check ``msg_signature`` over the ciphertext, then decrypt with each key in turn."""
        if not signature_ok((self.token, timestamp, nonce, encrypt), msg_signature):
            raise ProtocolError("bad msg_signature", status=403)
        last: Exception | None = None
        for key in self.keys:
            try:
                return self.prp_class(key).decrypt(encrypt, self.receive_id)
            except PARSE_ERRORS as exc:
                last = exc
        raise ProtocolError(f"cannot decrypt: {type(last).__name__}")

    def encrypt(self, plaintext: str, nonce: str, timestamp: str | None = None) -> str:
        """The encrypted reply envelope (always with the current key)."""
        timestamp = timestamp or str(int(time.time()))
        encrypt = self.prp_class(self.keys[0]).encrypt(plaintext, self.receive_id).decode()
        signature = sign(self.token, timestamp, nonce, encrypt)
        return (
            f"<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt>"
            f"<MsgSignature><![CDATA[{signature}]]></MsgSignature>"
            f"<TimeStamp>{timestamp}</TimeStamp><Nonce><![CDATA[{escape_cdata(nonce)}]]></Nonce></xml>"
        )


def parse(body: bytes | str | None, *, enterprise: bool = False) -> Inbound:
    """Parse a plaintext message body into ``Inbound``; anything odd is a ``ProtocolError``."""
    text = _decode_body(body)
    root = _xml_root(text)  # wrong root, empty root, malformed XML
    if not root.get("MsgType") or not root.get("FromUserName"):
        raise ProtocolError("missing MsgType or FromUserName")
    try:
        message = (parse_wecom_message if enterprise else parse_official_message)(text)
        data = message._data
        create_time = int(data.get("CreateTime") or 0)
        msg_id = data.get("MsgId") or data.get("MsgID")
        kind = str(data["MsgType"]).lower()
        inbound = Inbound(
            kind=kind if kind in KINDS else "unknown",
            from_user=str(data["FromUserName"]).strip(),
            to_user=str(data.get("ToUserName") or "").strip(),
            create_time=create_time,
            msg_id=str(msg_id).strip() if msg_id and kind != "event" else None,
            content=str(data.get("Content") or ""),
            recognition=str(data.get("Recognition") or ""),
            event=str(data.get("Event") or "").lower(),
            event_key=str(data.get("EventKey") or ""),
            agent_id=str(data["AgentID"]) if data.get("AgentID") else None,
        )
    except PARSE_ERRORS as exc:
        raise ProtocolError(f"bad message: {type(exc).__name__}") from exc
    if not inbound.from_user or len(inbound.from_user) > 128 or (
        inbound.msg_id is not None and len(inbound.msg_id) > 64
    ):
        raise ProtocolError("bad FromUserName or MsgId")
    return inbound


KINDS = {"text", "voice", "image", "video", "shortvideo", "location", "link", "event"}


def escape_cdata(text: str) -> str:
    """Split ``]]>`` so it cannot close the CDATA section it is written into."""
    return text.replace("]]>", "]]]]><![CDATA[>")


def render_text(inbound: Inbound, content: str, now: int | None = None) -> str:
    """A passive text reply to ``inbound`` (content must already fit the length cap)."""
    reply = TextReply(
        source=escape_cdata(inbound.to_user), target=escape_cdata(inbound.from_user),
        content=escape_cdata(content),
        time=now or int(time.time()),
    )
    return reply.render()
