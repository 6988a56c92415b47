"""Column types and helpers shared by the models."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    """The current time, timezone-aware UTC (what every column stores)."""
    return datetime.now(UTC)


def new_token(nbytes: int = 16) -> str:
    """An opaque, unguessable id for anything a resident holds."""
    return secrets.token_urlsafe(nbytes)


class UTCDateTime(TypeDecorator):
    """Store naive UTC on every backend, hand back aware UTC datetimes.

    SQLite has no time zones, so storing naive UTC everywhere keeps both databases equal.
    """

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)
