"""Ask the chatbot: run the engine, log the verdict (not the text, unless configured)."""

from __future__ import annotations

import hashlib
import hmac

from ..chatbot import Verdict, get_engine
from ..extensions import db
from ..models import ChatLog
from ..text import mask_personal
from .households import find_by_invite_code


def user_hash(user_id: str | None, secret: str) -> str | None:
    """A keyed hash of the user id: lets reports count repeat askers without storing who."""
    if not user_id:
        return None
    return hmac.new(secret.encode(), user_id.encode("utf-8"), hashlib.sha256).hexdigest()


def region_for_invite_code(code: str | None) -> int | None:
    """The region of the household holding ``code`` (None when absent or unknown).

    An unknown code never blocks an answer: a resident checking a scam gets the verdict
    anyway, the chat just counts for no region.
    """
    if not code:
        return None
    household = find_by_invite_code(code)
    return household.region_id if household is not None else None


def ask(text: str, *, bank_dir: str, secret: str, user_id: str | None = None,
        channel: str = "api", log_text: bool = False, region_id: int | None = None,
        invite_code: str | None = None) -> Verdict:
    """Classify ``text`` and record the chat; returns the verdict with the reply.

    ``invite_code`` (from the /check page opened with a household's code) or ``region_id``
    (a bound WeChat user's household) records where the question came from, so the region's
    ``/reports/summary`` counts it.
    """
    verdict = get_engine(bank_dir).analyze(text)
    if region_id is None:
        region_id = region_for_invite_code(invite_code)
    record(text, verdict, secret=secret, user_id=user_id, channel=channel, log_text=log_text,
           region_id=region_id)
    return verdict


def record(text: str, verdict: Verdict, *, secret: str, user_id: str | None, channel: str,
           log_text: bool = False, region_id: int | None = None) -> None:
    """Log one chat and its verdict (the text only when ``log_text``)."""
    db.session.add(
        ChatLog(
            channel=channel,
            user_hash=user_hash(user_id, secret),
            region_id=region_id,
            intent=verdict.intent,
            risk=verdict.risk,
            risk_score=verdict.risk_score,
            top_scam_type=verdict.scam_types[0].id if verdict.scam_types else None,
            scam_types=[m.id for m in verdict.scam_types],
            text_length=len(text),
            text=mask_personal(text) if log_text else None,
        )
    )
    db.session.commit()
