"""Typed models, one module per area; import them from here."""

from .chat import ChatLog
from .coverage import COUNTER_FIELDS, TIME_FIELDS, RegionCounter, RegionTypeCounter
from .jobs import ImportJob
from .people import (
    ROLES,
    AuditLog,
    AuthToken,
    CampaignCode,
    Household,
    IntegrityFlag,
    Member,
    Region,
    User,
    Visit,
)
from .quiz import BankVersion, Question, QuizAnswer, QuizSession, ScamType
from .security import LoginThrottle, RateLimitCounter
from .types import UTCDateTime, new_token, utcnow
from .wechat import WechatBinding, WechatMessage, WechatNonce, WechatQuizState

__all__ = [
    "COUNTER_FIELDS",
    "TIME_FIELDS",
    "RegionCounter",
    "RegionTypeCounter",
    "ROLES",
    "AuditLog",
    "AuthToken",
    "CampaignCode",
    "Household",
    "ImportJob",
    "IntegrityFlag",
    "Member",
    "Visit",
    "BankVersion",
    "ChatLog",
    "Question",
    "QuizAnswer",
    "QuizSession",
    "Region",
    "ScamType",
    "LoginThrottle",
    "RateLimitCounter",
    "UTCDateTime",
    "new_token",
    "User",
    "utcnow",
    "WechatBinding",
    "WechatMessage",
    "WechatNonce",
    "WechatQuizState",
]
