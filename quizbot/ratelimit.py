"""Flask-Limiter storage in the app's own database: limits count once across every gunicorn
worker and instance without another service. ``RATELIMIT_STORAGE_URI=database://`` (the
default) selects it; ``redis://…`` selects Redis instead; ``memory://`` is per process (tests).

Each limit window is one row of ``rate_limit_counter``, bumped with a single conditional
``UPDATE … RETURNING`` (a new window restarts the count in the same statement), so two workers
hitting the same key at once never both see the old count.
"""

from __future__ import annotations

import random
import time

import sqlalchemy as sa
from limits.storage import Storage

from .models.security import RateLimitCounter

SCHEME = "database"
_table = RateLimitCounter.__table__


class DatabaseStorage(Storage):
    """Fixed-window counters in SQL (SQLite ≥ 3.35 or PostgreSQL)."""

    STORAGE_SCHEME = [SCHEME]
    DEPENDENCIES: list[str] = []

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False,
                 database_url: str | None = None, **options) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        if not database_url:
            raise ValueError("database:// rate-limit storage needs the app's DATABASE_URL")
        self.engine = sa.create_engine(database_url, pool_pre_ping=True, hide_parameters=True)

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return sa.exc.SQLAlchemyError

    def _bump(self, conn, key: str, expiry: float, amount: int, now: float) -> int | None:
        expired = _table.c.expires_at <= now
        return conn.execute(
            sa.update(_table).where(_table.c.key == key).values(
                count=sa.case((expired, amount), else_=_table.c.count + amount),
                expires_at=sa.case((expired, now + expiry), else_=_table.c.expires_at),
            ).returning(_table.c.count)).scalar_one_or_none()

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        for _attempt in range(3):
            with self.engine.begin() as conn:
                count = self._bump(conn, key, expiry, amount, now)
                if count is not None:
                    break
            try:
                with self.engine.begin() as conn:
                    conn.execute(sa.insert(_table).values(key=key, count=amount, expires_at=now + expiry))
                count = amount
                break
            except sa.exc.IntegrityError:
                continue  # another worker created the row first: bump it
        else:  # pragma: no cover - three lost races in a row
            raise sa.exc.OperationalError("rate limit counter", {}, RuntimeError("contention"))
        if random.random() < 0.001:  # sweep old windows now and then
            with self.engine.begin() as conn:
                conn.execute(sa.delete(_table).where(_table.c.expires_at < now - 3600))
        return count

    def get(self, key: str) -> int:
        with self.engine.connect() as conn:
            count = conn.execute(sa.select(_table.c.count).where(
                _table.c.key == key, _table.c.expires_at > time.time())).scalar_one_or_none()
        return count or 0

    def get_expiry(self, key: str) -> float:
        with self.engine.connect() as conn:
            expires = conn.execute(sa.select(_table.c.expires_at).where(
                _table.c.key == key)).scalar_one_or_none()
        return expires if expires is not None else time.time()

    def check(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.select(1))
            return True
        except sa.exc.SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        with self.engine.begin() as conn:
            return conn.execute(sa.delete(_table)).rowcount

    def clear(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.delete(_table).where(_table.c.key == key))


def configure(app) -> None:
    """Point Flask-Limiter's ``database://`` storage at the app's database (before init_app)."""
    if str(app.config.get("RATELIMIT_STORAGE_URI", "")).startswith(SCHEME + "://"):
        options = dict(app.config.get("RATELIMIT_STORAGE_OPTIONS") or {})
        options.setdefault("database_url", app.config["SQLALCHEMY_DATABASE_URI"])
        app.config["RATELIMIT_STORAGE_OPTIONS"] = options
