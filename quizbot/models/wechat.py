"""WeChat / WeCom callback state: nonces, message dedupe, in-chat quiz and household binding.

Users are keyed by a keyed hash of their OpenID/UserID (``services.chat.user_hash``), so no
raw OpenID is stored; the background sender gets the raw id in memory only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class WechatNonce(db.Model):
    """A callback nonce already used; the unique key refuses replays across workers."""

    __tablename__ = "wechat_nonce"
    __table_args__ = (sa.UniqueConstraint("channel", "nonce"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(16))  # wechat | wecom
    nonce: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class WechatMessage(db.Model):
    """One inbound message or event, claimed insert-first by its MsgId (events: user + time).

    ``status``: ``pending`` (being answered), ``done`` (``reply`` stored for retries),
    ``deferred`` (answer goes out through the customer-service API), ``sent`` / ``failed``.
    """

    __tablename__ = "wechat_message"
    __table_args__ = (sa.UniqueConstraint("channel", "msg_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(16))
    msg_key: Mapped[str] = mapped_column(sa.String(200))
    user_hash: Mapped[str] = mapped_column(sa.String(64), index=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    reply: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class WechatQuizState(db.Model):
    """A quiz running inside the chat: one row per user, dropped after 30 minutes idle."""

    __tablename__ = "wechat_quiz_state"
    __table_args__ = (sa.UniqueConstraint("channel", "user_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(16))
    user_hash: Mapped[str] = mapped_column(sa.String(64))
    session_id: Mapped[str] = mapped_column(sa.String(43))
    position: Mapped[int] = mapped_column(default=0)
    answers: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class WechatBinding(db.Model):
    """A WeChat user linked to a household with ``绑定 <邀请码>``; their quizzes credit it."""

    __tablename__ = "wechat_binding"
    __table_args__ = (sa.UniqueConstraint("channel", "user_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(16))
    user_hash: Mapped[str] = mapped_column(sa.String(64))
    household_id: Mapped[int | None]
    invite_code: Mapped[str] = mapped_column(sa.String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
