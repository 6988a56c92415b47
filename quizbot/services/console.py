"""What the officers' console shows beyond the API's own services: breadcrumbs, a household's
history, the review queue with household codes, filtered audit entries, QR sheets.

Plain values in, plain dicts out; every function takes the officer's ``Scope``.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from ..extensions import db
from ..models import AuditLog, Household, IntegrityFlag, QuizSession, Region, User, Visit
from . import households as household_service
from . import integrity as integrity_service
from .household_import import TAG_VOCABULARY
from .regions import Scope, get_in_scope, subtree_ids_query
from .reports import day_bounds

OUTCOME_TEXT = {"completed": "完成", "not_home": "不在家", "refused": "拒绝", "assisted": "代答"}
LEVEL_TEXT = {0: "县", 1: "乡镇", 2: "村", 3: "组"}


def breadcrumbs(scope: Scope, region: Region) -> list[dict]:
    """The region's ancestors the officer may open, top first, the region itself last."""
    codes = [c for c in region.path.strip("/").split("/") if c]
    rows = {r.code: r for r in db.session.execute(
        sa.select(Region).where(Region.code.in_(codes))).scalars()}
    return [{"code": c, "name": rows[c].name} for c in codes
            if c in rows and scope.covers(rows[c].path)]


def held_count(region: Region) -> int:
    """Quizzes and visits of the subtree waiting for review."""
    return db.session.execute(
        sa.select(sa.func.count()).select_from(IntegrityFlag).where(
            IntegrityFlag.status == "pending",
            IntegrityFlag.region_id.in_(subtree_ids_query(region.path)))).scalar_one()


def household_detail(scope: Scope, code: str, region_code: str | None = None) -> dict:
    """A household with members, visit history and quiz attempts (phones masked)."""
    household, region = household_service.get_in_scope(scope, code, region_code)
    data = household_service.household_row(household, region.code, invite=True)
    data["region_name"] = region.name
    data["region_path"] = region.path
    data["members"] = [household_service.member_row(m) for m in household_service.members_of(household.id)]
    for member in data["members"]:  # the page says 老人, not the stored id "elderly"
        member["tag_labels"] = [TAG_VOCABULARY.get(t, (t,))[0] for t in member["tags"]]
    names = {m["id"]: m["name"] for m in data["members"]}
    data["visits"] = [
        {"visited_at": v.visited_at, "outcome": OUTCOME_TEXT.get(v.outcome, v.outcome), "note": v.note,
         "officer": officer, "located": v.latitude is not None}
        for v, officer in db.session.execute(
            sa.select(Visit, User.username).join(User, User.id == Visit.officer_id)
            .where(Visit.household_id == household.id).order_by(Visit.visited_at.desc()).limit(50))]
    held_sessions = set(db.session.execute(
        sa.select(IntegrityFlag.session_id).where(
            IntegrityFlag.status == "pending", IntegrityFlag.session_id.in_(
                sa.select(QuizSession.id).where(QuizSession.household_id == household.id)))).scalars())
    data["attempts"] = [
        {"submitted_at": s.submitted_at, "score": s.score, "member": names.get(s.member_id, "其他家人"),
         "channel": s.channel,
         "status": "待审核" if s.id in held_sessions else ("已计入" if s.credited else "未计入")}
        for s in db.session.execute(
            sa.select(QuizSession).where(QuizSession.household_id == household.id,
                                         QuizSession.submitted_at.is_not(None))
            .order_by(QuizSession.submitted_at.desc()).limit(50)).scalars()]
    data["held"] = bool(held_sessions)
    return data


def review_queue(scope: Scope, region: Region, status: str | None, *, page: int,
                 per_page: int) -> tuple[list[dict], int]:
    """Held quizzes and visits with their reasons and the household they belong to."""
    rows, total = integrity_service.flags(scope, region.path, status, page=page, per_page=per_page)
    session_ids = [r.session_id for r in rows if r.session_id]
    visit_ids = [r.visit_id for r in rows if r.visit_id]
    by_session = _households_of(QuizSession, session_ids)
    by_visit = _households_of(Visit, visit_ids)
    out = []
    for r in rows:
        out.append({"id": r.id, "kind": "答题" if r.kind == "quiz" else "走访", "status": r.status,
                    "reasons": integrity_service.reason_texts(r.reasons), "created_at": r.created_at,
                    "household": by_session.get(r.session_id) or by_visit.get(r.visit_id) or (None, None)})
    return out, total


def _households_of(model, ids: list) -> dict:
    """id -> (household code, region code) for quiz sessions or visits: codes are unique per
    region only, so the review queue's links carry both."""
    if not ids:
        return {}
    return {row_id: (code, region_code) for row_id, code, region_code in db.session.execute(
        sa.select(model.id, Household.code, Region.code)
        .join(Household, Household.id == model.household_id)
        .join(Region, Region.id == Household.region_id)
        .where(model.id.in_(ids))).all()}


def audit_entries(scope: Scope, *, username: str | None, action: str | None, start: date | None,
                  end: date | None, page: int, per_page: int) -> tuple[list[dict], int]:
    """The audit log of the officer's subtree (admin: everything), filtered."""
    scope.require_role("county_admin")
    query = sa.select(AuditLog)
    if not scope.is_admin:
        region = get_in_scope(scope, None)
        query = query.where(AuditLog.region_id.in_(subtree_ids_query(region.path)))
    if username:
        query = query.where(AuditLog.username == username)
    if action:
        query = query.where(AuditLog.action == action)
    lo, hi = day_bounds(start, end)
    if lo:
        query = query.where(AuditLog.created_at >= lo)
    if hi:
        query = query.where(AuditLog.created_at < hi)
    total = db.session.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()
    rows = db.session.execute(query.order_by(AuditLog.id.desc()).limit(per_page)
                              .offset((page - 1) * per_page)).scalars()
    return [{"created_at": r.created_at, "username": r.username, "action": r.action, "target": r.target,
             "reason": r.reason} for r in rows], total


def audit_actions() -> list[str]:
    """Every action name that occurs in the log (for the filter)."""
    return list(db.session.execute(sa.select(AuditLog.action).distinct().order_by(AuditLog.action)).scalars())


def qr_sheet(scope: Scope, region_code: str, base_url: str) -> tuple[Region, list[dict]]:
    """Every household of a region subtree in walking order, with its invite URL, for printing."""
    region = get_in_scope(scope, region_code)
    rows = db.session.execute(
        sa.select(Household.code, Household.house_number, Household.address, Household.invite_code,
                  Region.name).join(Region, Region.id == Household.region_id)
        .where(Household.region_id.in_(subtree_ids_query(region.path)))
        .order_by(Region.path, sa.func.length(Household.house_number), Household.house_number,
                  Household.code)).all()
    return region, [{"code": code, "house_number": number, "address": address, "place": place,
                     "url": household_service.invite_url(base_url, invite)}
                    for code, number, address, invite, place in rows]


def region_choices(scope: Scope) -> list[dict]:
    """Regions the officer may pick (import target, filters): the subtree down to villages."""
    query = sa.select(Region).where(Region.level <= 3).order_by(Region.path)
    if scope.path is not None:
        query = query.where(Region.path.startswith(scope.path, autoescape=True))
    return [{"code": r.code, "name": r.name, "level": r.level} for r in db.session.execute(query.limit(2000)).scalars()]
