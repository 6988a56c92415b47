"""Ask the chatbot: run the engine, log the verdict (not the text, unless configured)."""

from __future__ import annotations

import hashlib
import hmac

from ..chatbot import Verdict, get_engine
from ..extensions import db
from ..models import ChatLog


def user_hash(user_id: str | None, secret: str) -> str | None:
    """A keyed hash of the user id: lets reports count repeat askers without storing who."""
    if not user_id:
        return None
    return hmac.new(secret.encode(), user_id.encode("utf-8"), hashlib.sha256).hexdigest()


def ask(text: str, *, bank_dir: str, secret: str, user_id: str | None = None,
        channel: str = "api", log_text: bool = False, region_id: int | None = None) -> Verdict:
    """Classify ``text`` and record the chat; returns the verdict with the reply."""
    verdict = get_engine(bank_dir).analyze(text)
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
            text=text if log_text else None,
        )
    )
    db.session.commit()
    return verdict
