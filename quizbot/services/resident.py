"""What a resident sees of a household at the door: a short label and masked member names.

Residents are not signed in: the invite code in the QR URL is all they hold, so nothing here
returns a phone number, an address or another person's full name.
"""

from __future__ import annotations

import sqlalchemy as sa

from ..errors import NotFound
from ..extensions import db
from ..hotlines import ANTI_FRAUD_LINE, POLICE_LINE, THREE_NOS
from ..models import Household, Member, Region
from . import bank as bank_service
from . import quiz as quiz_service
from .households import find_by_invite_code

ELDERLY_BANDS = ("60-69", "70+")


class InviteNotFound(NotFound):
    """The invite code is unknown (mistyped, reprinted, or the household was removed)."""

    code, message = "invite_not_found", "这个二维码无效或已失效"


def mask_name(name: str | None) -> str:
    """王小华 → 王*华, 王华 → 王*, 欧阳小华 → 欧**华: enough to recognise, not to identify."""
    name = (name or "").strip()
    if len(name) <= 1:
        return name or "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def _place_label(region: Region) -> str:
    """The village and group names ("甲村一组"), from the region and its ancestors."""
    codes = [c for c in region.path.strip("/").split("/") if c]
    names = dict(db.session.execute(
        sa.select(Region.code, Region.name).where(Region.code.in_(codes))).all())
    # Village (level 2) and group (level 3) say where the door is; county and town add noise.
    wanted = codes[2:] if len(codes) > 2 else codes[-1:]
    return "".join(names.get(c, "") for c in wanted)


def household_landing(invite_code: str) -> dict:
    """The landing page's data for an invite code, or ``InviteNotFound``.

    ``members`` lists masked names only; ``elderly`` says whether to draw the elderly quiz.
    """
    household = find_by_invite_code(invite_code)
    if household is None:
        raise InviteNotFound()
    region = db.session.get(Region, household.region_id)
    members = db.session.execute(
        sa.select(Member).where(Member.household_id == household.id).order_by(Member.id)).scalars()
    place = _place_label(region) if region else ""
    door = _door((household.house_number or "").strip())
    return {
        "invite_code": household.invite_code,
        "label": " · ".join(p for p in (place, door) if p),
        "members": [
            {"id": m.id, "name": mask_name(m.name),
             "elderly": "elderly" in (m.tags or []) or m.age_band in ELDERLY_BANDS,
             "quizzed": m.quizzed_at is not None}
            for m in members
        ],
    }


def _door(number: str) -> str:
    if not number:
        return ""
    return number if number.endswith(("号", "户")) else f"第{number}户" if number.isdigit() else number


def member_audience(invite_code: str, member_id: int | None) -> str | None:
    """``elderly`` when the chosen member is tagged elderly or 60+, else None (general draw)."""
    if member_id is None:
        return None
    row = db.session.execute(
        sa.select(Member.tags, Member.age_band).join(Household, Household.id == Member.household_id)
        .where(Member.id == member_id, Household.invite_code == invite_code)).first()
    if row is None:
        return None
    tags, band = row
    return "elderly" if "elderly" in (tags or []) or band in ELDERLY_BANDS else None


def region_of_invite(invite_code: str | None) -> int | None:
    """The region a /check visit opened with a household invite code belongs to, if any."""
    household = find_by_invite_code(invite_code) if invite_code else None
    return household.region_id if household else None


SHARE_TEXT = (
    "我刚做了一份反诈小测试，提醒家里人：陌生来电让转账、要验证码、说“安全账户”的，都是诈骗。"
    f"记住“{THREE_NOS}”，拿不准打 {ANTI_FRAUD_LINE}，被骗了马上打 {POLICE_LINE}。"
)


def quiz_review(session) -> dict:
    """Everything the result page shows: score, each question with the right answer and why,
    the warnings for the types answered wrong, and whether the result awaits a check."""
    result = quiz_service.client_result(session) or {}
    questions = {q["id"]: q for q in quiz_service.client_questions(session)}
    items = []
    for number, entry in enumerate(result.get("results", []), 1):
        question = questions.get(entry["question_id"])
        if question is None:  # retired since: the stored result still counts
            continue
        chosen, correct = set(entry["your_answer"]), set(entry["correct_answer"])
        items.append({
            "number": number, "type": question["type"], "stem": question["stem"],
            "correct": entry["correct"],
            "explanation": entry["explanation"],
            "options": [{**o, "chosen": o["key"] in chosen, "right": o["key"] in correct}
                        for o in question["options"]],
            "unanswered": not chosen,
        })
    snap = bank_service.snapshot()
    kinds = snap.scam_types if snap else {}
    weak = []
    for t in result.get("weak_scam_types", [])[:3]:
        entry = kinds.get(t["id"], {})
        weak.append({"name": t["name"], "warning": entry.get("warning", ""),
                     "advice": list(entry.get("advice", []))[:2]})
    return {
        "score": result.get("score", 0), "correct_count": result.get("correct_count", 0),
        "total": result.get("total", 0), "questions": items, "weak": weak,
        "held": session.region_id is not None and not session.credited,
        "share_text": SHARE_TEXT,
    }


RISK_WORDS = {
    "high": ("很可能是诈骗", "请马上停下，不要转账、不要透露验证码。"),
    "medium": ("有诈骗风险", "先别照对方说的做，通过官方电话核实后再说。"),
    "low": ("暂未发现明显的诈骗特征", "这不代表一定没问题：涉及转账、验证码时仍要多核实。"),
}


def verdict_view(text: str, verdict) -> dict:
    """The chatbot verdict shaped for a phone screen, with the user's own words highlighted."""
    phrases = sorted({p for p in verdict.evidence if p and p in text}, key=len, reverse=True)
    title, subtitle = RISK_WORDS.get(verdict.risk, RISK_WORDS["low"])
    return {
        "risk": verdict.risk, "title": title, "subtitle": subtitle,
        "emergency": verdict.emergency,
        "types": [{"name": m.name} for m in verdict.scam_types],
        "segments": highlight(text, phrases),
        "reply_lines": [line for line in verdict.reply.split("\n") if line.strip()],
    }


def highlight(text: str, phrases: list[str]) -> list[tuple[str, bool]]:
    """Split ``text`` into (piece, is_evidence) runs; longer phrases win where they overlap."""
    marked = [False] * len(text)
    for phrase in phrases:
        start = text.find(phrase)
        while start != -1:
            end = start + len(phrase)
            if not any(marked[start:end]):
                marked[start:end] = [True] * len(phrase)
            start = text.find(phrase, end)
    runs: list[tuple[str, bool]] = []
    for ch, flag in zip(text, marked, strict=True):
        if runs and runs[-1][1] == flag:
            runs[-1] = (runs[-1][0] + ch, flag)
        else:
            runs.append((ch, flag))
    return runs
