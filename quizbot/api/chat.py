"""POST /api/v1/chat: “is this a scam?” in the resident's own words."""

from __future__ import annotations

from flask import current_app, request
from flask_smorest import Blueprint
from marshmallow import fields

from ..errors import ValidationFailed
from ..extensions import limiter
from ..services import chat as chat_service
from .schemas import BaseSchema, Schema, envelope, length

bp = Blueprint("chat", __name__, url_prefix="/api/v1", description="防骗咨询机器人")

MAX_TEXT = 5000


class ChatRequestSchema(BaseSchema):
    text = fields.String(required=True, validate=length(1, MAX_TEXT),
                         metadata={"description": f"居民描述的情况，最多 {MAX_TEXT} 字（只分析前 2000 字）"})
    user_id = fields.String(validate=length(1, 64), metadata={"description": "匿名用户标识，用于限流和统计"})
    invite_code = fields.String(
        validate=length(1, 32),
        metadata={"description": "住户邀请码（/check 页面从二维码带来）：咨询计入该户所在区域的统计；"
                                 "未知的邀请码不影响回答，只是不计入区域"})


class TypeMatchSchema(Schema):
    id = fields.String()
    name = fields.String()
    score = fields.Float()
    evidence = fields.List(fields.String())


class VerdictSchema(Schema):
    risk = fields.String(metadata={"description": "high / medium / low"})
    risk_score = fields.Integer()
    scam_types = fields.List(fields.Nested(TypeMatchSchema))
    reply = fields.String()
    intent = fields.String()
    truncated = fields.Boolean()
    signals = fields.List(fields.String())
    emergency = fields.Boolean(metadata={"description": "钱已转出：页面应先显示紧急止付步骤"})
    evidence = fields.List(fields.String(), metadata={"description": "原文中的可疑说法（按原样，各一次）"})
    advice = fields.List(fields.String(), metadata={"description": "按顺序的行动建议：类型步骤在前，96110/110 在后"})


def _user_key() -> str:
    body = request.get_json(silent=True)
    user = body.get("user_id") if isinstance(body, dict) else None
    return f"user:{user}" if isinstance(user, str) and user else f"ip:{request.remote_addr}"


def _user_limit() -> str:
    return current_app.config["CHAT_RATE_LIMIT"]


def _ip_limit() -> str:
    return current_app.config["CHAT_IP_RATE_LIMIT"]


@bp.route("/chat", methods=["POST"])
@limiter.limit(_ip_limit)
@limiter.limit(_user_limit, key_func=_user_key)
@bp.arguments(ChatRequestSchema)
@bp.response(200, envelope(VerdictSchema))
def post_chat(payload: dict):
    """Judge a message: risk, scam types with evidence, and a reply to read."""
    if not payload["text"].strip():
        raise ValidationFailed("请描述您遇到的情况", details={"text": ["内容不能为空白"]})
    config = current_app.config
    verdict = chat_service.ask(
        payload["text"],
        bank_dir=config["QUESTION_BANK_DIR"],
        secret=config["SECRET_KEY"] or "",
        user_id=payload.get("user_id"),
        channel="api",
        log_text=config["CHAT_LOG_TEXT"],
        invite_code=payload.get("invite_code"),
    )
    return {"data": verdict.to_dict()}
