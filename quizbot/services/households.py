"""The household registry: look households up in a jurisdiction, list them in walking order,
and present them (and their members) as plain data with phones masked.

Importing sheets is ``household_import``; invite and QR codes are ``invites``; counting quizzes
and visits is ``credit``. The names below that come from those modules are re-exported for the
callers that know them from here.
"""

from __future__ import annotations

import sqlalchemy as sa

from ..errors import Conflict, NotFound
from ..extensions import db
from ..models import Household, Member, Region, RegionCounter
from ..text import escape_like, phone_query
from . import integrity
from .household_import import ImportReport, import_households
from .invites import find_by_invite_code, invite_url, new_invite_code, qr_image
from .regions import Scope, subtree_ids_query
from .regions import get_in_scope as region_in_scope

__all__ = [  # the re-exported names too: callers use them from here
    "ImportReport", "find_by_invite_code", "get_by_id_in_scope", "get_in_scope", "household_row",
    "import_households", "invite_url", "mask_phone", "member_row", "members_of", "new_invite_code",
    "qr_image", "search", "walking_order",
]

HOUSEHOLD_NOT_FOUND = "找不到该住户"
HOUSEHOLD_AMBIGUOUS = "辖区内有多户使用这个户编号，请同时指明区域编码"


def mask_phone(phone: str | None) -> str | None:
    """138****1234: the only way a phone leaves the registry unless full data is audited."""
    if not phone:
        return phone
    digits = phone.strip()
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}****{digits[-4:]}"


# --- lookups -------------------------------------------------------------------------------

def get_in_scope(scope: Scope, code: str, region_code: str | None = None) -> tuple[Household, Region]:
    """A household by its code if it lies in the scope; otherwise 404 as if it did not exist.

    Codes are unique per region, so a scope over several regions may hold one code twice; then
    ``region_code`` (the household's own region) picks one, and without it the answer is a 409
    that lists the regions in the scope holding the code (never any outside it)."""
    rows = []
    if isinstance(code, str) and len(code) <= 64:
        query = (sa.select(Household, Region).join(Region, Region.id == Household.region_id)
                 .where(Household.code == code))
        if region_code:
            query = query.where(Region.code == region_code)
        rows = [row for row in db.session.execute(query.order_by(Region.path)).all()
                if scope.covers(row[1].path)]
    if not rows:
        raise NotFound(HOUSEHOLD_NOT_FOUND, code="household_not_found")
    if len(rows) > 1:
        raise Conflict(HOUSEHOLD_AMBIGUOUS, code="household_ambiguous",
                       details={"region": [r[1].code for r in rows]})
    return rows[0][0], rows[0][1]


def get_by_id_in_scope(scope: Scope, household_id: int) -> tuple[Household, Region]:
    """Like ``get_in_scope`` but by numeric id."""
    row = db.session.execute(
        sa.select(Household, Region).join(Region, Region.id == Household.region_id)
        .where(Household.id == household_id)).first()
    if row is None or not scope.covers(row[1].path):
        raise NotFound(HOUSEHOLD_NOT_FOUND, code="household_not_found")
    return row[0], row[1]


def members_of(household_id: int) -> list[Member]:
    """The members of a household, by name."""
    return list(db.session.execute(
        sa.select(Member).where(Member.household_id == household_id).order_by(Member.id)).scalars())


def walking_order(region_path=Region.path) -> tuple:
    """The order officers walk a village in: group by group, then house numbers naturally
    (2号 before 10号: shorter numbers first, then by text), then 户编号. Shared by /households
    and /revisits."""
    return (region_path, sa.func.length(Household.house_number), Household.house_number,
            Household.code)


def _digits(column):
    """SQL: the phone column without the separators people type (both databases)."""
    for separator in ("-", " ", "+", "(", ")"):
        column = sa.func.replace(column, separator, "")
    return column


def search_condition(q: str):
    """Code, address or head name contain ``q`` (its % and _ taken literally); the phone only
    when ``q`` is a whole number, compared exactly, so masked digits cannot be walked back."""
    like = f"%{escape_like(q)}%"
    conditions = [Household.code.like(like, escape="\\"), Household.address.like(like, escape="\\"),
                  Household.head_name.like(like, escape="\\")]
    phone = phone_query(q)
    if phone:
        conditions.append(_digits(Household.phone).in_([phone, "86" + phone]))
    return sa.or_(*conditions)


def search(scope: Scope, region_code: str | None, *, q: str | None = None,
           status: str | None = None, page: int = 1, per_page: int = 50) -> tuple[list[dict], int]:
    """Households of a region subtree in walking order; ``q`` matches code, address, head, phone.

    Each row says whether something of the household is held for review (``held``) and why.
    """
    region = region_in_scope(scope, region_code)
    query = (sa.select(Household, Region.code.label("region_code"))
             .join(Region, Region.id == Household.region_id)
             .where(Household.region_id.in_(subtree_ids_query(region.path))))
    if q:
        query = query.where(search_condition(q))
    if status == "quizzed":
        query = query.where(Household.quiz_count > 0)
    elif status == "not_quizzed":
        query = query.where(Household.quiz_count == 0)
    elif status == "visited":
        query = query.where(Household.visit_count > 0)
    elif status == "not_visited":
        query = query.where(Household.visit_count == 0)
    elif status == "held":
        query = query.where(Household.id.in_(integrity.held_households_query()))
    if not q and not status:
        big = _walking_page(region, page, per_page)
        if big is not None:
            return rows_with_held(big[0]), big[1]
    total = db.session.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()
    rows = db.session.execute(
        query.order_by(*walking_order()).limit(per_page).offset((page - 1) * per_page)).all()
    return rows_with_held(rows), total


# Above this many households an unfiltered list pages region by region (see _walking_page).
LARGE_LIST = 5_000


def _walking_page(region: Region, page: int, per_page: int) -> tuple[list, int] | None:
    """One page of a large unfiltered list in walking order without sorting the whole subtree.

    The coverage counters say how many households each region holds itself (its subtree total
    minus its children's), so the page's offset is found by walking the regions in path order
    and only the one or two regions the page falls in are read, each sorted on its own. Cost
    grows with the regions in view, not with the households: page 1 and the last page cost the
    same. Returns None for small lists, where one sorted query is cheaper.
    """
    tree = db.session.execute(
        sa.select(Region.id, Region.code, Region.parent_id,
                  sa.func.coalesce(RegionCounter.households_total, 0))
        .outerjoin(RegionCounter, RegionCounter.region_id == Region.id)
        .where(Region.path.startswith(region.path, autoescape=True)).order_by(Region.path)).all()
    subtree_total = {rid: n for rid, _code, _parent, n in tree}
    total = subtree_total[region.id]
    if total <= LARGE_LIST:
        return None
    own = dict(subtree_total)
    for rid, _code, parent, n in tree:
        if rid != region.id and parent in own:
            own[parent] -= n
    skip, want, rows = (page - 1) * per_page, per_page, []
    for rid, code, _parent, _n in tree:
        held_here = own[rid]
        if skip >= held_here:
            skip -= held_here
            continue
        chunk = db.session.execute(
            sa.select(Household).where(Household.region_id == rid)
            .order_by(*walking_order()[1:]).offset(skip).limit(want)).scalars().all()
        rows += [(h, code) for h in chunk]
        want, skip = want - len(chunk), 0
        if want <= 0:
            break
    return rows, total


def rows_with_held(rows) -> list[dict]:
    """``household_row`` for (household, region code) pairs, with ``held`` filled in one query."""
    held = integrity.held_by_household([h.id for h, _code in rows])
    return [household_row(h, code, held=held.get(h.id, [])) for h, code in rows]


def household_row(h: Household, region_code: str, *, full: bool = False,
                  held: list[str] | None = None, invite: bool = False) -> dict:
    """A household as plain data; the phone is masked unless ``full``. ``held`` lists the reason
    codes of its quizzes or visits waiting for review (looked up when not given). The invite
    code is there only with ``invite``: it credits quizzes to the household, so it is shown
    where an officer needs it (the household page, the QR sheet), never in lists."""
    if held is None:
        held = integrity.held_by_household([h.id]).get(h.id, [])
    return {
        "id": h.id, "code": h.code, "region": region_code, "address": h.address,
        "house_number": h.house_number, "head_name": h.head_name,
        "phone": h.phone if full else mask_phone(h.phone),
        "member_count": h.member_count, "members_quizzed": h.members_quizzed,
        "visited": h.visit_count > 0, "quizzed": h.quiz_count > 0, "quiz_count": h.quiz_count,
        "average_score": round(h.score_sum / h.quiz_count, 1) if h.quiz_count else None,
        "last_visit_at": h.last_visit_at, "last_visit_outcome": h.last_visit_outcome,
        "last_quiz_at": h.last_quiz_at,
        "held": bool(held), "held_reasons": integrity.reason_texts(held),
        **({"invite_code": h.invite_code} if invite else {}),
    }


def member_row(m: Member, *, full: bool = False) -> dict:
    """A member as plain data; the phone is masked unless ``full``."""
    return {"id": m.id, "name": m.name, "sex": m.sex, "age_band": m.age_band, "tags": m.tags or [],
            "phone": m.phone if full else mask_phone(m.phone), "quizzed": m.quizzed_at is not None,
            "quizzed_at": m.quizzed_at}
