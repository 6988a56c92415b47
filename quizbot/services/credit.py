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
from ..models import Household, Member, QuizSession, Visit
from . import counters


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
    # RETURNING, under the row lock: exactly one credit sees the household's first quiz.
    row = db.session.execute(sa.update(Household).where(Household.id == household_id).values(
        quiz_count=Household.quiz_count + 1, score_sum=Household.score_sum + score,
        last_quiz_at=_later(Household.last_quiz_at, when))
        .returning(Household.quiz_count, Household.region_id)
        .execution_options(synchronize_session=False)).first()
    if row is None:
        return
    if row.quiz_count == 1:
        counters.add(row.region_id, households_quizzed=1)
    if member_id is None:
        return
    first = db.session.execute(sa.update(Member).where(
        Member.id == member_id, Member.quizzed_at.is_(None)).values(quizzed_at=when)
        .execution_options(synchronize_session=False)).rowcount
    if first:
        db.session.execute(sa.update(Household).where(Household.id == household_id)
                           .values(members_quizzed=Household.members_quizzed + 1)
                           .execution_options(synchronize_session=False))
        counters.add(row.region_id, members_quizzed=1)


def bump_region_stats(region_id: int, score: int, when: datetime, result: dict) -> None:
    """Add one attempt (and its answers per scam type) to the region's counters and its
    ancestors' (written at commit by ``counters``)."""
    counters.add(region_id, attempts=1, score_sum=score)
    counters.saw(region_id, quiz_at=when)
    counters.add_answers(region_id, [(item["scam_type"], bool(item["correct"]))
                                     for item in result.get("results", [])])


def apply_visit(visit: Visit) -> None:
    """Count a visit on its household; an older visit arriving late does not replace the latest."""
    newer = sa.or_(Household.last_visit_at.is_(None), Household.last_visit_at <= visit.visited_at)
    row = db.session.execute(sa.update(Household).where(Household.id == visit.household_id).values(
        visit_count=Household.visit_count + 1,
        last_visit_at=sa.case((newer, visit.visited_at), else_=Household.last_visit_at),
        last_visit_outcome=sa.case((newer, visit.outcome), else_=Household.last_visit_outcome),
    ).returning(Household.visit_count, Household.region_id)
        .execution_options(synchronize_session=False)).first()
    if row is None:
        return
    if row.visit_count == 1:  # under the row lock: exactly one visit is the first
        counters.add(row.region_id, households_visited=1)
    counters.saw(row.region_id, visit_at=visit.visited_at)
