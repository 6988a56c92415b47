"""Per-region coverage counters, kept exact on every write, and their verification.

Each region has one ``RegionCounter`` row with the totals of its whole subtree and one
``RegionTypeCounter`` row per scam type answered there. The roll-up reads the rows of a region
and of its direct children, so its cost grows with the regions on screen, never with the
households or attempts under them.

Writers say what changed in their own region (``add``, ``add_answers``, ``saw``,
``household_moved``, ``subtree_moved``), in the transaction that makes the change. The deltas
are kept on the session and written just before it commits, still inside that transaction:

- the region and each of its ancestors get the delta (one row per level);
- one ``INSERT … ON CONFLICT DO UPDATE SET n = region_counter.n + excluded.n`` per table and
  transaction, so increments from any number of workers and instances are atomic;
- rows go in region-id order, so every transaction locks counter rows in the same order (no
  deadlocks), and a busy county's row is locked only between that statement and the commit.

A rollback drops the deltas with the rest of the transaction. ``verify`` recomputes every
counter from the raw rows (households, members, counted visits, credited attempts and their
answers) and reports, or repairs, each difference.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import (
    COUNTER_FIELDS,
    TIME_FIELDS,
    Household,
    IntegrityFlag,
    Member,
    QuizAnswer,
    QuizSession,
    Region,
    RegionCounter,
    RegionTypeCounter,
    Visit,
)

INFO_KEY = "coverage_counters"
CHUNK = 500


@dataclass
class _Pending:
    """What the current transaction changed, by the region where it happened."""

    counts: dict[int, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    answers: dict[tuple[int, str], list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    times: dict[int, dict[str, datetime]] = field(default_factory=lambda: defaultdict(dict))
    moves: list[tuple[int, int | None, int | None]] = field(default_factory=list)
    recheck: list[tuple[int, int | None]] = field(default_factory=list)


def _pending() -> _Pending:
    info = db.session.info
    if INFO_KEY not in info:
        info[INFO_KEY] = _Pending()
    return info[INFO_KEY]


# --- what writers call -----------------------------------------------------------------------

def add(region_id: int, **deltas: int) -> None:
    """Add ``field=n`` to the counters of ``region_id`` and of all its ancestors (at commit)."""
    row = _pending().counts[region_id]
    for name, n in deltas.items():
        if name not in COUNTER_FIELDS:
            raise ValueError(f"unknown counter {name}")
        row[name] += n


def add_answers(region_id: int, answers: Iterable[tuple[str, bool]]) -> None:
    """Count (scam type, correct) answers of a credited attempt in ``region_id``'s subtree totals."""
    pending = _pending().answers
    for type_id, correct in answers:
        counts = pending[(region_id, type_id)]
        counts[0] += 1
        counts[1] += 1 if correct else 0


def saw(region_id: int, *, visit_at: datetime | None = None, quiz_at: datetime | None = None) -> None:
    """Activity in ``region_id`` at this time: its and its ancestors' latest times move on."""
    times = _pending().times[region_id]
    for name, when in (("last_visit_at", visit_at), ("last_quiz_at", quiz_at)):
        if when is not None:
            times[name] = later(times.get(name), when)


def household_moved(figures: dict, old_region_id: int, new_region_id: int) -> None:
    """A household went from one region to another (re-import). ``figures`` is the locked row's
    ``member_count``, ``members_quizzed``, ``quiz_count``, ``visit_count``, ``last_visit_at``."""
    if old_region_id == new_region_id:
        return
    counts = {"households_total": 1, "members_total": figures["member_count"],
              "members_quizzed": figures["members_quizzed"],
              "households_quizzed": 1 if figures["quiz_count"] else 0,
              "households_visited": 1 if figures["visit_count"] else 0}
    add(old_region_id, **{k: -v for k, v in counts.items()})
    add(new_region_id, **counts)
    if figures.get("last_visit_at") is not None:
        saw(new_region_id, visit_at=figures["last_visit_at"])
        _pending().recheck.append((old_region_id, new_region_id))


def subtree_moved(region_id: int, old_parent_id: int | None, new_parent_id: int | None) -> None:
    """A region (with its subtree) moved under another parent: its totals leave the old
    ancestors and join the new ones. Call in the transaction that rewrites the paths."""
    if old_parent_id != new_parent_id:
        _pending().moves.append((region_id, old_parent_id, new_parent_id))


def later(a: datetime | None, b: datetime | None) -> datetime | None:
    """The later of two optional times (None when both are None)."""
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


# --- written at commit -------------------------------------------------------------------------

@sa.event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    pending = session.info.pop(INFO_KEY, None)
    if pending is not None:
        _apply(session, pending)


@sa.event.listens_for(Session, "after_transaction_end")
def _drop_pending(session: Session, transaction) -> None:
    if transaction.parent is None:  # the outermost transaction: committed or rolled back
        session.info.pop(INFO_KEY, None)


def _chains(session: Session, region_ids: Iterable[int]) -> dict[int, list[int]]:
    """Region id → the ids of its ancestors and itself, root first (two indexed queries)."""
    ids = sorted({r for r in region_ids if r is not None})
    paths: dict[int, str] = {}
    for start in range(0, len(ids), CHUNK):
        paths.update(session.execute(sa.select(Region.id, Region.path)
                                     .where(Region.id.in_(ids[start:start + CHUNK]))).all())
    codes = sorted({c for p in paths.values() for c in p.strip("/").split("/")})
    by_code: dict[str, int] = {}
    for start in range(0, len(codes), CHUNK):
        by_code.update(session.execute(sa.select(Region.code, Region.id)
                                       .where(Region.code.in_(codes[start:start + CHUNK]))).all())
    return {rid: [by_code[c] for c in path.strip("/").split("/")] for rid, path in paths.items()}


def _apply(session: Session, p: _Pending) -> None:
    leaves = set(p.counts) | {rid for rid, _t in p.answers} | set(p.times)
    moved_parents = {x for _r, old, new in p.moves for x in (old, new)}
    rechecked = {x for old, new in p.recheck for x in (old, new)}
    chains = _chains(session, leaves | moved_parents | rechecked)
    counts: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTER_FIELDS, 0))
    times: dict[int, dict[str, datetime]] = defaultdict(dict)
    answers: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
    for leaf, deltas in p.counts.items():
        for rid in chains.get(leaf, ()):
            for name, n in deltas.items():
                counts[rid][name] += n
    for leaf, seen in p.times.items():
        for rid in chains.get(leaf, ()):
            for name, when in seen.items():
                times[rid][name] = later(times[rid].get(name), when)
        for name, when in seen.items():
            times[leaf]["own_" + name] = later(times[leaf].get("own_" + name), when)
    for (leaf, type_id), (answered, correct) in p.answers.items():
        for rid in chains.get(leaf, ()):
            answers[(rid, type_id)][0] += answered
            answers[(rid, type_id)][1] += correct
    recheck: set[int] = set()
    for region_id, old_parent, new_parent in p.moves:
        _move(session, region_id, chains.get(old_parent, []), chains.get(new_parent, []),
              counts, times, answers)
        recheck |= set(chains.get(old_parent, [])) - set(chains.get(new_parent, []))
    for old, new in p.recheck:
        recheck |= set(chains.get(old, [])) - set(chains.get(new, []))

    rows = []
    for rid in sorted(set(counts) | set(times)):
        row = {"region_id": rid, **counts.get(rid, dict.fromkeys(COUNTER_FIELDS, 0)),
               **{name: times.get(rid, {}).get(name) for name in TIME_FIELDS}}
        if any(row[name] for name in COUNTER_FIELDS) or any(row[name] for name in TIME_FIELDS):
            rows.append(row)
    type_rows = [{"region_id": rid, "scam_type_id": type_id, "answered": a, "correct": c}
                 for (rid, type_id), (a, c) in sorted(answers.items()) if a or c]
    _upsert(session, RegionCounter, rows, add=True)
    _upsert(session, RegionTypeCounter, type_rows, add=True)
    if recheck:
        _recompute_times(session, sorted(recheck))


def _move(session: Session, region_id: int, old_chain: list[int], new_chain: list[int],
          counts: dict, times: dict, answers: dict) -> None:
    """The moved region's totals leave the ancestors it no longer has and join the new ones."""
    row = session.execute(sa.select(RegionCounter).where(RegionCounter.region_id == region_id)
                          .with_for_update()).scalar_one_or_none()
    types = session.execute(sa.select(RegionTypeCounter.scam_type_id, RegionTypeCounter.answered,
                                      RegionTypeCounter.correct)
                            .where(RegionTypeCounter.region_id == region_id)).all()
    leaving = [r for r in old_chain if r not in new_chain]
    joining = [r for r in new_chain if r not in old_chain]
    for sign, chain in ((-1, leaving), (1, joining)):
        for rid in chain:
            if row is not None:
                for name in COUNTER_FIELDS:
                    counts[rid][name] += sign * getattr(row, name)
            for type_id, answered, correct in types:
                answers[(rid, type_id)][0] += sign * answered
                answers[(rid, type_id)][1] += sign * correct
    if row is not None:
        for rid in joining:
            for name in ("last_visit_at", "last_quiz_at"):
                times[rid][name] = later(times[rid].get(name), getattr(row, name))


def _dialect_insert(session: Session, model):
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model)


def _later_sql(stored, new):
    return sa.case((new.is_(None), stored), (stored.is_(None), new), (stored < new, new), else_=stored)


def _upsert(session: Session, model, rows: list[dict], *, add: bool) -> None:
    """Insert rows, or on conflict add to (``add``) or overwrite the stored values."""
    if not rows:
        return
    table = model.__table__
    keys = [c.name for c in table.primary_key.columns]
    for start in range(0, len(rows), CHUNK):
        stmt = _dialect_insert(session, model).values(rows[start:start + CHUNK])
        new = stmt.excluded
        values = {}
        for column in table.columns:
            if column.name in keys:
                continue
            if not add:
                values[column.name] = new[column.name]
            elif column.name in TIME_FIELDS:
                values[column.name] = _later_sql(table.c[column.name], new[column.name])
            else:
                values[column.name] = table.c[column.name] + new[column.name]
        session.execute(stmt.on_conflict_do_update(index_elements=keys, set_=values))


def _recompute_times(session: Session, region_ids: list[int]) -> None:
    """Latest visit and quiz of these regions from the raw rows (after something left them)."""
    for rid in region_ids:
        path = session.execute(sa.select(Region.path).where(Region.id == rid)).scalar_one()
        subtree = sa.select(Region.id).where(Region.path.startswith(path, autoescape=True))
        visit = sa.select(sa.func.max(Household.last_visit_at))
        quiz = sa.select(sa.func.max(QuizSession.submitted_at)).where(QuizSession.credited.is_(True))
        values = {
            "last_visit_at": visit.where(Household.region_id.in_(subtree)).scalar_subquery(),
            "own_last_visit_at": visit.where(Household.region_id == rid).scalar_subquery(),
            "last_quiz_at": quiz.where(QuizSession.region_id.in_(subtree)).scalar_subquery(),
            "own_last_quiz_at": quiz.where(QuizSession.region_id == rid).scalar_subquery(),
        }
        session.execute(sa.update(RegionCounter).where(RegionCounter.region_id == rid).values(**values)
                        .execution_options(synchronize_session=False))


# --- reading ----------------------------------------------------------------------------------

def read(region_ids: list[int]) -> tuple[dict[int, dict], dict[int, dict[str, list[int]]]]:
    """The counters of these regions (zeros for a region without a row) and their per-type
    answered/correct, in two queries."""
    figures = {rid: {**dict.fromkeys(COUNTER_FIELDS, 0), **dict.fromkeys(TIME_FIELDS)}
               for rid in region_ids}
    types: dict[int, dict[str, list[int]]] = {rid: {} for rid in region_ids}
    for start in range(0, len(region_ids), CHUNK):
        part = region_ids[start:start + CHUNK]
        for row in db.session.execute(sa.select(RegionCounter).where(RegionCounter.region_id.in_(part))).scalars():
            figures[row.region_id].update({name: getattr(row, name) for name in (*COUNTER_FIELDS, *TIME_FIELDS)})
        for rid, type_id, answered, correct in db.session.execute(
                sa.select(RegionTypeCounter.region_id, RegionTypeCounter.scam_type_id,
                          RegionTypeCounter.answered, RegionTypeCounter.correct)
                .where(RegionTypeCounter.region_id.in_(part))):
            types[rid][type_id] = [answered, correct]
    return figures, types


# --- verify -----------------------------------------------------------------------------------

@dataclass
class Difference:
    """One counter whose stored value is not what the raw rows say."""

    region: str
    counter: str
    stored: object
    expected: object


def expected(region: Region | None = None) -> tuple[dict[int, dict], dict[tuple[int, str], list[int]]]:
    """Every counter of ``region``'s subtree (None: the whole tree) recomputed from the raw rows:
    households, members, counted visits (no pending or rejected flag), credited attempts and
    their answers. A handful of grouped queries, then sums up the tree in Python."""
    query = sa.select(Region.id, Region.code, Region.path)
    if region is not None:
        query = query.where(Region.path.startswith(region.path, autoescape=True))
    nodes = db.session.execute(query).all()
    by_code = {code: rid for rid, code, _path in nodes}

    def scoped(column):
        if region is None:
            return sa.true()
        return column.in_(sa.select(Region.id).where(Region.path.startswith(region.path, autoescape=True)))

    own: dict[int, dict] = {rid: {**dict.fromkeys(COUNTER_FIELDS, 0), **dict.fromkeys(TIME_FIELDS)}
                            for rid, _c, _p in nodes}
    for rid, n in db.session.execute(
            sa.select(Household.region_id, sa.func.count()).where(scoped(Household.region_id))
            .group_by(Household.region_id)):
        own[rid]["households_total"] = n
    for rid, n, quizzed in db.session.execute(
            sa.select(Household.region_id, sa.func.count(Member.id), sa.func.count(Member.quizzed_at))
            .join(Household, Household.id == Member.household_id).where(scoped(Household.region_id))
            .group_by(Household.region_id)):
        own[rid].update(members_total=n, members_quizzed=quizzed)
    not_counted = sa.exists().where(IntegrityFlag.visit_id == Visit.id, IntegrityFlag.status != "accepted")
    for rid, n, last in db.session.execute(
            sa.select(Household.region_id, sa.func.count(sa.distinct(Visit.household_id)),
                      sa.func.max(Visit.visited_at))
            .join(Household, Household.id == Visit.household_id)
            .where(scoped(Household.region_id), ~not_counted).group_by(Household.region_id)):
        own[rid].update(households_visited=n, last_visit_at=last)
    credited = QuizSession.credited.is_(True)
    for rid, n in db.session.execute(
            sa.select(Household.region_id, sa.func.count(sa.distinct(QuizSession.household_id)))
            .join(Household, Household.id == QuizSession.household_id)
            .where(credited, scoped(Household.region_id)).group_by(Household.region_id)):
        own[rid]["households_quizzed"] = n
    for rid, n, score, last in db.session.execute(
            sa.select(QuizSession.region_id, sa.func.count(), sa.func.coalesce(sa.func.sum(QuizSession.score), 0),
                      sa.func.max(QuizSession.submitted_at))
            .where(credited, scoped(QuizSession.region_id)).group_by(QuizSession.region_id)):
        own[rid].update(attempts=n, score_sum=int(score), last_quiz_at=last)
    own_types: dict[tuple[int, str], list[int]] = {}
    for rid, type_id, n, correct in db.session.execute(
            sa.select(QuizSession.region_id, QuizAnswer.scam_type_id, sa.func.count(),
                      sa.func.sum(sa.case((QuizAnswer.correct.is_(True), 1), else_=0)))
            .join(QuizSession, QuizSession.id == QuizAnswer.session_id)
            .where(credited, scoped(QuizSession.region_id))
            .group_by(QuizSession.region_id, QuizAnswer.scam_type_id)):
        own_types[(rid, type_id)] = [n, int(correct or 0)]

    inside = set(own)
    chain = {rid: [by_code[c] for c in path.strip("/").split("/") if by_code.get(c) in inside]
             for rid, _code, path in nodes}
    tree = {rid: {**dict.fromkeys(COUNTER_FIELDS, 0), **dict.fromkeys(TIME_FIELDS)} for rid in own}
    for rid, fig in own.items():
        tree[rid]["own_last_visit_at"] = fig["last_visit_at"]
        tree[rid]["own_last_quiz_at"] = fig["last_quiz_at"]
        for anc in chain[rid]:
            target = tree[anc]
            for name in COUNTER_FIELDS:
                target[name] += fig[name]
            for name in ("last_visit_at", "last_quiz_at"):
                target[name] = later(target[name], fig[name])
    types: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
    for (rid, type_id), (n, correct) in own_types.items():
        for anc in chain.get(rid, ()):
            types[(anc, type_id)][0] += n
            types[(anc, type_id)][1] += correct
    return tree, dict(types)


def verify(region: Region | None = None, *, fix: bool = False) -> tuple[int, list[Difference]]:
    """Compare the stored counters of ``region``'s subtree (None: everything) with the raw rows.

    Returns (regions checked, differences). ``fix`` overwrites each differing row with the
    recomputed values and commits. Run ``fix`` when no imports are running: a write that
    commits between the recount and the repair would be overwritten (a second ``verify``
    shows it).
    """
    tree, types = expected(region)
    ids = sorted(tree)
    stored, stored_types = read(ids)
    codes = dict(db.session.execute(sa.select(Region.id, Region.code).where(Region.id.in_(ids))).all()) \
        if len(ids) <= CHUNK else dict(db.session.execute(sa.select(Region.id, Region.code)).all())
    wanted_types: dict[int, dict[str, list[int]]] = defaultdict(dict)
    for (rid, type_id), counts in types.items():
        wanted_types[rid][type_id] = counts
    differences: list[Difference] = []
    fix_rows, fix_types = [], []
    for rid in ids:
        want, have = tree[rid], stored[rid]
        wrong = [name for name in (*COUNTER_FIELDS, *TIME_FIELDS) if want[name] != have[name]]
        differences += [Difference(codes[rid], name, have[name], want[name]) for name in wrong]
        if wrong:
            fix_rows.append({"region_id": rid, **{name: want[name] for name in (*COUNTER_FIELDS, *TIME_FIELDS)}})
        for type_id in sorted(set(stored_types[rid]) | set(wanted_types.get(rid, ()))):
            want_t = wanted_types.get(rid, {}).get(type_id, [0, 0])
            have_t = stored_types[rid].get(type_id, [0, 0])
            if list(want_t) != list(have_t):
                differences.append(Difference(codes[rid], f"type:{type_id}", tuple(have_t), tuple(want_t)))
                fix_types.append({"region_id": rid, "scam_type_id": type_id,
                                  "answered": want_t[0], "correct": want_t[1]})
    if fix and differences:
        _upsert(db.session(), RegionCounter, fix_rows, add=False)
        _upsert(db.session(), RegionTypeCounter, fix_types, add=False)
        db.session.commit()
    return len(ids), differences
