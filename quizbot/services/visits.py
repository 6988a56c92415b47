"""Door-to-door visits (痕迹管理); a phone-made id makes re-sending a visit harmless."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..errors import Conflict, ValidationFailed
from ..extensions import db
from ..models import Household, IntegrityFlag, Visit, utcnow
from . import households as household_service
from . import integrity
from .regions import Scope

OUTCOMES = ("completed", "not_home", "refused", "assisted")
MAX_FUTURE = timedelta(minutes=10)
MAX_AGE = timedelta(days=90)


def _content_hash(values: dict) -> str:
    data = json.dumps(values, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def record(scope: Scope, *, visit_id: str, household_code: str, outcome: str,
           visited_at: datetime, latitude: float | None = None, longitude: float | None = None,
           note: str | None = None) -> tuple[Visit, bool]:
    """Store a visit; returns (visit, created). The same id with the same content returns the
    stored visit; with different content it is a conflict.
    """
    household, region = household_service.get_in_scope(scope, household_code)
    if outcome not in OUTCOMES:
        raise ValidationFailed("走访结果无效", details={"outcome": [f"取值必须是以下之一：{', '.join(OUTCOMES)}"]})
    if visited_at.tzinfo is None:
        visited_at = visited_at.replace(tzinfo=UTC)
    now = utcnow()
    if visited_at > now + MAX_FUTURE:
        raise ValidationFailed("走访时间不能晚于现在", details={"visited_at": ["时间在未来"]})
    if visited_at < now - MAX_AGE:
        raise ValidationFailed("走访时间太早（超过 90 天）", details={"visited_at": ["时间太早"]})
    if (latitude is None) != (longitude is None):
        raise ValidationFailed("经纬度需要同时提供", details={"location": ["缺少经度或纬度"]})
    visited_at = visited_at.astimezone(UTC).replace(microsecond=0)
    content = {"household": household.id, "outcome": outcome, "visited_at": visited_at.isoformat(),
               "lat": latitude, "lng": longitude, "note": note or None, "officer": scope.user_id}
    digest = _content_hash(content)
    stored = _by_client_id(visit_id)
    if stored is not None:
        return _same_or_conflict(stored, digest), False
    visit = Visit(client_id=visit_id, household_id=household.id, officer_id=scope.user_id,
                  outcome=outcome, visited_at=visited_at, latitude=latitude, longitude=longitude,
                  note=note or None, content_hash=digest, created_at=now)
    db.session.add(visit)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()  # the same id arrived twice at once: the first one won
        stored = _by_client_id(visit_id)
        if stored is None:
            raise
        return _same_or_conflict(stored, digest), False
    reasons = integrity.check_visit(visit)
    if reasons:
        integrity.flag("visit", reasons, region_id=region.id, visit=visit)
    else:
        apply_to_household(visit)
    db.session.commit()
    return visit, True


def _by_client_id(visit_id: str) -> Visit | None:
    return db.session.execute(sa.select(Visit).where(Visit.client_id == visit_id)).scalar_one_or_none()


def _same_or_conflict(stored: Visit, digest: str) -> Visit:
    if stored.content_hash != digest:
        raise Conflict("该走访编号已提交过不同的内容", code="visit_conflict",
                       details={"id": ["编号重复但内容不同"]})
    return stored


def apply_to_household(visit: Visit) -> None:
    """Count a visit on its household; an older visit arriving late does not replace the latest."""
    newer = sa.or_(Household.last_visit_at.is_(None), Household.last_visit_at <= visit.visited_at)
    db.session.execute(sa.update(Household).where(Household.id == visit.household_id).values(
        visit_count=Household.visit_count + 1,
        last_visit_at=sa.case((newer, visit.visited_at), else_=Household.last_visit_at),
        last_visit_outcome=sa.case((newer, visit.outcome), else_=Household.last_visit_outcome),
    ).execution_options(synchronize_session=False))


def is_held(visit: Visit) -> bool:
    """True while the visit waits for review."""
    return db.session.execute(sa.select(IntegrityFlag.id).where(
        IntegrityFlag.visit_id == visit.id, IntegrityFlag.status == "pending")).first() is not None
