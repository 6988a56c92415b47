"""Typed models, one module per area; import them from here."""

from .people import ROLES, Region, User
from .quiz import BankVersion, Question, QuizAnswer, QuizSession, ScamType
from .types import UTCDateTime, new_token, utcnow

__all__ = [
    "ROLES",
    "BankVersion",
    "Question",
    "QuizAnswer",
    "QuizSession",
    "Region",
    "ScamType",
    "UTCDateTime",
    "new_token",
    "User",
    "utcnow",
]
