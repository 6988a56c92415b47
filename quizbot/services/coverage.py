"""Coverage roll-ups ("不漏一户、不漏一人") and the revisit queue (with why each household is on it).

A roll-up runs a fixed number of grouped queries whatever the size of the tree: the regions
of the subtree, household counters grouped by region, quiz stats grouped by region, scam-type
names. Leaf figures are then summed up the tree in Python, so every level adds up exactly.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from ..extensions import db
from ..models import Household, Region, RegionScoreStat, RegionTypeStat, ScamType
from .households import rows_with_held, walking_order
from .regions import Scope, get_in_scope, subtree_ids_query

WEAKEST_COUNT = 3
SUMS = ("households_total", "households_visited", "households_quizzed", "members_total",
        "members_quizzed", "attempts", "score_sum")


def _empty() -> dict:
    return {key: 0 for key in SUMS} | {"last_activity": None, "types": {}}


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def _add(total: dict, part: dict) -> None:
    for key in SUMS:
        total[key] += part[key]
    total["last_activity"] = _later(total["last_activity"], part["last_activity"])
    for type_id, (answered, correct) in part["types"].items():
        have = total["types"].setdefault(type_id, [0, 0])
        have[0] += answered
        have[1] += correct


def leaf_figures(region: Region) -> tuple[list[Region], dict[int, dict]]:
    """The subtree and the figures of each region itself (not yet rolled up)."""
    nodes = list(db.session.execute(
        sa.select(Region).where(Region.path.startswith(region.path, autoescape=True))).scalars())
    ids = subtree_ids_query(region.path)
    own: dict[int, dict] = {n.id: _empty() for n in nodes}
    for row in db.session.execute(
            sa.select(Household.region_id, sa.func.count(),
                      sa.func.sum(sa.case((Household.visit_count > 0, 1), else_=0)),
                      sa.func.sum(sa.case((Household.quiz_count > 0, 1), else_=0)),
                      sa.func.sum(Household.member_count), sa.func.sum(Household.members_quizzed),
                      sa.func.max(Household.last_visit_at))
            .where(Household.region_id.in_(ids)).group_by(Household.region_id)):
        fig = own[row[0]]
        fig.update(households_total=row[1], households_visited=int(row[2] or 0),
                   households_quizzed=int(row[3] or 0), members_total=int(row[4] or 0),
                   members_quizzed=int(row[5] or 0), last_activity=row[6])
    for rid, attempts, score_sum, last_quiz in db.session.execute(
            sa.select(RegionScoreStat.region_id, RegionScoreStat.attempts, RegionScoreStat.score_sum,
                      RegionScoreStat.last_quiz_at).where(RegionScoreStat.region_id.in_(ids))):
        fig = own[rid]
        fig["attempts"], fig["score_sum"] = attempts, score_sum
        fig["last_activity"] = _later(fig["last_activity"], last_quiz)
    for rid, type_id, answered, correct in db.session.execute(
            sa.select(RegionTypeStat.region_id, RegionTypeStat.scam_type_id, RegionTypeStat.answered,
                      RegionTypeStat.correct).where(RegionTypeStat.region_id.in_(ids))):
        own[rid]["types"][type_id] = [answered, correct]
    return nodes, own


def rollup(scope: Scope, region_code: str | None) -> dict:
    """The coverage of a region and of each direct child (parent totals = sum of children)."""
    region = get_in_scope(scope, region_code)
    nodes, own = leaf_figures(region)
    by_id = {n.id: n for n in nodes}
    children = sorted((n for n in nodes if n.parent_id == region.id), key=lambda n: n.code)
    child_totals = {c.id: _empty() for c in children}
    direct = _empty()
    depth = region.path.count("/")  # segments of the child in a descendant path
    child_by_code = {c.code: c.id for c in children}
    for node in nodes:
        if node.id == region.id:
            _add(direct, own[node.id])
            continue
        child_code = node.path.split("/")[depth]
        _add(child_totals[child_by_code[child_code]], own[node.id])
    names = dict(db.session.execute(sa.select(ScamType.id, ScamType.name)).all())
    total = _empty()
    _add(total, direct)
    out_children = []
    for child in children:
        _add(total, child_totals[child.id])
        out_children.append(_present(child, child_totals[child.id], names))
    if children and any(direct[k] for k in ("households_total", "attempts")):
        # Households registered on the region itself: shown so the children still add up.
        unassigned = _present(by_id[region.id], direct, names)
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
