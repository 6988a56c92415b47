"""Coverage roll-ups ("不漏一户、不漏一人") and the revisit queue (with why each household is on it).

A roll-up reads the per-region counters kept on every write (``services.counters``) of the
region and its direct children: a fixed number of queries whose size grows with the children
on screen, never with households or attempts. Each child's counters are the totals of its
subtree, and the region's own households (not under any child) are what is left, so every
level adds up exactly.
"""

from __future__ import annotations

import sqlalchemy as sa

from ..extensions import db
from ..models import Household, Region, ScamType
from . import counters
from .households import rows_with_held, walking_order
from .regions import Scope, get_in_scope, subtree_ids_query

WEAKEST_COUNT = 3
SUMS = ("households_total", "households_visited", "households_quizzed", "members_total",
        "members_quizzed", "attempts", "score_sum")


def _figures(counts: dict, types: dict[str, list[int]], *, own: bool = False) -> dict:
    """A region's counters in the shape the roll-up adds up (``own``: its own latest times)."""
    fig = {key: counts[key] for key in SUMS}
    prefix = "own_" if own else ""
    fig["last_activity"] = counters.later(counts[prefix + "last_visit_at"], counts[prefix + "last_quiz_at"])
    fig["types"] = {type_id: list(pair) for type_id, pair in types.items()}
    return fig


def rollup(scope: Scope, region_code: str | None) -> dict:
    """The coverage of a region and of each direct child (parent totals = sum of children).

    Reads the per-region counters (``services.counters``) of the region and its children only:
    the cost grows with the number of children on screen, not with households or attempts.
    """
    region = get_in_scope(scope, region_code)
    children = list(db.session.execute(
        sa.select(Region).where(Region.parent_id == region.id).order_by(Region.code)).scalars())
    counts, types = counters.read([region.id, *(c.id for c in children)])
    names = dict(db.session.execute(sa.select(ScamType.id, ScamType.name)).all())
    total = _figures(counts[region.id], types[region.id])
    out_children = []
    direct = _figures(counts[region.id], types[region.id], own=True)
    for child in children:
        fig = _figures(counts[child.id], types[child.id])
        out_children.append(_present(child, fig, names))
        for key in SUMS:
            direct[key] -= fig[key]
        for type_id, (answered, correct) in fig["types"].items():
            have = direct["types"].setdefault(type_id, [0, 0])
            have[0] -= answered
            have[1] -= correct
    if children and any(direct[k] for k in ("households_total", "attempts")):
        # Households registered on the region itself: shown so the children still add up.
        unassigned = _present(region, direct, names)
        unassigned["region"] = {"code": None, "name": "直属（未划分到下级）", "level": region.level + 1}
        out_children.append(unassigned)
    result = _present(region, total, names)
    result["children"] = out_children
    return result


def _present(region: Region, fig: dict, names: dict[str, str]) -> dict:
    rated = [(type_id, answered, correct) for type_id, (answered, correct) in fig["types"].items() if answered]
    rated.sort(key=lambda t: (t[2] / t[1], -t[1], t[0]))
    return {
        "region": {"code": region.code, "name": region.name, "level": region.level},
        "households_total": fig["households_total"],
        "households_visited": fig["households_visited"],
        "households_quizzed": fig["households_quizzed"],
        "members_total": fig["members_total"],
        "members_quizzed": fig["members_quizzed"],
        "coverage": round(fig["households_quizzed"] / fig["households_total"], 4)
        if fig["households_total"] else 0.0,
        "quiz_attempts": fig["attempts"],
        "average_score": round(fig["score_sum"] / fig["attempts"], 1) if fig["attempts"] else None,
        "weakest_scam_types": [
            {"id": t, "name": names.get(t, t), "correct_rate": round(c / a, 4), "answered": a}
            for t, a, c in rated[:WEAKEST_COUNT]],
        "last_activity": fig["last_activity"],
    }


def _fully_quizzed():
    """Every member has a counted quiz (a household without members: any counted quiz)."""
    return sa.or_(
        sa.and_(Household.member_count > 0, Household.members_quizzed >= Household.member_count),
        sa.and_(Household.member_count == 0, Household.quiz_count > 0))


def revisit_reasons(row: dict) -> list[str]:
    """Why a household is on the revisit queue, in the words on the officer's list."""
    reasons = []
    missing = row["member_count"] - row["members_quizzed"]
    if missing > 0:
        reasons.append(f"未答题成员 {missing} 人")
    elif row["member_count"] == 0 and not row["quizzed"]:
        reasons.append("尚未答题")
    if row["last_visit_outcome"] == "not_home":
        reasons.append("上次不在家")
    elif row["last_visit_outcome"] == "refused":
        reasons.append("拒绝")
    if row["held"]:
        reasons.append("待审核")
    return reasons


def revisit_queue(scope: Scope, region_code: str | None, *, page: int = 1,
                  per_page: int = 100) -> tuple[list[dict], int]:
    """Households where someone still has no counted quiz, in walking order (group, house
    number). Each row carries ``revisit_reasons``: 未答题成员 N 人 / 上次不在家 / 拒绝 / 待审核.
    A household drops off once every member has a counted quiz."""
    region = get_in_scope(scope, region_code)
    query = (sa.select(Household, Region.code)
             .join(Region, Region.id == Household.region_id)
             .where(Household.region_id.in_(subtree_ids_query(region.path)), sa.not_(_fully_quizzed())))
    total = db.session.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()
    rows = db.session.execute(
        query.order_by(*walking_order()).limit(per_page).offset((page - 1) * per_page)).all()
    items = rows_with_held(rows)
    for item in items:
        item["revisit_reasons"] = revisit_reasons(item)
    return items, total
