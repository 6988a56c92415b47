"""The callback flow, without Flask's request: verify → decrypt → parse → claim → answer.

``Runtime`` is built once per process (``get_runtime(app)``): the endpoints from the
settings, the worker pool that answers with a deadline, and the senders for late answers.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass

from flask import Flask

from ..extensions import db
from ..services import chat as chat_service
from ..services import wechat as wechat_service
from . import adapter, replies
from .sender import OfficialAccountSender, Sender, WeComSender

log = logging.getLogger(__name__)

SUCCESS = "success"
XML = "application/xml; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
WECHAT_MODES = ("plain", "compatible", "safe")


@dataclass
class Result:
    """What the view sends back."""

    status: int
    body: str = ""
    content_type: str = TEXT


@dataclass
class Endpoint:
    """One configured callback: Official Account (``wechat``) or WeCom (``wecom``)."""

    channel: str
    token: str
    crypto: adapter.CallbackCrypto | None
    enterprise: bool
    # As chosen in the WeChat admin panel: plain (明文), compatible (兼容) or safe (安全).
    mode: str = "safe"


def endpoint_from_config(config, channel: str) -> Endpoint | None:
    """The endpoint for ``channel``, or None when its settings are missing (→ 404)."""
    if channel == "wechat":
        token = config.get("WECHAT_TOKEN")
        if not token:
            return None
        keys = [config.get("WECHAT_ENCODING_AES_KEY"), config.get("WECHAT_PREVIOUS_ENCODING_AES_KEY")]
        crypto = None
        if keys[0] and config.get("WECHAT_APP_ID"):
            crypto = adapter.CallbackCrypto(token, [k for k in keys if k], config["WECHAT_APP_ID"],
                                            enterprise=False)
        mode = (config.get("WECHAT_MODE") or ("compatible" if crypto else "plain")).lower()
        if mode not in WECHAT_MODES or (mode != "plain" and crypto is None):
            raise ValueError(f"WECHAT_MODE={mode!r}: use plain, or compatible/safe with "
                             "WECHAT_ENCODING_AES_KEY and WECHAT_APP_ID set")
        return Endpoint("wechat", token, crypto, enterprise=False, mode=mode)
    token, key, corp_id = (config.get("WECOM_TOKEN"), config.get("WECOM_ENCODING_AES_KEY"),
                           config.get("WECOM_CORP_ID"))
    if not (token and key and corp_id):
        return None
    return Endpoint("wecom", token, adapter.CallbackCrypto(token, [key], corp_id, enterprise=True),
                    enterprise=True)


def _sender_from_config(config, channel: str) -> Sender | None:
    if channel == "wechat" and config.get("WECHAT_APP_ID") and config.get("WECHAT_APP_SECRET"):
        return OfficialAccountSender(config["WECHAT_API_BASE"], config["WECHAT_APP_ID"],
                                     config["WECHAT_APP_SECRET"])
    if channel == "wecom" and config.get("WECOM_CORP_SECRET") and config.get("WECOM_AGENT_ID"):
        return WeComSender(config["WECOM_API_BASE"], config["WECOM_CORP_ID"],
                           config["WECOM_CORP_SECRET"], config["WECOM_AGENT_ID"])
    return None


class _Pending:
    """Hand-over between the request thread (waiting) and the worker (answering)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.text: str | None = None
        self.claimed = False  # the worker has the answer and will hand it over
        self.abandoned = False  # the request gave up waiting: the worker sends it later


class Runtime:
    """Per-process state: endpoints, worker pool, senders and the purge clock."""

    def __init__(self, app: Flask) -> None:
        config = app.config
        self.app = app
        self.endpoints = {c: endpoint_from_config(config, c) for c in ("wechat", "wecom")}
        self.senders: dict[str, Sender | None] = {c: _sender_from_config(config, c)
                                                  for c in ("wechat", "wecom")}
        self.reply_timeout = float(config["WECHAT_REPLY_TIMEOUT_SECONDS"])
        self.window = int(config["WECHAT_TIMESTAMP_WINDOW_SECONDS"])
        self.executor = ThreadPoolExecutor(max_workers=int(config["WECHAT_WORKER_THREADS"]),
                                           thread_name_prefix="wechat")
        self._inflight: set = set()
        self._inflight_lock = threading.Lock()
        self._last_purge = 0.0
        self._purge_lock = threading.Lock()

    def conversation(self, channel: str, user_id: str) -> wechat_service.Conversation:
        config = self.app.config
        return wechat_service.Conversation(
            channel=channel, user_id=user_id, secret=config["SECRET_KEY"] or "",
            bank_dir=config["QUESTION_BANK_DIR"], log_text=bool(config.get("CHAT_LOG_TEXT")),
            quiz_count=int(config["WECHAT_QUIZ_COUNT"]),
            quiz_idle_seconds=int(config["WECHAT_QUIZ_IDLE_SECONDS"]),
        )

    def maybe_purge(self) -> None:
        """Delete expired nonces, dedupe records and quiz states, at most once a minute."""
        now = time.monotonic()
        with self._purge_lock:
            if now - self._last_purge < 60:
                return
            self._last_purge = now
        try:
            wechat_service.purge_expired(
                nonce_seconds=2 * self.window + 60,
                message_seconds=int(self.app.config["WECHAT_DEDUPE_SECONDS"]),
                quiz_idle_seconds=int(self.app.config["WECHAT_QUIZ_IDLE_SECONDS"]),
            )
        except Exception:
            db.session.rollback()
            log.exception("wechat purge failed")

    def submit(self, fn, *args) -> None:
        """Run ``fn`` on the worker pool, tracked so ``drain`` can wait for it."""
        future = self.executor.submit(fn, *args)
        with self._inflight_lock:
            self._inflight.add(future)
        future.add_done_callback(self._forget)

    def _forget(self, future) -> None:
        with self._inflight_lock:
            self._inflight.discard(future)

    def drain(self, timeout: float | None = None) -> None:
        """Wait until every background answer (including late sends) has finished."""
        with self._inflight_lock:
            pending = list(self._inflight)
        wait(pending, timeout=timeout)

    def shutdown(self) -> None:
        """Wait for background answers to finish (tests and orderly exits)."""
        self.executor.shutdown(wait=True)


def get_runtime(app: Flask) -> Runtime:
    """The runtime of this process, built on first use (after gunicorn forks)."""
    runtime = app.extensions.get("wechat")
    if runtime is None:
        with _runtime_lock:
            runtime = app.extensions.get("wechat")
            if runtime is None:
                runtime = app.extensions["wechat"] = Runtime(app)
    return runtime


_runtime_lock = threading.Lock()


def _now() -> float:
    """The clock the timestamp window is checked against (tests move it)."""
    return time.time()


# --- GET: URL verification --------------------------------------------------------------


def _check_time(runtime: Runtime, timestamp: str | None, now: float) -> None:
    try:
        ts = int(timestamp or "")
    except ValueError as exc:
        raise adapter.ProtocolError("missing or bad timestamp") from exc
    if abs(now - ts) > runtime.window:
        raise adapter.ProtocolError("timestamp outside the window", status=403)


def verify_url(runtime: Runtime, endpoint: Endpoint, args: dict, now: float | None = None) -> Result:
    """Answer WeChat's URL check: echo ``echostr`` (Official Account) or its plaintext (WeCom)."""
    try:
        timestamp, nonce, echostr = args.get("timestamp"), args.get("nonce"), args.get("echostr")
        if not (timestamp and nonce and echostr):
            raise adapter.ProtocolError("missing timestamp, nonce or echostr")
        _check_time(runtime, timestamp, _now() if now is None else now)
        if endpoint.enterprise:
            plain = endpoint.crypto.decrypt(echostr, args.get("msg_signature"), timestamp, nonce)
            _claim_check_nonce(endpoint, nonce)
            return Result(200, plain)
        if not adapter.signature_ok((endpoint.token, timestamp, nonce), args.get("signature")):
            raise adapter.ProtocolError("bad signature", status=403)
        _claim_check_nonce(endpoint, nonce)
        return Result(200, echostr)
    except adapter.ProtocolError as exc:
        return _refuse(endpoint, exc)


def _claim_check_nonce(endpoint: Endpoint, nonce: str) -> None:
    """A URL check uses up its nonce: its signed query cannot be replayed, as a check or as a
    POST carrying a message (the signature of a plain-mode POST covers the same three values)."""
    if len(nonce) > 64 or not wechat_service.claim_nonce(endpoint.channel, nonce):
        raise adapter.ProtocolError("nonce reused", status=403)


def _refuse(endpoint: Endpoint, exc: adapter.ProtocolError) -> Result:
    log.warning("%s callback refused (%s): %s", endpoint.channel, exc.status, exc.reason)
    return Result(exc.status, "forbidden" if exc.status == 403 else "bad request")


# --- POST: messages ---------------------------------------------------------------------


def handle_post(runtime: Runtime, endpoint: Endpoint, args: dict, body: bytes,
                now: float | None = None) -> Result:
    """Verify, decrypt and parse one callback, then answer it once (retries get the same)."""
    now = _now() if now is None else now
    timestamp, nonce = args.get("timestamp"), args.get("nonce")
    try:
        if not (timestamp and nonce) or len(nonce) > 64:
            raise adapter.ProtocolError("missing timestamp or nonce")
        _check_time(runtime, timestamp, now)
        encrypted = endpoint.enterprise or args.get("encrypt_type") == "aes"
        if endpoint.mode == "safe" and not encrypted:
            raise adapter.ProtocolError("plaintext message in safe mode", status=403)
        if endpoint.mode == "plain" and encrypted:
            raise adapter.ProtocolError("encrypted message in plain mode")
        if encrypted:
            if endpoint.crypto is None:
                raise adapter.ProtocolError("encrypted message but no EncodingAESKey set")
            encrypt = adapter.read_envelope(body)
            plain = endpoint.crypto.decrypt(encrypt, args.get("msg_signature"), timestamp, nonce)
        else:
            if not adapter.signature_ok((endpoint.token, timestamp, nonce), args.get("signature")):
                raise adapter.ProtocolError("bad signature", status=403)
            plain = body
        inbound = adapter.parse(plain, enterprise=endpoint.enterprise)
    except adapter.ProtocolError as exc:
        return _refuse(endpoint, exc)

    crypto = endpoint.crypto if encrypted else None
    channel = endpoint.channel
    user_hash = chat_service.user_hash(inbound.from_user, runtime.app.config["SECRET_KEY"] or "")
    key = inbound.dedupe_key
    runtime.maybe_purge()

    outcome, seen = wechat_service.claim_callback(channel, nonce, key, user_hash)
    if outcome == "replay":
        return _refuse(endpoint, adapter.ProtocolError("nonce reused", status=403))
    if outcome == "retry":
        if seen.user_hash != user_hash:  # someone else's MsgId: never their reply
            return _refuse(endpoint, adapter.ProtocolError("message id of another user", status=403))
        return _retry(seen, inbound, crypto)

    text = _answer_with_deadline(runtime, channel, inbound)
    if not text:
        return Result(200, SUCCESS)
    return Result(200, replies.build(inbound, text, crypto), XML)


def _retry(seen, inbound: adapter.Inbound, crypto) -> Result:
    """A message already seen: the stored reply if answered, else ``success``."""
    if seen.status == "done" and seen.reply:
        return Result(200, replies.build(inbound, seen.reply, crypto), XML)
    return Result(200, SUCCESS)


def _answer_with_deadline(runtime: Runtime, channel: str, inbound: adapter.Inbound) -> str | None:
    """Answer in a worker; past the deadline reply ``success`` and let the worker send it later."""
    pending = _Pending()
    runtime.submit(_work, runtime, channel, inbound, pending)
    pending.done.wait(runtime.reply_timeout)
    with pending.lock:
        claimed = pending.claimed
        if not claimed:
            pending.abandoned = True
    if claimed:  # the answer is ready and being stored: a moment more
        pending.done.wait()
        return pending.text
    log.info("%s answer not ready in %.1fs: sending it later", channel, runtime.reply_timeout)
    return None


def _work(runtime: Runtime, channel: str, inbound: adapter.Inbound, pending: _Pending) -> None:
    """Worker thread: compute and store the answer; deliver it through the API if abandoned."""
    key = inbound.dedupe_key
    try:
        with runtime.app.app_context():
            conv = runtime.conversation(channel, inbound.from_user)
            try:
                text = wechat_service.respond(conv, inbound.kind, text=_text_of(inbound),
                                              event=inbound.event, dedupe_key=key)
                text = replies.fit(text) if text else ""
            except Exception:
                db.session.rollback()
                log.exception("%s answer failed", channel)
                text = "抱歉，系统开小差了，请稍后再发一次。" + wechat_service.HOTLINES
            with pending.lock:
                late = pending.abandoned
                pending.claimed = not late
            if not late:
                # Stored before the reply goes out, so a retry right after gets it too.
                wechat_service.store_reply(channel, key, text, "done")
                pending.text = text
                return
            status = "sent" if text and _send_late(runtime, channel, inbound.from_user, text) else "failed"
            wechat_service.store_reply(channel, key, text, status)
    except Exception:
        log.exception("%s worker failed", channel)
    finally:
        with pending.lock:
            pending.done.set()


def _text_of(inbound: adapter.Inbound) -> str:
    return inbound.recognition if inbound.kind == "voice" else inbound.content


def _send_late(runtime: Runtime, channel: str, user_id: str, text: str) -> bool:
    sender = runtime.senders.get(channel)
    if sender is None:
        log.warning("%s answer ready late but no API credentials are set", channel)
        return False
    try:
        sender.send_text(user_id, text)
        return True
    except Exception:
        log.exception("%s late answer not delivered", channel)
        return False
