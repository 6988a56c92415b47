"""Item statistics from real answers (Moodle-style): how hard each question is, whether it
separates residents who know from those who guess, and which questions need a look.

One query reads the answers of submitted attempts (in a region subtree, or everywhere) with
each attempt's score; the figures are then computed in Python:

- ``attempts``: stored answers to the question (an unanswered question counts as wrong);
- ``correct_rate``: the share answered correctly;
- ``discrimination``: the point-biserial correlation between answering this question right
  (1/0) and the rest of the quiz score (the share of the attempt's *other* questions answered
  right). Near 0 the question says nothing about knowledge; below 0 residents who know more
  get it wrong more often, which usually means a misleading key or option.

A question is listed for review when it has at least ``min_attempts`` answers and nearly
everyone gets it right (> 95%), nearly everyone gets it wrong (< 20%), or its discrimination
is negative.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa

from ..extensions import db
from ..models import Question, QuizAnswer, QuizSession, Region, ScamType
from .regions import Scope, get_in_scope, subtree_ids_query

TOO_EASY = 0.95
TOO_HARD = 0.20
DEFAULT_MIN_ATTEMPTS = 20
REASONS = {
    "too_easy": "几乎人人答对（正确率高于 95%），区分不出谁真懂",
    "too_hard": "大多数人答错（正确率低于 20%），请检查题干和答案",
    "negative_discrimination": "总分高的人反而更常答错，答案或选项可能有误导",
}


@dataclass
class _Item:
    """Running sums for one question."""

    attempts: int = 0
    correct: int = 0
    n: int = 0          # answers in attempts with at least one other question
    sx: float = 0.0
    sy: float = 0.0
    sxx: float = 0.0
    syy: float = 0.0
    sxy: float = 0.0

    def add(self, x: int, rest: float | None) -> None:
        self.attempts += 1
        self.correct += x
        if rest is None:
            return
        self.n += 1
        self.sx += x
        self.sy += rest
        self.sxx += x * x
        self.syy += rest * rest
        self.sxy += x * rest

    def discrimination(self) -> float | None:
        """Pearson r between x (0/1) and the rest score, i.e. the point-biserial correlation."""
        if self.n < 2:
            return None
        var_x = self.n * self.sxx - self.sx ** 2
        var_y = self.n * self.syy - self.sy ** 2
        if var_x <= 0 or var_y <= 0:
            return None
        return (self.n * self.sxy - self.sx * self.sy) / math.sqrt(var_x * var_y)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def item_statistics(region_path: str | None = None, *,
                    min_attempts: int = DEFAULT_MIN_ATTEMPTS) -> dict:
    """Per-question and per-type figures over submitted attempts (in ``region_path``'s subtree
    when given, else every attempt), plus the questions to review."""
    query = (
        sa.select(QuizAnswer.question_id, QuizAnswer.scam_type_id, QuizAnswer.correct,
                  QuizSession.correct_count, QuizSession.total)
        .join(QuizSession, QuizSession.id == QuizAnswer.session_id)
        .where(QuizSession.submitted_at.is_not(None))
    )
    sessions = sa.select(sa.func.count()).select_from(QuizSession).where(
        QuizSession.submitted_at.is_not(None))
    if region_path is not None:
        query = query.where(QuizSession.region_id.in_(subtree_ids_query(region_path)))
        sessions = sessions.where(QuizSession.region_id.in_(subtree_ids_query(region_path)))

    items: dict[str, _Item] = defaultdict(_Item)
    types: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    type_of: dict[str, str] = {}
    for qid, type_id, correct, session_correct, session_total in db.session.execute(query):
        x = 1 if correct else 0
        rest = ((session_correct or 0) - x) / (session_total - 1) if (session_total or 0) > 1 else None
        items[qid].add(x, rest)
        type_of[qid] = type_id
        types[type_id][0] += 1
        types[type_id][1] += x

    info = {row.id: row for row in db.session.execute(
        sa.select(Question.id, Question.type, Question.stem).where(Question.id.in_(list(items))))}
    names = dict(db.session.execute(sa.select(ScamType.id, ScamType.name)).all())
    questions, review = [], []
    for qid in sorted(items):
        item = items[qid]
        row = info.get(qid)
        entry = {
            "id": qid,
            "type": row.type if row else None,
            "stem": row.stem if row else None,
            "scam_type": type_of[qid],
            "attempts": item.attempts,
            "correct_rate": _rounded(item.correct / item.attempts),
            "discrimination": _rounded(item.discrimination()),
        }
        questions.append(entry)
        if item.attempts < min_attempts:
            continue
        reasons = []
        if item.correct / item.attempts > TOO_EASY:
            reasons.append("too_easy")
        if item.correct / item.attempts < TOO_HARD:
            reasons.append("too_hard")
        if entry["discrimination"] is not None and entry["discrimination"] < 0:
            reasons.append("negative_discrimination")
        if reasons:
            review.append({**entry, "reasons": reasons, "notes": [REASONS[r] for r in reasons]})
    return {
        "sessions": db.session.execute(sessions).scalar_one(),
        "min_attempts": min_attempts,
        "questions": questions,
        "scam_types": [
            {"id": t, "name": names.get(t, t), "attempts": a, "correct_rate": _rounded(c / a)}
            for t, (a, c) in sorted(types.items())
        ],
        "review": review,
    }


def _region(region: Region) -> dict:
    return {"code": region.code, "name": region.name, "level": region.level}


def for_scope(scope: Scope, region_code: str | None, *,
              min_attempts: int = DEFAULT_MIN_ATTEMPTS) -> dict:
    """The statistics of a region the user may see (404 outside the user's subtree)."""
    region = get_in_scope(scope, region_code)
    return {"region": _region(region), **item_statistics(region.path, min_attempts=min_attempts)}


def for_region_code(code: str | None, *, min_attempts: int = DEFAULT_MIN_ATTEMPTS) -> dict:
    """For the CLI: one region's subtree by code, or every attempt when ``code`` is None."""
    if code is None:
        return {"region": None, **item_statistics(None, min_attempts=min_attempts)}
    region = db.session.execute(sa.select(Region).where(Region.code == code)).scalar_one_or_none()
    if region is None:
        raise LookupError(code)
    return {"region": _region(region), **item_statistics(region.path, min_attempts=min_attempts)}
