"""Import the question bank into the database and serve it from a per-process cache."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from functools import cached_property

import sqlalchemy as sa

from ..bank import Bank
from ..extensions import db
from ..models import BankVersion, Question, ScamType, utcnow


@dataclass(frozen=True)
class QuestionData:
    """A question as the quiz service uses it (detached from the session)."""

    id: str
    type: str
    stem: str
    options: list[dict[str, str]]
    answer: list[str]
    explanation: str
    scam_type: str
    difficulty: int
    audiences: list[str]
    active: bool


@dataclass
class ImportReport:
    """What an import changed."""

    version: str
    scam_types: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    retired: int = 0
    reactivated: int = 0
    new_version: bool = False


@dataclass
class BankSnapshot:
    """Every question of one bank version, plus the knowledge entries, cached per process."""

    version: str
    questions: dict[str, QuestionData]
    scam_types: dict[str, dict] = field(default_factory=dict)
    # Values derived from this snapshot by other services (e.g. the draw pool per audience),
    # computed once per process and version instead of once per request.
    memo: dict = field(default_factory=dict, repr=False, compare=False)

    @cached_property
    def active(self) -> list[QuestionData]:
        """The questions a new quiz may draw (computed once per snapshot, not per request)."""
        return [q for q in self.questions.values() if q.active]


def import_bank(bank: Bank) -> ImportReport:
    """Upsert knowledge entries and questions by id; retire questions no longer in the files.

    Idempotent: importing the same files twice changes nothing and records no new version.
    """
    report = ImportReport(version=bank.version)
    existing_types = {t.id: t for t in db.session.execute(sa.select(ScamType)).scalars()}
    for entry in bank.scam_types:
        row = existing_types.get(entry.id) or ScamType(id=entry.id)
        row.kind = entry.kind
        row.name = entry.name
        row.summary = entry.summary
        row.warning = entry.warning
        row.aliases = list(entry.aliases)
        row.red_flags = [{"phrase": f.phrase, "weight": f.weight} for f in entry.red_flags]
        row.advice = list(entry.advice)
        row.sources = list(entry.sources)
        row.position = entry.position
        row.active = True
        db.session.add(row)
        report.scam_types += 1
    seen_types = {e.id for e in bank.scam_types}
    for type_id, row in existing_types.items():
        if type_id not in seen_types:
            row.active = False
    db.session.flush()

    existing = {q.id: q for q in db.session.execute(sa.select(Question)).scalars()}
    seen = set()
    for entry in bank.questions:
        seen.add(entry.id)
        digest = entry.content_hash()
        row = existing.get(entry.id)
        if row is None:
            row = Question(id=entry.id)
            report.created += 1
        elif row.content_hash == digest and row.active:
            report.unchanged += 1
            continue
        elif row.content_hash == digest:
            report.reactivated += 1
        else:
            report.updated += 1
        row.type = entry.type
        row.stem = entry.stem
        row.options = entry.options
        row.answer = entry.answer
        row.explanation = entry.explanation
        row.scam_type_id = entry.scam_type
        row.difficulty = entry.difficulty
        row.audiences = entry.audiences
        row.source = entry.source
        row.content_hash = digest
        row.active = True
        db.session.add(row)
    for qid, row in existing.items():
        if qid not in seen and row.active:
            row.active = False
            report.retired += 1

    known = db.session.execute(
        sa.select(BankVersion).where(BankVersion.content_hash == bank.version)
    ).scalar_one_or_none()
    if known is None:
        db.session.add(
            BankVersion(
                content_hash=bank.version,
                question_count=len(bank.questions),
                scam_type_count=len(bank.scam_types),
            )
        )
        report.new_version = True
    else:
        # Re-importing an older version makes it current again.
        known.imported_at = utcnow()
    db.session.commit()
    clear_cache()
    return report


def scam_type_dict(row: ScamType) -> dict:
    """A knowledge entry as plain data (safe to cache and share between threads)."""
    return {
        "id": row.id, "kind": row.kind, "name": row.name, "aliases": list(row.aliases or []),
        "summary": row.summary, "warning": row.warning, "advice": list(row.advice or []),
        "red_flags": [f["phrase"] for f in row.red_flags or []],
        "sources": list(row.sources or []), "active": row.active,
    }


# How long a process trusts its last look at the current bank version. Under load this saves
# a query per request; an import is seen by every worker and instance within this time.
VERSION_TTL_SECONDS = 2.0
_version_seen: tuple[float, str | None] = (0.0, None)


def current_version(max_age: float | None = None) -> str | None:
    """The content hash of the bank now in force, or None before the first import.

    With ``max_age`` a value read less than that many seconds ago is reused.
    """
    global _version_seen
    seen_at, seen = _version_seen
    if max_age is not None and seen is not None and time.monotonic() - seen_at < max_age:
        return seen
    version = db.session.execute(
        sa.select(BankVersion.content_hash)
        .order_by(BankVersion.imported_at.desc(), BankVersion.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    _version_seen = (time.monotonic(), version)
    return version


_cache: dict[str, BankSnapshot] = {}
_cache_lock = threading.Lock()


def cached_snapshot(version: str) -> BankSnapshot | None:
    """The snapshot of ``version`` if this process has it cached (no query)."""
    return _cache.get(version)


def snapshot() -> BankSnapshot | None:
    """The questions of the current bank version, cached per process.

    Only the current version can be loaded: the question table holds the newest content, so
    labelling it with an older version would be wrong (``cached_snapshot`` serves older ones
    while they are still in memory).
    """
    version = current_version(max_age=VERSION_TTL_SECONDS)
    if version is None:
        return None
    cached = _cache.get(version)
    if cached is not None:
        return cached
    rows = db.session.execute(sa.select(Question)).scalars().all()
    questions = {
        r.id: QuestionData(
            id=r.id, type=r.type, stem=r.stem, options=list(r.options), answer=list(r.answer),
            explanation=r.explanation, scam_type=r.scam_type_id, difficulty=r.difficulty,
            audiences=list(r.audiences or []), active=r.active,
        )
        for r in rows
    }
    types = {
        t.id: scam_type_dict(t)
        for t in db.session.execute(sa.select(ScamType).order_by(ScamType.position)).scalars()
    }
    snap = BankSnapshot(version=version, questions=questions, scam_types=types)
    with _cache_lock:
        _cache.clear()  # only the newest version is worth keeping
        _cache[version] = snap
    return snap


def clear_cache() -> None:
    """Forget cached snapshots and the last version seen (tests and imports call this)."""
    global _version_seen
    with _cache_lock:
        _cache.clear()
        _version_seen = (0.0, None)
