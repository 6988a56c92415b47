"""The audit log: imports, exports, role and region changes, with who, when and why."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ..extensions import db
from ..models import AuditLog, Region, User


def record(actor: User | None, action: str, *, region_id: int | None = None,
           target: str | None = None, reason: str | None = None,
           details: dict[str, Any] | None = None) -> AuditLog:
    """Add an entry to the current transaction (the caller commits with its own change)."""
    entry = AuditLog(user_id=actor.id if actor else None, username=actor.username if actor else None,
                     action=action, region_id=region_id, target=target, reason=reason,
                     details=details)
    db.session.add(entry)
    return entry


def entries(region_ids: list[int] | None, *, page: int, per_page: int) -> tuple[list[AuditLog], int]:
    """Newest first; ``region_ids`` None means every entry (admin)."""
    query = sa.select(AuditLog)
    if region_ids is not None:
        query = query.where(AuditLog.region_id.in_(region_ids))
    total = db.session.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()
    rows = db.session.execute(
        query.order_by(AuditLog.id.desc()).limit(per_page).offset((page - 1) * per_page)
    ).scalars().all()
    return list(rows), total


def region_codes(ids: set[int]) -> dict[int, str]:
    """Region id → code for the entries shown."""
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(Region.id, Region.code).where(Region.id.in_(ids))).all())
