"""Rows that keep abuse limits in the database, so every worker and instance counts once."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class RateLimitCounter(db.Model):
    """A fixed-window counter of Flask-Limiter's database storage (``quizbot.ratelimit``)."""

    __tablename__ = "rate_limit_counter"

    key: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
    # Seconds since the epoch (a float, as the limits library speaks it), indexed for the sweep.
    expires_at: Mapped[float] = mapped_column(sa.Float, index=True)


class LoginThrottle(db.Model):
    """Failed sign-ins of one username from one IP: the lockout is per pair, so nobody can lock
    an officer out from elsewhere, and unknown usernames are counted exactly like real ones."""

    __tablename__ = "login_throttle"
    __table_args__ = (sa.UniqueConstraint("username", "ip"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64))
    ip: Mapped[str] = mapped_column(sa.String(64))
    failures: Mapped[int] = mapped_column(default=0)
    # How many lockouts in a row this pair earned: each doubles the next one (backoff).
    lockouts: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
