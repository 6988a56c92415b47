"""Integrity checks (刷数): suspicious quizzes and visits are held for review, never counted silently.

``settle_session`` and ``settle_visit`` are the one place that decides between "count it now"
(``credit``) and "hold it" (a pending flag); ``review`` is where a station or county admin
settles a held one, with a note that goes into the audit log.

The rules fit real households: a family quizzing one after another on one phone is normal
(the burst rule counts per member). The device and network rules work on the server's own
signals (``quizbot.device``: a signed cookie, else IP + user agent; and the network address),
so a scripted run that changes its ``client_id``, cookies or user agent is still counted.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from ..errors import Conflict, NotFound, ValidationFailed
from ..extensions import db
from ..models import IntegrityFlag, QuizSession, Region, Visit, utcnow
from . import audit, credit
from .regions import Scope, actor, subtree_ids_query

MAX_HOUSEHOLDS_PER_HOUR = 10
# Per network (one IPv4 address or IPv6 /64) the allowance is twice the device's: a village's
# phones may share a carrier's NAT address, and the rule only holds for review. Cookies, user
# agents and client ids cost nothing to change; an address is what a scripted run cannot shed.
MAX_HOUSEHOLDS_PER_NETWORK_HOUR = 2 * MAX_HOUSEHOLDS_PER_HOUR
DEVICE_WINDOW = timedelta(hours=1)
MIN_SECONDS_PER_QUESTION = 2.0
BURST_WINDOW = timedelta(minutes=10)
BURST_MAX_PER_MEMBER = 3
REASON_TEXT = {
    "too_fast": "答题过快（平均每题不到 2 秒）",
    "device_many_households": f"同一设备一小时内为超过 {MAX_HOUSEHOLDS_PER_HOUR} 户答题",
    "network_many_households": f"同一网络地址一小时内为超过 {MAX_HOUSEHOLDS_PER_NETWORK_HOUR} 户答题",
    "household_burst": "同一人 10 分钟内答题次数异常",
    "officer_many_households": "同一工作人员一小时内登记超过 10 户代答",
}
# What a resident whose quiz is held reads.
HELD_NOTICE = "本次答题已收到，工作人员核对后会计入您家的成绩。"
REVIEWER_ROLES = ("county_admin", "station_admin")
DECISIONS = ("accept", "reject")
MAX_NOTE = 500


# --- the rules ---------------------------------------------------------------------------

def check_session(session: QuizSession) -> list[str]:
    """Reasons to hold a just-submitted session that would count for a household or region."""
    reasons = []
    if session.total and session.duration_seconds is not None and \
            session.duration_seconds / session.total < MIN_SECONDS_PER_QUESTION:
        reasons.append("too_fast")
    now = session.submitted_at or utcnow()
    if session.household_id is not None:
        # The device is the server's key (signed cookie, or IP + user agent) and, as well, the
        # id the client sends: changing either alone does not reset the count.
        devices = [(QuizSession.device_key, session.device_key), (QuizSession.client_id, session.client_id)]
        if any(_households_since(column, value, now) > MAX_HOUSEHOLDS_PER_HOUR
               for column, value in devices if value):
            reasons.append("device_many_households")
        if session.network_key and _households_since(
                QuizSession.network_key, session.network_key, now) > MAX_HOUSEHOLDS_PER_NETWORK_HOUR:
            reasons.append("network_many_households")
    if session.household_id is not None:
        # Per member: four family members one after another on one phone is normal; one
        # person (or "其他家人" of one household) answering again and again is not.
        same_person = (QuizSession.member_id == session.member_id if session.member_id is not None
                       else QuizSession.member_id.is_(None))
        recent = db.session.execute(
            sa.select(sa.func.count()).select_from(QuizSession).where(
                QuizSession.household_id == session.household_id, same_person,
                QuizSession.submitted_at >= now - BURST_WINDOW)).scalar_one()
        if recent > BURST_MAX_PER_MEMBER:
            reasons.append("household_burst")
    return reasons


def _households_since(column, value: str, now) -> int:
    """Distinct households quizzed in the last hour by attempts whose ``column`` is ``value``."""
    return db.session.execute(
        sa.select(sa.func.count(sa.distinct(QuizSession.household_id))).where(
            column == value, QuizSession.submitted_at >= now - DEVICE_WINDOW,
            QuizSession.household_id.is_not(None))).scalar_one()


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


# --- count it or hold it -----------------------------------------------------------------

def settle_session(session: QuizSession) -> bool:
    """After a submission: hold it for review if it looks like 刷数, else count it. No commit.
    True when it is held."""
    if session.region_id is None:
        return False
    session = db.session.get(QuizSession, session.id)  # as stored by the submission's UPDATE
    reasons = check_session(session)
    if reasons:
        flag("quiz", reasons, region_id=session.region_id, session=session)
        return True
    credit.credit_session(session.id)
    return False


def settle_visit(visit: Visit, region_id: int) -> None:
    """After a visit is stored: hold it if it looks like 刷数, else count it. No commit."""
    reasons = check_visit(visit)
    if reasons:
        flag("visit", reasons, region_id=region_id, visit=visit)
    else:
        credit.apply_visit(visit)


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


# --- what is held ------------------------------------------------------------------------

def is_session_held(session_id: str) -> bool:
    """True while a submitted quiz waits for review (the resident is told it counts after a check)."""
    return db.session.execute(sa.select(IntegrityFlag.id).where(
        IntegrityFlag.session_id == session_id, IntegrityFlag.status == "pending")).first() is not None


def status_view(held: bool) -> dict:
    """What the resident is told about counting: held for a check (with the notice) or not."""
    return {"held_for_review": held, "notice": HELD_NOTICE if held else None}


def resident_status(session: QuizSession) -> dict:
    """``status_view`` of a stored attempt; one that counts for no region is never held."""
    return status_view(session.region_id is not None and is_session_held(session.id))


def is_visit_held(visit_id: int) -> bool:
    """True while a visit waits for review."""
    return db.session.execute(sa.select(IntegrityFlag.id).where(
        IntegrityFlag.visit_id == visit_id, IntegrityFlag.status == "pending")).first() is not None


def held_by_household(household_ids: list[int]) -> dict[int, list[str]]:
    """Household id → the reason codes of its pending flags (quizzes and visits), in two queries."""
    if not household_ids:
        return {}
    held: dict[int, list[str]] = {}
    quiz_rows = db.session.execute(
        sa.select(QuizSession.household_id, IntegrityFlag.reasons)
        .join(QuizSession, QuizSession.id == IntegrityFlag.session_id)
        .where(IntegrityFlag.status == "pending", QuizSession.household_id.in_(household_ids)))
    visit_rows = db.session.execute(
        sa.select(Visit.household_id, IntegrityFlag.reasons)
        .join(Visit, Visit.id == IntegrityFlag.visit_id)
        .where(IntegrityFlag.status == "pending", Visit.household_id.in_(household_ids)))
    for household_id, reasons in [*quiz_rows, *visit_rows]:
        have = held.setdefault(household_id, [])
        have.extend(r for r in reasons or [] if r not in have)
    return held


def held_households_query() -> sa.Select:
    """``SELECT household_id`` of every household with a quiz or visit waiting for review."""
    quiz = (sa.select(QuizSession.household_id).join(IntegrityFlag, IntegrityFlag.session_id == QuizSession.id)
            .where(IntegrityFlag.status == "pending"))
    visit = (sa.select(Visit.household_id).join(IntegrityFlag, IntegrityFlag.visit_id == Visit.id)
             .where(IntegrityFlag.status == "pending"))
    return sa.union(quiz, visit)


def reason_texts(reasons: list[str]) -> list[str]:
    """Readable Chinese for flag reasons."""
    return [REASON_TEXT.get(r, r) for r in reasons]


# --- the review queue --------------------------------------------------------------------

def flags(scope: Scope, region_path: str | None, status: str | None, *, page: int,
          per_page: int) -> tuple[list[IntegrityFlag], int]:
    """The review queue of a region subtree, newest first; ``region_path`` None (admin only)
    is the whole tree, flags without a region included."""
    scope.require_role(*REVIEWER_ROLES)
    query = sa.select(IntegrityFlag)
    if region_path is not None:
        query = query.where(IntegrityFlag.region_id.in_(subtree_ids_query(region_path)))
    elif not scope.is_admin:
        raise NotFound("找不到该区域", code="region_not_found")
    if status:
        query = query.where(IntegrityFlag.status == status)
    total = db.session.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()
    rows = db.session.execute(query.order_by(IntegrityFlag.id.desc()).limit(per_page)
                              .offset((page - 1) * per_page)).scalars().all()
    return list(rows), total


def review(scope: Scope, flag_id: int, decision: str, note: str | None = None) -> IntegrityFlag:
    """Accept (count it now) or reject (never count it) a pending flag; the decision and the
    reviewer's note go into the audit log in the same transaction."""
    scope.require_role(*REVIEWER_ROLES)
    row = db.session.get(IntegrityFlag, flag_id)
    region = db.session.get(Region, row.region_id) if row and row.region_id else None
    if row is None or (region is None and not scope.is_admin) or \
            (region is not None and not scope.covers(region.path)):
        raise NotFound("找不到该待审核记录", code="flag_not_found")
    if decision not in DECISIONS:
        raise ValidationFailed("审核结果无效", details={"decision": ["取值必须是 accept 或 reject"]})
    note = (note or "").strip() or None
    if note is not None and len(note) > MAX_NOTE:
        raise ValidationFailed("审核备注太长", details={"note": [f"不能超过 {MAX_NOTE} 个字"]})
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
            credit.credit_session(row.session_id)
        if row.visit_id:
            visit = db.session.get(Visit, row.visit_id)
            if visit is not None:
                credit.apply_visit(visit)
    audit.record(actor(scope), f"integrity_{decision}", region_id=row.region_id, target=str(flag_id),
                 reason=note, details={"kind": row.kind, "reasons": row.reasons,
                                       "session_id": row.session_id, "visit_id": row.visit_id})
    db.session.commit()
    db.session.refresh(row)
    return row
