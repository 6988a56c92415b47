"""Question bank and quiz attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow


class ScamType(db.Model):
    """One knowledge-base entry (a scam type or a quiz topic), keyed by its TAXONOMY id."""

    __tablename__ = "scam_type"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16), default="scam")
    name: Mapped[str] = mapped_column(sa.String(100))
    summary: Mapped[str] = mapped_column(sa.Text)
    warning: Mapped[str] = mapped_column(sa.String(200))
    aliases: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    red_flags: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    advice: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    sources: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Question(db.Model):
    """A quiz question. Removed questions are retired (active=False), never deleted."""

    __tablename__ = "question"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    type: Mapped[str] = mapped_column(sa.String(16))
    stem: Mapped[str] = mapped_column(sa.Text)
    options: Mapped[list[dict[str, str]]] = mapped_column(sa.JSON)
    answer: Mapped[list[str]] = mapped_column(sa.JSON)
    explanation: Mapped[str] = mapped_column(sa.Text)
    scam_type_id: Mapped[str] = mapped_column(sa.ForeignKey("scam_type.id"), index=True)
    difficulty: Mapped[int] = mapped_column(sa.SmallInteger)
    audiences: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    source: Mapped[str | None] = mapped_column(sa.String(100))
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    active: Mapped[bool] = mapped_column(default=True, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class BankVersion(db.Model):
    """Each distinct bank content imported; the newest row is the current version."""

    __tablename__ = "bank_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    content_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    question_count: Mapped[int]
    scam_type_count: Mapped[int]
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QuizSession(db.Model):
    """One quiz attempt: the questions drawn, and once submitted, the stored result."""

    __tablename__ = "quiz_session"
    __table_args__ = (
        # "This phone's latest attempts" (avoid repeat questions, device rules): one index range,
        # not a sort of every attempt the device ever made. Without it the quiz API slowed as a
        # busy device (one IP + user agent) accumulated attempts: 0.44x -> 0.27x health.
        sa.Index("ix_quiz_session_client_created", "client_id", "created_at"),
        # The 刷数 rule counts households per device and per network over the last hour. Partial:
        # only attempts that count for a household are ever counted, and an anonymous quiz then
        # costs no upkeep of these two (the write path is the quiz API's hot path).
        sa.Index("ix_quiz_session_device_submitted", "device_key", "submitted_at",
                 postgresql_where=sa.text("household_id IS NOT NULL"),
                 sqlite_where=sa.text("household_id IS NOT NULL")),
        sa.Index("ix_quiz_session_network_submitted", "network_key", "submitted_at",
                 postgresql_where=sa.text("household_id IS NOT NULL"),
                 sqlite_where=sa.text("household_id IS NOT NULL")),
    )

    id: Mapped[str] = mapped_column(sa.String(43), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    bank_version: Mapped[str] = mapped_column(sa.String(64))
    question_ids: Mapped[list[str]] = mapped_column(sa.JSON)
    audience: Mapped[str | None] = mapped_column(sa.String(32))
    channel: Mapped[str] = mapped_column(sa.String(16), default="api")  # api | wechat | wecom
    # Indexed by ix_quiz_session_client_created above (a lookup by client_id alone uses it too).
    client_id: Mapped[str | None] = mapped_column(sa.String(64))
    invite_code: Mapped[str | None] = mapped_column(sa.String(32))
    # The server's own signals (quizbot.device): keyed hashes, never the address itself.
    device_key: Mapped[str | None] = mapped_column(sa.String(64))
    network_key: Mapped[str | None] = mapped_column(sa.String(64))
    # Credited on submission (services.households): the household and member of the invite
    # code, or only the region of a campaign code.
    household_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("household.id", ondelete="SET NULL"), index=True)
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("member.id", ondelete="SET NULL"))
    region_id: Mapped[int | None] = mapped_column(sa.ForeignKey("region.id"), index=True)
    credited: Mapped[bool] = mapped_column(default=False)

    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    submission_hash: Mapped[str | None] = mapped_column(sa.String(64))
    score: Mapped[int | None]
    correct_count: Mapped[int | None]
    total: Mapped[int | None]
    duration_seconds: Mapped[float | None]
    result: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)

    answers: Mapped[list[QuizAnswer]] = relationship(
        back_populates="session", cascade="all, delete-orphan", lazy="raise"
    )


class QuizAnswer(db.Model):
    """One answer inside a submitted attempt, kept for per-question correct rates."""

    __tablename__ = "quiz_answer"
    __table_args__ = (sa.UniqueConstraint("session_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(
        sa.ForeignKey("quiz_session.id", ondelete="CASCADE"), index=True
    )
    question_id: Mapped[str] = mapped_column(sa.ForeignKey("question.id"), index=True)
    scam_type_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    chosen: Mapped[list[str]] = mapped_column(sa.JSON)
    correct: Mapped[bool]

    session: Mapped[QuizSession] = relationship(back_populates="answers", lazy="raise")
