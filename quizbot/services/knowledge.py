"""Read access to the knowledge base (scam types and topics)."""

from __future__ import annotations

import sqlalchemy as sa

from ..errors import NotFound
from ..extensions import db
from ..models import ScamType
from .bank import scam_type_dict


def list_entries() -> list[dict]:
    """Active entries in the taxonomy's order."""
    rows = db.session.execute(
        sa.select(ScamType).where(ScamType.active.is_(True)).order_by(ScamType.position)
    ).scalars()
    return [scam_type_dict(r) for r in rows]


def get_entry(type_id: str) -> dict:
    """One entry by id, or 404."""
    row = db.session.get(ScamType, type_id) if len(type_id) <= 64 else None
    if row is None or not row.active:
        raise NotFound("找不到这种诈骗类型", code="scam_type_not_found")
    return scam_type_dict(row)
