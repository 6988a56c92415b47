"""Health check: the app answers and the database does too."""

from __future__ import annotations

import logging

import sqlalchemy as sa

from ..extensions import db
from . import bank as bank_service

log = logging.getLogger(__name__)


def check() -> dict:
    """Return {"status", "database", "bank_version"}; never raises."""
    try:
        db.session.execute(sa.text("SELECT 1"))
        version = bank_service.current_version()
        database = "ok"
    except Exception:  # the point of a health check is to report this, not crash
        log.exception("health check: database unreachable")
        db.session.rollback()
        version, database = None, "unavailable"
    return {
        "status": "ok" if database == "ok" else "degraded",
        "database": database,
        "bank_version": version,
    }
