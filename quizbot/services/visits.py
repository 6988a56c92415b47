"""Door-to-door visits (痕迹管理); a phone-made id makes re-sending a visit harmless."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..errors import Conflict, ValidationFailed
from ..extensions import db
from ..models import Household, User, Visit, utcnow
from . import integrity
from .households import get_in_scope
from .regions import Scope

OUTCOMES = ("completed", "not_home", "refused", "assisted")
MAX_FUTURE = timedelta(minutes=10)
MAX_AGE = timedelta(days=90)


def _content_hash(values: dict) -> str:
    data = json.dumps(values, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def record(scope: Scope, *, visit_id: str, household_code: str, outcome: str,
           visited_at: datetime, latitude: float | None = None, longitude: float | None = None,
           note: str | None = None, region_code: str | None = None) -> tuple[Visit, bool]:
    """Store a visit; returns (visit, created). The same id with the same content returns the
    stored visit; with different content it is a conflict.
    """
    household, region = get_in_scope(scope, household_code, region_code)
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
    integrity.settle_visit(visit, region.id)
    db.session.commit()
    return visit, True


def _by_client_id(visit_id: str) -> Visit | None:
    return db.session.execute(sa.select(Visit).where(Visit.client_id == visit_id)).scalar_one_or_none()


def _same_or_conflict(stored: Visit, digest: str) -> Visit:
    if stored.content_hash != digest:
        raise Conflict("该走访编号已提交过不同的内容", code="visit_conflict",
                       details={"id": ["编号重复但内容不同"]})
    return stored


def visit_row(visit: Visit) -> dict:
    """A visit as plain data: household code, officer's username, and whether it is held."""
    household_code = db.session.execute(
        sa.select(Household.code).where(Household.id == visit.household_id)).scalar_one_or_none()
    officer = db.session.execute(
        sa.select(User.username).where(User.id == visit.officer_id)).scalar_one_or_none()
    return {"client_id": visit.client_id, "household": household_code, "outcome": visit.outcome,
            "visited_at": visit.visited_at, "latitude": visit.latitude, "longitude": visit.longitude,
            "note": visit.note, "officer": officer, "held_for_review": integrity.is_visit_held(visit.id)}
