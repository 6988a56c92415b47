"""WeChat / WeCom conversations: replay and dedupe keys, what to answer, and forgetting a user.

Plain values in, plain text out; the protocol (signatures, XML, crypto) lives in
``quizbot.wechat``. Claims are insert-first against unique keys, so they hold across workers.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..chatbot import Verdict, get_engine
from ..extensions import db
from ..hotlines import HOTLINES
from ..models import ChatLog, Household, QuizSession, WechatBinding, WechatMessage, WechatNonce, utcnow
from . import chat as chat_service
from . import wechat_quiz
from .invites import find_by_invite_code

log = logging.getLogger(__name__)

HELP_TEXT = (
    "我是反诈小助手，可以帮您：\n"
    "1. 判断是不是诈骗：把对方说的话、短信或聊天内容直接发给我\n"
    "2. 答题学反诈：回复“答题”，5 道题，边答边学\n"
    "3. 绑定家庭：回复“绑定 邀请码”，答题成绩计入您家（邀请码找社区民警或网格员要）\n\n"
    + HOTLINES
)

GREETING = "您好，欢迎关注反诈小助手！您可以试试：\n" + HELP_TEXT.split("\n", 1)[1]

EMPTY_TEXT = "您发来的消息是空的。请把对方说的话或短信内容发给我，我帮您看看是不是诈骗。回复“帮助”查看全部功能。"
VOICE_UNRECOGNIZED = "这条语音我暂时听不清。请用文字把对方说的话发给我，我帮您判断。"
KIND_REPLIES = {
    "image": "我暂时看不懂图片。请把截图里对方说的话、短信或转账要求用文字发给我，我帮您判断。",
    "video": "我暂时看不了视频。请用文字描述对方让您做什么，我帮您判断是不是诈骗。",
    "shortvideo": "我暂时看不了视频。请用文字描述对方让您做什么，我帮您判断是不是诈骗。",
    "location": "收到您的位置。需要帮助请直接拨打 110；想判断是不是诈骗，请用文字描述情况。",
    "link": (
        "收到链接。陌生链接请不要点开，更不要在里面填银行卡号、密码或验证码。"
        "请用文字告诉我对方是怎么让您点这个链接的，我帮您判断。"
    ),
    "unknown": "这类消息我暂时处理不了。请用文字描述您遇到的情况，回复“帮助”查看我能做什么。",
}
BIND_USAGE = "请回复“绑定”加空格和邀请码，例如：绑定 AB12CD34。邀请码找社区民警或网格员要。"
BIND_INVALID = "没有找到这个邀请码，请核对后重试（注意区分字母和数字）。"
BIND_OK = "绑定成功！之后您在这里答题的成绩会计入您家。回复“答题”马上开始。"

QUIZ_PAUSED = "（答题先暂停，处理完再回复选项字母继续；回复“退出”结束答题。）"

BIND_RE = re.compile(r"^(?:绑定|绑定家庭|bind)\s*[:：]?\s*(\S*)\s*$", re.IGNORECASE)
HELP_WORDS = {"帮助", "help", "?", "？", "菜单", "功能"}
QUIZ_WORDS = {"答题", "开始答题", "quiz", "做题"}


@dataclass
class Conversation:
    """Who is talking on which channel, and the settings the answer needs."""

    channel: str  # wechat | wecom
    user_id: str  # OpenID / WeCom UserID, never stored raw
    secret: str
    bank_dir: str
    log_text: bool = False
    quiz_count: int = 5
    quiz_idle_seconds: int = 1800

    @property
    def user_hash(self) -> str:
        return chat_service.user_hash(self.user_id, self.secret) or ""


# --- replay protection and dedupe -------------------------------------------------------


def claim_nonce(channel: str, nonce: str) -> bool:
    """Record a nonce; False if it was used before (on any worker)."""
    db.session.add(WechatNonce(channel=channel, nonce=nonce[:64]))
    try:
        db.session.commit()
        return True
    except IntegrityError:
        db.session.rollback()
        return False


def claim_message(channel: str, key: str, user_hash: str) -> WechatMessage | None:
    """Claim a message for answering; returns None if ours, else the row already there."""
    db.session.add(WechatMessage(channel=channel, msg_key=key, user_hash=user_hash))
    try:
        db.session.commit()
        return None
    except IntegrityError:
        db.session.rollback()
        return find_message(channel, key)


def claim_callback(channel: str, nonce: str, key: str, user_hash: str
                   ) -> tuple[str, WechatMessage | None]:
    """Claim a callback's nonce and its message in one transaction, so workers and instances
    racing on the same callback agree: ``("new", None)`` answer it; ``("retry", row)`` the
    message was claimed before (the caller checks it is the same user); ``("replay", None)`` a
    used nonce carrying a new message."""
    db.session.add(WechatNonce(channel=channel, nonce=nonce[:64]))
    db.session.add(WechatMessage(channel=channel, msg_key=key, user_hash=user_hash))
    try:
        db.session.commit()
        return "new", None
    except IntegrityError:
        db.session.rollback()
    seen = find_message(channel, key)
    return ("retry", seen) if seen is not None else ("replay", None)


def find_message(channel: str, key: str) -> WechatMessage | None:
    """The stored record of a message already seen, if any."""
    return db.session.execute(
        sa.select(WechatMessage).where(WechatMessage.channel == channel, WechatMessage.msg_key == key)
    ).scalar_one_or_none()


def store_reply(channel: str, key: str, reply: str, status: str = "done") -> None:
    """Keep the answer so retries get the same reply without running the bot again."""
    db.session.execute(
        sa.update(WechatMessage)
        .where(WechatMessage.channel == channel, WechatMessage.msg_key == key)
        .values(reply=reply, status=status, updated_at=utcnow())
    )
    db.session.commit()


def purge_expired(*, nonce_seconds: int, message_seconds: int, quiz_idle_seconds: int) -> None:
    """Drop nonces, dedupe records and idle quiz states that are past their keeping time."""
    now = utcnow()
    db.session.execute(sa.delete(WechatNonce).where(
        WechatNonce.created_at < now - timedelta(seconds=nonce_seconds)))
    db.session.execute(sa.delete(WechatMessage).where(
        WechatMessage.created_at < now - timedelta(seconds=message_seconds)))
    wechat_quiz.purge_idle(quiz_idle_seconds, commit=False)
    db.session.commit()


def forget_user(channel: str, user_hash: str, keep_key: str | None = None) -> None:
    """Unsubscribe: delete the user's chat logs, stored replies, quiz state and binding.

    Quiz attempts already submitted stay (they count for the household) but lose the link
    to the user.
    """
    channels = ("wechat", "wecom")
    db.session.execute(sa.delete(ChatLog).where(
        ChatLog.user_hash == user_hash, ChatLog.channel.in_(channels)))
    stmt = sa.delete(WechatMessage).where(
        WechatMessage.channel == channel, WechatMessage.user_hash == user_hash)
    if keep_key:
        stmt = stmt.where(WechatMessage.msg_key != keep_key)
    db.session.execute(stmt)
    wechat_quiz.drop_state(channel, user_hash, commit=False)
    db.session.execute(sa.delete(WechatBinding).where(
        WechatBinding.channel == channel, WechatBinding.user_hash == user_hash))
    db.session.execute(
        sa.update(QuizSession).where(QuizSession.client_id == user_hash).values(client_id=None)
    )
    db.session.commit()


# --- what to answer ---------------------------------------------------------------------


def respond(conv: Conversation, kind: str, *, text: str = "", event: str = "",
            dedupe_key: str | None = None) -> str:
    """The reply text for one message or event; "" means nothing to say (``success``)."""
    if kind == "event":
        if event in ("subscribe", "subscribe_scan", "enter_agent"):
            return GREETING if event != "enter_agent" else ""
        if event == "unsubscribe":
            forget_user(conv.channel, conv.user_hash, keep_key=dedupe_key)
        return ""
    if kind == "voice":
        return respond_text(conv, text) if text.strip() else VOICE_UNRECOGNIZED
    if kind == "text":
        return respond_text(conv, text)
    return KIND_REPLIES.get(kind, KIND_REPLIES["unknown"])


def respond_text(conv: Conversation, text: str) -> str:
    """Commands first (帮助, 答题, 绑定, quiz answers), otherwise the chatbot's verdict."""
    stripped = text.strip()
    if not stripped:
        return EMPTY_TEXT
    word = stripped.lower()
    if word in HELP_WORDS:
        return HELP_TEXT
    if word in QUIZ_WORDS:
        return wechat_quiz.start(conv.channel, conv.user_hash, invite_code=_bound_code(conv),
                                 count=conv.quiz_count, idle_seconds=conv.quiz_idle_seconds)
    bind = BIND_RE.match(stripped)
    if bind:
        return bind_household(conv, bind.group(1))
    quiz_reply = wechat_quiz.answer(conv.channel, conv.user_hash, stripped,
                                    idle_seconds=conv.quiz_idle_seconds,
                                    on_other=lambda message: _warning_during_quiz(conv, message))
    if quiz_reply is not None:
        return quiz_reply
    return format_verdict(_ask(conv, stripped))


def _ask(conv: Conversation, text: str) -> Verdict:
    """Run the chatbot and log the chat under the bound household's region (if any)."""
    return chat_service.ask(
        text, bank_dir=conv.bank_dir, secret=conv.secret, user_id=conv.user_id,
        channel=conv.channel, log_text=conv.log_text, region_id=_bound_region(conv),
    )


def _warning_during_quiz(conv: Conversation, text: str) -> str | None:
    """A message that is not a quiz answer: a warning or an emergency is answered at once
    (the quiz waits); anything else gets None and the quiz repeats its question."""
    verdict = get_engine(conv.bank_dir).analyze(text)
    if verdict.risk == "low" and verdict.intent not in ("emergency", "official"):
        return None
    chat_service.record(text, verdict, secret=conv.secret, user_id=conv.user_id,
                        channel=conv.channel, log_text=conv.log_text, region_id=_bound_region(conv))
    return format_verdict(verdict) + "\n\n" + QUIZ_PAUSED


def format_verdict(verdict: Verdict) -> str:
    """The engine's reply as it is (it already leads with the verdict), plus the hotlines if
    it lacks them. The verdict is rendered once: no second header on top."""
    reply = (verdict.reply or "").strip()
    lines = [reply] if reply else []
    if "96110" not in reply or "110" not in reply.replace("96110", ""):
        lines.append(HOTLINES)
    return "\n".join(lines).strip()


# --- binding ----------------------------------------------------------------------------


def _bound_region(conv: Conversation) -> int | None:
    """The region of the household this user bound to, so their chats count for it."""
    return db.session.execute(
        sa.select(Household.region_id)
        .join(WechatBinding, WechatBinding.household_id == Household.id)
        .where(WechatBinding.channel == conv.channel, WechatBinding.user_hash == conv.user_hash)
    ).scalar_one_or_none()


def _bound_code(conv: Conversation) -> str | None:
    return db.session.execute(
        sa.select(WechatBinding.invite_code).where(
            WechatBinding.channel == conv.channel, WechatBinding.user_hash == conv.user_hash)
    ).scalar_one_or_none()


def bind_household(conv: Conversation, code: str) -> str:
    """Link the user to the household holding ``code``; their quizzes then credit it."""
    code = code.strip()
    if not code:
        return BIND_USAGE
    household = find_by_invite_code(code)
    if household is None:
        return BIND_INVALID
    row = db.session.execute(
        sa.select(WechatBinding).where(
            WechatBinding.channel == conv.channel, WechatBinding.user_hash == conv.user_hash)
    ).scalar_one_or_none() or WechatBinding(channel=conv.channel, user_hash=conv.user_hash)
    row.household_id = household.id
    row.invite_code = household.invite_code
    db.session.add(row)
    try:
        db.session.commit()
    except IntegrityError:  # the same user binding twice at once: the other one won
        db.session.rollback()
    return BIND_OK
