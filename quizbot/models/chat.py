"""Chatbot conversations, logged so officers see which scams residents ask about."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class ChatLog(db.Model):
    """One message and its verdict. The text is kept only when CHAT_LOG_TEXT is on."""

    __tablename__ = "chat_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    channel: Mapped[str] = mapped_column(sa.String(16), default="api")  # api | wechat | wecom | cli
    user_hash: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    region_id: Mapped[int | None] = mapped_column(sa.ForeignKey("region.id"), index=True)
    intent: Mapped[str] = mapped_column(sa.String(16))
    risk: Mapped[str] = mapped_column(sa.String(8))
    risk_score: Mapped[int] = mapped_column(sa.SmallInteger)
    top_scam_type: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    scam_types: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    text_length: Mapped[int] = mapped_column(default=0)
    text: Mapped[str | None] = mapped_column(sa.Text)
