"""Regions and the officers' accounts that are bound to them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow

ROLES = ("admin", "county_admin", "station_admin", "officer", "grid_worker")


class Region(db.Model):
    """A node of the tree 县/区 → 乡镇/街道 → 村/社区 → 组/网格.

    ``path`` is the chain of codes from the root ("/C1/T2/V3/"), so a whole subtree is one
    indexed prefix query.
    """

    __tablename__ = "region"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    level: Mapped[int] = mapped_column(sa.SmallInteger)  # 0 county … 3 group
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("region.id"), index=True)
    path: Mapped[str] = mapped_column(sa.String(400), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class User(db.Model):
    """An officer-side account. ``admin`` has no region and sees everything."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    role: Mapped[str] = mapped_column(sa.String(32))
    region_id: Mapped[int | None] = mapped_column(sa.ForeignKey("region.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the password was generated (first admin, reset): the console asks for a new one.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuthToken(db.Model):
    """A bearer token; only its SHA-256 is stored so every worker can check it."""

    __tablename__ = "auth_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Household(db.Model):
    """A household of the registry, with denormalized counters so roll-ups are one GROUP BY.

    The counters (members, quizzes, visits) are kept up to date by the services that write
    members, credit quiz sessions and record visits.
    """

    __tablename__ = "household"
    __table_args__ = (
        # Covering index for the coverage roll-up (GROUP BY region_id over a subtree).
        sa.Index("ix_household_rollup", "region_id", "quiz_count", "visit_count",
                 "member_count", "members_quizzed", "score_sum"),
        sa.Index("ix_household_walk", "region_id", "house_number"),
        # A 户编号 is unique within the region the household belongs to, not county-wide, so an
        # import never learns that a code is taken in another jurisdiction (issue 12).
        sa.UniqueConstraint("region_id", "code"),
        sa.Index("ix_household_code", "code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(64))
    region_id: Mapped[int] = mapped_column(sa.ForeignKey("region.id"))
    address: Mapped[str] = mapped_column(sa.String(200))
    house_number: Mapped[str] = mapped_column(sa.String(32), default="")
    head_name: Mapped[str] = mapped_column(sa.String(64))
    phone: Mapped[str | None] = mapped_column(sa.String(32))
    invite_code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    member_count: Mapped[int] = mapped_column(default=0)
    members_quizzed: Mapped[int] = mapped_column(default=0)
    quiz_count: Mapped[int] = mapped_column(default=0)
    score_sum: Mapped[int] = mapped_column(default=0)
    last_quiz_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    visit_count: Mapped[int] = mapped_column(default=0)
    last_visit_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_visit_outcome: Mapped[str | None] = mapped_column(sa.String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Member(db.Model):
    """A resident of a household; ``quizzed_at`` is set by the first credited quiz."""

    __tablename__ = "member"
    __table_args__ = (sa.UniqueConstraint("household_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(
        sa.ForeignKey("household.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    sex: Mapped[str | None] = mapped_column(sa.String(8))
    age_band: Mapped[str | None] = mapped_column(sa.String(16))
    tags: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    phone: Mapped[str | None] = mapped_column(sa.String(32))
    quizzed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Visit(db.Model):
    """A door-to-door visit (痕迹管理). ``client_id`` is made by the phone: re-sending is harmless."""

    __tablename__ = "visit"
    __table_args__ = (sa.Index("ix_visit_household_time", "household_id", "visited_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    household_id: Mapped[int] = mapped_column(sa.ForeignKey("household.id", ondelete="CASCADE"))
    officer_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    outcome: Mapped[str] = mapped_column(sa.String(16))
    visited_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    note: Mapped[str | None] = mapped_column(sa.String(500))
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CampaignCode(db.Model):
    """A code pushed to a WeChat group: quizzes started with it credit a region, not a household."""

    __tablename__ = "campaign_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    region_id: Mapped[int] = mapped_column(sa.ForeignKey("region.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IntegrityFlag(db.Model):
    """A quiz or visit held for admin review; a held quiz counts only once accepted."""

    __tablename__ = "integrity_flag"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(sa.String(32))  # quiz | visit
    reasons: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    region_id: Mapped[int | None] = mapped_column(sa.ForeignKey("region.id"), index=True)
    session_id: Mapped[str | None] = mapped_column(sa.String(43), unique=True)
    visit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("visit.id", ondelete="CASCADE"))
    client_id: Mapped[str | None] = mapped_column(sa.String(64))
    officer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    status: Mapped[str] = mapped_column(sa.String(16), default="pending", index=True)
    reviewed_by: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditLog(db.Model):
    """Who did what, when and why: imports, exports, role and region changes."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    username: Mapped[str | None] = mapped_column(sa.String(64))
    action: Mapped[str] = mapped_column(sa.String(32), index=True)
    region_id: Mapped[int | None] = mapped_column(sa.ForeignKey("region.id"), index=True)
    target: Mapped[str | None] = mapped_column(sa.String(200))
    reason: Mapped[str | None] = mapped_column(sa.String(500))
    details: Mapped[dict | None] = mapped_column(sa.JSON)
