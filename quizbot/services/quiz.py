"""The resident quiz: draw a session, score a submission once, report the stored result."""

from __future__ import annotations

import functools
import hashlib
import json
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from ..bank.taxonomy import AUDIENCES
from ..errors import APIError, Conflict, NotFound, ValidationFailed
from ..extensions import db
from ..hotlines import GENERAL_ADVICE
from ..models import QuizAnswer, QuizSession, new_token, utcnow
from . import bank as bank_service
from . import integrity, invites
from .bank import BankSnapshot, QuestionData


class BankNotLoaded(APIError):
    status, code, message = 503, "bank_not_loaded", "题库尚未导入，请联系管理员"


@dataclass
class DrawOptions:
    """What a participant asked for when starting a quiz."""

    count: int = 10
    audience: str | None = None
    scam_types: list[str] | None = None
    client_id: str | None = None
    # The server's signals for the 刷数 check (quizbot.device), whatever the client claims.
    device_key: str | None = None
    network_key: str | None = None
    invite_code: str | None = None
    member_id: int | None = None
    channel: str = "api"
    avoid_recent: int = 3
    ttl_seconds: int = 7200


def _snapshot() -> BankSnapshot:
    snap = bank_service.snapshot()
    if snap is None or not snap.questions:
        raise BankNotLoaded()
    return snap


def _core():
    """The database session's connection, inside its transaction, for plain Core statements.

    The quiz path's own statements go here rather than through ``db.session.execute``: the
    ORM's statement handling (bulk persistence, result wrapping) was a fifth of the quiz API's
    time in profiles, and these statements need none of it."""
    return db.session.connection()


# The quiz path's statements, built once: a constant statement's cache key is computed once,
# not on every request (it showed in profiles).
_SESSIONS = QuizSession.__table__
_RECENT = (sa.select(_SESSIONS.c.question_ids).where(_SESSIONS.c.client_id == sa.bindparam("client_id"))
           .order_by(_SESSIONS.c.created_at.desc()).limit(sa.bindparam("attempts")))
_INSERT_SESSION = _SESSIONS.insert()
_BY_ID = sa.select(_SESSIONS).where(_SESSIONS.c.id == sa.bindparam("session_id"))
_CLAIM = (sa.update(_SESSIONS)
          .where(_SESSIONS.c.id == sa.bindparam("session_id"), _SESSIONS.c.submitted_at.is_(None))
          .values({c: sa.bindparam(c) for c in ("submitted_at", "submission_hash", "score", "correct_count",
                                                "total", "duration_seconds", "result")}))
_INSERT_ANSWERS = QuizAnswer.__table__.insert()


def _recent_question_ids(client_id: str, attempts: int) -> set[str]:
    rows = _core().execute(_RECENT, {"client_id": client_id, "attempts": attempts}).scalars()
    return {qid for ids in rows for qid in ids}


def draw_questions(pool: list[QuestionData], count: int, rng: random.Random,
                   avoid: set[str] = frozenset()) -> list[QuestionData]:
    """Pick ``count`` questions mixing scam types and difficulties, preferring unseen ones.

    Round-robin over shuffled scam types, and within a type the difficulty that keeps the
    draw's levels balanced; recently seen questions are used only when nothing else is left.
    """
    fresh = [q for q in pool if q.id not in avoid]
    stale = [q for q in pool if q.id in avoid]
    chosen: list[QuestionData] = []
    for candidates in (fresh, stale):
        if len(chosen) >= count:
            break
        groups: dict[str, list[QuestionData]] = defaultdict(list)
        for q in candidates:
            groups[q.scam_type].append(q)
        for items in groups.values():
            rng.shuffle(items)
        order = list(groups)
        rng.shuffle(order)
        level_counts = {1: 0, 2: 0, 3: 0}
        for q in chosen:
            level_counts[q.difficulty] = level_counts.get(q.difficulty, 0) + 1
        while len(chosen) < count and order:
            for type_id in list(order):
                if len(chosen) >= count:
                    break
                items = groups[type_id]
                if not items:
                    order.remove(type_id)
                    continue
                wanted = min(level_counts, key=lambda lvl: (level_counts[lvl], rng.random()))
                pick = next((q for q in items if q.difficulty == wanted), items[0])
                items.remove(pick)
                chosen.append(pick)
                level_counts[pick.difficulty] = level_counts.get(pick.difficulty, 0) + 1
    rng.shuffle(chosen)
    return chosen


# An audience draw is mostly written for that audience: at least this share is tagged for it;
# general questions top it up only as far as the share allows.
AUDIENCE_SHARE_MIN = 0.7
# child_safety questions are written for children and their parents.
CHILD_AUDIENCES = ("student", "parent")


def suits_audience(question: QuestionData, audience: str | None) -> bool:
    """Whether a question may be drawn for ``audience`` (None = anyone, i.e. ``general``).

    A child_safety question goes to a student or parent draw, or to an audience it is tagged
    for; nobody else gets a question written for a child.
    """
    if question.scam_type != "child_safety" or audience in CHILD_AUDIENCES:
        return True
    return (audience or "general") in question.audiences


def audience_pools(pool: list[QuestionData], audience: str | None) -> tuple[list, list]:
    """The questions tagged for ``audience`` and the general ones that may top them up
    (for no audience: every suitable question, and none)."""
    pool = [q for q in pool if suits_audience(q, audience)]
    if not audience:
        return pool, []
    return ([q for q in pool if audience in q.audiences],
            [q for q in pool if audience not in q.audiences and "general" in q.audiences])


def draw_for_audience(pool: list[QuestionData], count: int, audience: str | None,
                      rng: random.Random, avoid: set[str] = frozenset(),
                      pools: tuple[list, list] | None = None) -> list[QuestionData]:
    """Up to ``count`` questions, at least ``AUDIENCE_SHARE_MIN`` of them tagged ``audience``;
    fewer than ``count`` when the pool cannot keep that share (the caller reports it).
    ``pools`` is ``audience_pools(pool, audience)`` when the caller has it already."""
    tagged, extra = pools or audience_pools(pool, audience)
    if not audience:
        return draw_questions(tagged, count, rng, avoid)
    n_tagged = min(count, len(tagged))
    # n_extra / (n_tagged + n_extra) <= 1 - share  <=>  n_extra <= n_tagged * (1 - share) / share
    room = int(n_tagged * (1 - AUDIENCE_SHARE_MIN) / AUDIENCE_SHARE_MIN + 1e-9)
    n_extra = min(count - n_tagged, len(extra), room)
    chosen = draw_questions(tagged, n_tagged, rng, avoid) + draw_questions(extra, n_extra, rng, avoid)
    rng.shuffle(chosen)
    return chosen


def create_session(options: DrawOptions) -> tuple[QuizSession, list[QuestionData]]:
    """Start a quiz attempt; the questions returned carry no answers for the client view."""
    snap = _snapshot()
    if options.audience is not None and options.audience not in AUDIENCES:
        raise ValidationFailed("受众标签无效", details={"audience": [f"未知的受众：{options.audience}"]})
    pool = snap.active
    pools = None
    if options.scam_types:
        unknown = sorted(set(options.scam_types) - set(snap.scam_types))
        if unknown:
            raise ValidationFailed(
                "诈骗类型无效", details={"scam_types": [f"未知的类型：{', '.join(unknown)}"]}
            )
        pool = [q for q in pool if q.scam_type in set(options.scam_types)]
    else:  # the common case: the whole active bank, split per audience once per snapshot
        pools = snap.memo.get(("audience_pools", options.audience))
        if pools is None:
            pools = snap.memo.setdefault(("audience_pools", options.audience),
                                         audience_pools(pool, options.audience))

    avoid = (
        _recent_question_ids(options.client_id, options.avoid_recent)
        if options.client_id and options.avoid_recent
        else set()
    )
    credit = invites.resolve_participant(options.invite_code, options.member_id)
    rng = random.Random()
    questions = draw_for_audience(pool, options.count, options.audience, rng, avoid, pools)
    if not questions:
        raise ValidationFailed("没有符合条件的题目",
                               details={"scam_types": ["所选类型和受众下没有可用题目"]})
    now = utcnow()
    values = dict(
        id=new_token(24),
        created_at=now,
        expires_at=now + timedelta(seconds=options.ttl_seconds),
        bank_version=snap.version,
        question_ids=[q.id for q in questions],
        audience=options.audience,
        channel=options.channel,
        client_id=options.client_id,
        device_key=options.device_key,
        network_key=options.network_key,
        invite_code=options.invite_code,
        household_id=credit.household_id,
        member_id=credit.member_id,
        region_id=credit.region_id,
        credited=False,
    )
    # A Core INSERT: the hottest write of the product, and the ORM's unit of work (flush, then
    # expiry on commit and a reload) showed as the largest cost in profiles. The object returned
    # is not attached to the database session; callers read its fields, nothing lazy.
    _core().execute(_INSERT_SESSION, values)
    db.session.commit()
    session = QuizSession(**values)
    return session, questions


def _snapshot_for(session: QuizSession) -> BankSnapshot:
    """The bank the attempt was drawn from when it is still cached, else the current one."""
    return bank_service.cached_snapshot(session.bank_version) or _snapshot()


def get_session(session_id: str) -> QuizSession:
    """Load an attempt by its opaque id or raise 404.

    The object is a snapshot of the row, not attached to the database session (a Core SELECT:
    the ORM's identity load was the largest single cost of a submission in profiles); every
    caller only reads it, and writes go through statements."""
    row = _core().execute(_BY_ID, {"session_id": session_id}).mappings().first() \
        if len(session_id) <= 64 else None
    if row is None:
        raise NotFound("找不到这次答题，请重新开始", code="session_not_found")
    return QuizSession(**row)


def session_questions(session: QuizSession) -> list[QuestionData]:
    """The questions of an attempt, in the order they were drawn."""
    snap = _snapshot_for(session)
    return [snap.questions[qid] for qid in session.question_ids if qid in snap.questions]


# --- what the resident sees: options shuffled per attempt ---------------------------------------
#
# The bank's keys (A, B, …) are canonical: answers, stored QuizAnswer rows and statistics use
# them. Each attempt shows the options of choice questions in its own order, derived from the
# session id (so nothing is stored and every worker agrees), relabelled A, B, … in display
# order. Judge questions keep 对/错 (T/F). Everything a client sees or sends uses display keys;
# the functions below are the only place that translates.

DISPLAY_LETTERS = "ABCDEFGHIJ"


def option_order(session_id: str, question: QuestionData) -> list[str]:
    """The canonical option keys in the order this attempt shows them."""
    keys = tuple(o["key"] for o in question.options)
    if question.type == "judge":
        return list(keys)
    return list(_shuffled_keys(session_id, question.id, keys))


@functools.lru_cache(maxsize=8192)
def _shuffled_keys(session_id: str, question_id: str, keys: tuple[str, ...]) -> tuple[str, ...]:
    # Cached: one attempt's order is needed to show, check and report its answers (three
    # times per question per request pair), and seeding a Random each time showed in profiles.
    seed = hashlib.sha256(f"{session_id}:{question_id}".encode()).digest()
    shuffled = list(keys)
    random.Random(int.from_bytes(seed[:8], "big")).shuffle(shuffled)
    return tuple(shuffled)


@dataclass(frozen=True)
class KeyMap:
    """Display key ↔ canonical key for one question of one attempt."""

    to_display: dict[str, str]
    to_canonical: dict[str, str]

    def display(self, canonical: list[str]) -> list[str]:
        return sorted(self.to_display.get(k, k) for k in canonical)

    def canonical(self, display: list[str]) -> list[str]:
        return sorted(self.to_canonical[k] for k in display)


def key_map(session_id: str, question: QuestionData) -> KeyMap:
    """How this attempt labels the question's options."""
    order = option_order(session_id, question)
    if question.type == "judge":
        shown = list(order)
    else:
        shown = list(DISPLAY_LETTERS[:len(order)])
    return KeyMap(dict(zip(order, shown, strict=True)), dict(zip(shown, order, strict=True)))


def client_question(session_id: str, question: QuestionData, *, reveal: bool = False) -> dict:
    """One question as the resident sees it in this attempt: options in display order with
    display keys. ``reveal`` adds the answer (display keys) and the explanation, for channels
    that give feedback after each question (the in-chat quiz)."""
    keys = key_map(session_id, question)
    text = {o["key"]: o["text"] for o in question.options}
    view = {
        "id": question.id, "type": question.type, "stem": question.stem,
        "options": [{"key": keys.to_display[k], "text": text[k]}
                    for k in option_order(session_id, question)],
        "scam_type": question.scam_type,
    }
    if reveal:
        view["answer"] = keys.display(question.answer)
        view["explanation"] = question.explanation
    return view


def client_questions(session: QuizSession, *, reveal: bool = False) -> list[dict]:
    """What a resident sees of the attempt's questions, as plain dicts: never the answer
    unless ``reveal``. The one client view shared by the JSON API, the in-chat quiz and the
    resident pages."""
    return [client_question(session.id, q, reveal=reveal) for q in session_questions(session)]


def display_result(session: QuizSession, result: dict | None) -> dict | None:
    """A stored (canonical) result with every answer key turned into this attempt's display keys."""
    if result is None:
        return None
    snap = _snapshot_for(session)
    shown = dict(result)
    shown["results"] = []
    for entry in result.get("results", []):
        question = snap.questions.get(entry["question_id"])
        if question is not None:
            keys = key_map(session.id, question)
            entry = {**entry, "your_answer": keys.display(entry["your_answer"]),
                     "correct_answer": keys.display(entry["correct_answer"])}
        shown["results"].append(entry)
    return shown


def client_result(session: QuizSession) -> dict | None:
    """The stored result as the resident sees it, in display keys (None before submission)."""
    return display_result(session, session.result)


def session_state(session: QuizSession, now: datetime | None = None) -> str:
    """``submitted``, ``expired`` or ``open``."""
    if session.submitted_at is not None:
        return "submitted"
    if (now or utcnow()) >= session.expires_at:
        return "expired"
    return "open"


def _normalize_answers(session: QuizSession, answers: dict, snap: BankSnapshot) -> dict[str, list[str]]:
    """Check the submitted display keys and turn them into canonical keys."""
    if not isinstance(answers, dict):
        raise ValidationFailed("answers 必须是“题目 id → 选项列表”的对象")
    errors: dict[str, list[str]] = {}
    normalized: dict[str, list[str]] = {}
    in_session = set(session.question_ids)
    for qid, chosen in answers.items():
        if qid not in in_session:
            errors[qid] = ["这道题不在本次答题中"]
            continue
        if isinstance(chosen, str):
            chosen = [chosen]
        if not isinstance(chosen, list) or not all(isinstance(k, str) for k in chosen):
            errors[qid] = ["答案必须是选项字母的列表，例如 [\"A\"]"]
            continue
        question = snap.questions[qid]
        keys = key_map(session.id, question)
        picked = sorted({k.strip().upper() for k in chosen})
        bad = [k for k in picked if k not in keys.to_canonical]
        if bad:
            errors[qid] = [f"没有这个选项：{', '.join(bad)}"]
        elif question.type in ("single", "judge") and len(picked) > 1:
            errors[qid] = ["这道题只能选一个答案"]
        else:
            normalized[qid] = keys.canonical(picked)
    if errors:
        raise ValidationFailed("部分答案无效", details={"answers": errors})
    return normalized


def _submission_hash(normalized: dict[str, list[str]]) -> str:
    data = json.dumps(normalized, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def _build_result(session: QuizSession, normalized: dict[str, list[str]],
                  snap: BankSnapshot) -> tuple[dict, list[dict]]:
    results, rows = [], []
    wrong_by_type: dict[str, int] = defaultdict(int)
    for qid in session.question_ids:
        question = snap.questions[qid]
        chosen = normalized.get(qid, [])
        correct = sorted(chosen) == sorted(question.answer)
        if not correct:
            wrong_by_type[question.scam_type] += 1
        results.append({
            "question_id": qid,
            "correct": correct,
            "your_answer": chosen,
            "correct_answer": sorted(question.answer),
            "explanation": question.explanation,
            "scam_type": question.scam_type,
        })
        rows.append({"question_id": qid, "scam_type_id": question.scam_type,
                     "chosen": chosen, "correct": correct})
    total = len(results)
    correct_count = sum(r["correct"] for r in results)
    weak = sorted(wrong_by_type, key=lambda t: (-wrong_by_type[t], t))
    weak_types = [
        {"id": t, "name": snap.scam_types.get(t, {}).get("name", t), "wrong": wrong_by_type[t]}
        for t in weak
    ]
    advice = [snap.scam_types[t]["warning"] for t in weak[:3] if t in snap.scam_types]
    advice.append(GENERAL_ADVICE)
    result = {
        "score": round(100 * correct_count / total) if total else 0,
        "correct_count": correct_count,
        "total": total,
        "results": results,
        "weak_scam_types": weak_types,
        "advice": advice,
    }
    return result, rows


def submit_answers(session_id: str, answers: dict) -> dict:
    """Score a submission once. The same submission again returns the stored result;
    both carry ``held_for_review`` and the resident's ``notice`` (see integrity.status_view).
    a different one, or one after expiry, is a conflict. Safe across workers: the
    attempt is claimed with a conditional UPDATE, so only one submission can win.

    ``answers`` maps question ids to display keys (as the attempt showed them); the result
    returned uses display keys too, while the stored result and QuizAnswer rows are canonical.
    """
    session = get_session(session_id)
    snap = _snapshot_for(session)
    normalized = _normalize_answers(session, answers, snap)
    digest = _submission_hash(normalized)
    if session.submitted_at is not None:
        return _stored_or_conflict(session, digest)
    now = utcnow()
    if now >= session.expires_at:
        raise Conflict("这次答题已过期，请重新开始", code="session_expired")

    result, rows = _build_result(session, normalized, snap)
    claimed = _core().execute(_CLAIM, {
        "session_id": session.id,
        "submitted_at": now,
        "submission_hash": digest,
        "score": result["score"],
        "correct_count": result["correct_count"],
        "total": result["total"],
        "duration_seconds": (now - session.created_at).total_seconds(),
        "result": result,
    }).rowcount
    if claimed != 1:
        # Another worker submitted first: answer as that submission decides.
        db.session.rollback()
        return _stored_or_conflict(get_session(session.id), digest)
    _core().execute(
        _INSERT_ANSWERS, [{"session_id": session.id, **row} for row in rows]
    )
    held = integrity.settle_session(session)  # credit the household/region, or hold for review
    # Built before the commit, which expires the row: reading it afterwards would cost a SELECT.
    shown = {**display_result(session, result), **integrity.status_view(held)}
    db.session.commit()
    return shown


def _stored_or_conflict(session: QuizSession, digest: str) -> dict:
    if session.submission_hash == digest:
        return {**display_result(session, session.result), **integrity.resident_status(session)}
    raise Conflict("这次答题已经提交过，不能修改答案", code="already_submitted")
