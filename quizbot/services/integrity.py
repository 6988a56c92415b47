"""Integrity checks (刷数): suspicious quizzes and visits are held for review, never counted silently."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from ..errors import Conflict, NotFound, ValidationFailed
from ..extensions import db
from ..models import IntegrityFlag, QuizSession, Region, Visit, utcnow
from .regions import Scope, subtree_ids_query

MAX_HOUSEHOLDS_PER_HOUR = 10
MIN_SECONDS_PER_QUESTION = 2.0
BURST_WINDOW = timedelta(minutes=10)
BURST_MAX_PER_HOUSEHOLD = 3
REASON_TEXT = {
    "too_fast": "答题过快（平均每题不到 2 秒）",
    "device_many_households": "同一设备一小时内为超过 10 户答题",
    "household_burst": "同一户 10 分钟内答题次数异常",
    "officer_many_households": "同一工作人员一小时内登记超过 10 户代答",
}
REVIEWER_ROLES = ("county_admin", "station_admin")


def check_session(session: QuizSession) -> list[str]:
    """Reasons to hold a just-submitted, credited-to-someone session for review."""
    reasons = []
    if session.total and session.duration_seconds is not None and \
            session.duration_seconds / session.total < MIN_SECONDS_PER_QUESTION:
        reasons.append("too_fast")
    now = session.submitted_at or utcnow()
    if session.client_id and session.household_id is not None:
        households = db.session.execute(
            sa.select(sa.func.count(sa.distinct(QuizSession.household_id))).where(
                QuizSession.client_id == session.client_id,
                QuizSession.submitted_at >= now - timedelta(hours=1),
                QuizSession.household_id.is_not(None))).scalar_one()
        if households > MAX_HOUSEHOLDS_PER_HOUR:
            reasons.append("device_many_households")
    if session.household_id is not None:
        recent = db.session.execute(
            sa.select(sa.func.count()).select_from(QuizSession).where(
                QuizSession.household_id == session.household_id,
                QuizSession.submitted_at >= now - BURST_WINDOW)).scalar_one()
        if recent > BURST_MAX_PER_HOUSEHOLD:
            reasons.append("household_burst")
    return reasons


def check_visit(visit: Visit) -> list[str]:
    """Reasons to hold a visit: the officer records too many assisted quizzes in an hour."""
    if visit.outcome != "assisted":
        return []
    households = db.session.execute(
        sa.select(sa.func.count(sa.distinct(Visit.household_id))).where(
            Visit.officer_id == visit.officer_id, Visit.outcome == "assisted",
            Visit.visited_at >= visit.visited_at - timedelta(hours=1),
            Visit.visited_at <= visit.visited_at)).scalar_one()
    return ["officer_many_households"] if households > MAX_HOUSEHOLDS_PER_HOUR else []


def flag(kind: str, reasons: list[str], *, region_id: int | None, session: QuizSession | None = None,
         visit: Visit | None = None) -> IntegrityFlag:
    """Add a pending flag to the current transaction."""
    row = IntegrityFlag(kind=kind, reasons=reasons, region_id=region_id,
                        session_id=session.id if session else None,
                        visit_id=visit.id if visit else None,
                        client_id=session.client_id if session else None,
                        officer_id=visit.officer_id if visit else None)
    db.session.add(row)
    return row


def flags(scope: Scope, region_path: str, status: str | None, *, page: int,
          per_page: int) -> tuple[list[IntegrityFlag], int]:
    """The review queue of a region subtree, newest first."""
    scope.require_role(*REVIEWER_ROLES)
    query = sa.select(IntegrityFlag).where(IntegrityFlag.region_id.in_(subtree_ids_query(region_path)))
    if status:
        query = query.where(IntegrityFlag.status == status)
    total = db.session.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()
    rows = db.session.execute(query.order_by(IntegrityFlag.id.desc()).limit(per_page)
                              .offset((page - 1) * per_page)).scalars().all()
    return list(rows), total


def review(scope: Scope, flag_id: int, decision: str) -> IntegrityFlag:
    """Accept (now count it) or reject (never count it) a pending flag."""
    from . import households as household_service
    from . import visits as visit_service

    scope.require_role(*REVIEWER_ROLES)
    row = db.session.get(IntegrityFlag, flag_id)
    region = db.session.get(Region, row.region_id) if row and row.region_id else None
    if row is None or (region is None and not scope.is_admin) or \
            (region is not None and not scope.covers(region.path)):
        raise NotFound("找不到该待审核记录", code="flag_not_found")
    if decision not in ("accept", "reject"):
        raise ValidationFailed("审核结果无效", details={"decision": ["取值必须是 accept 或 reject"]})
    if row.status != "pending":
        raise Conflict("该记录已审核过", code="already_reviewed")
    claimed = db.session.execute(sa.update(IntegrityFlag).where(
        IntegrityFlag.id == flag_id, IntegrityFlag.status == "pending").values(
        status="accepted" if decision == "accept" else "rejected", reviewed_by=scope.user_id,
        reviewed_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        db.session.rollback()
        raise Conflict("该记录已审核过", code="already_reviewed")
    if decision == "accept":
        if row.session_id:
            household_service.credit_session(row.session_id)
        if row.visit_id:
            visit = db.session.get(Visit, row.visit_id)
            if visit is not None:
                visit_service.apply_to_household(visit)
    db.session.commit()
    db.session.refresh(row)
    return row


def reason_texts(reasons: list[str]) -> list[str]:
    """Readable Chinese for flag reasons."""
    return [REASON_TEXT.get(r, r) for r in reasons]


__all__ = ["check_session", "check_visit", "flag", "flags", "review"]
