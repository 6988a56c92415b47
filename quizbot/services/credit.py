"""Counting once: a submitted quiz on its household, member and region; a visit on its household.

Every counter here is claimed or bumped with a conditional UPDATE, so several workers (or a
re-sent request, or a review racing a retry) can never count the same thing twice. Nothing
here decides *whether* something should count: that is ``integrity``'s job, which calls in.
The caller commits.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from ..extensions import db
from ..models import Household, Member, QuizSession, RegionScoreStat, RegionTypeStat, Visit


def credit_session(session_id: str) -> bool:
    """Count a submitted session for its household, member and region, exactly once.

    The claim is a conditional UPDATE of ``credited``; returns False when there was nothing to
    count (not submitted, no target) or another caller counted it first.
    """
    session = db.session.get(QuizSession, session_id)
    if session is None or session.submitted_at is None or session.region_id is None:
        return False
    claimed = db.session.execute(
        sa.update(QuizSession).where(QuizSession.id == session_id, QuizSession.credited.is_(False))
        .values(credited=True).execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        return False
    score, when = session.score or 0, session.submitted_at
    if session.household_id is not None:
        _credit_household(session.household_id, session.member_id, score, when)
    bump_region_stats(session.region_id, score, when, session.result or {})
    return True


def _later(column, when: datetime):
    return sa.case((column.is_(None), when), (column < when, when), else_=column)


def _credit_household(household_id: int, member_id: int | None, score: int, when: datetime) -> None:
    db.session.execute(sa.update(Household).where(Household.id == household_id).values(
        quiz_count=Household.quiz_count + 1, score_sum=Household.score_sum + score,
        last_quiz_at=_later(Household.last_quiz_at, when)))
    if member_id is None:
        return
    first = db.session.execute(sa.update(Member).where(
        Member.id == member_id, Member.quizzed_at.is_(None)).values(quizzed_at=when)
        .execution_options(synchronize_session=False)).rowcount
    if first:
        db.session.execute(sa.update(Household).where(Household.id == household_id)
                           .values(members_quizzed=Household.members_quizzed + 1))


def bump_region_stats(region_id: int, score: int, when: datetime, result: dict) -> None:
    """Add one attempt (and its answers per scam type) to the region's running totals."""
    updated = db.session.execute(sa.update(RegionScoreStat).where(
        RegionScoreStat.region_id == region_id).values(
        attempts=RegionScoreStat.attempts + 1, score_sum=RegionScoreStat.score_sum + score,
        last_quiz_at=_later(RegionScoreStat.last_quiz_at, when))).rowcount
    if not updated:
        db.session.execute(sa.insert(RegionScoreStat).values(
            region_id=region_id, attempts=1, score_sum=score, last_quiz_at=when))
    per_type: dict[str, list[int]] = {}
    for item in result.get("results", []):
        counts = per_type.setdefault(item["scam_type"], [0, 0])
        counts[0] += 1
        counts[1] += 1 if item["correct"] else 0
    for type_id, (answered, correct) in sorted(per_type.items()):
        updated = db.session.execute(sa.update(RegionTypeStat).where(
            RegionTypeStat.region_id == region_id, RegionTypeStat.scam_type_id == type_id).values(
            answered=RegionTypeStat.answered + answered,
            correct=RegionTypeStat.correct + correct)).rowcount
        if not updated:
            db.session.execute(sa.insert(RegionTypeStat).values(
                region_id=region_id, scam_type_id=type_id, answered=answered, correct=correct))


def apply_visit(visit: Visit) -> None:
    """Count a visit on its household; an older visit arriving late does not replace the latest."""
    newer = sa.or_(Household.last_visit_at.is_(None), Household.last_visit_at <= visit.visited_at)
    db.session.execute(sa.update(Household).where(Household.id == visit.household_id).values(
        visit_count=Household.visit_count + 1,
        last_visit_at=sa.case((newer, visit.visited_at), else_=Household.last_visit_at),
        last_visit_outcome=sa.case((newer, visit.outcome), else_=Household.last_visit_outcome),
    ).execution_options(synchronize_session=False))
