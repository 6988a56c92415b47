"""Resident quiz: start a session, submit answers, look a session up."""

from __future__ import annotations

from flask import current_app, jsonify
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from .. import device
from ..extensions import limiter
from ..services import integrity as integrity_service
from ..services import quiz as quiz_service
from .schemas import (
    CreateSessionSchema,
    SessionCreatedSchema,
    SessionStateSchema,
    SubmitAnswersSchema,
    SubmittedResultSchema,
    envelope,
)

bp = Blueprint("quiz", __name__, url_prefix="/api/v1/quiz", description="居民答题")


class DrawMetaSchema(Schema):
    requested = fields.Integer(metadata={"description": "要求的题数"})
    drawn = fields.Integer(metadata={"description": "实际抽到的题数"})
    message = fields.String(metadata={"description": "题目不够时的说明"})


# The create answer carries ``meta`` (how many questions the filters allowed) beside ``data``.
SESSION_CREATED = Schema.from_dict({"data": fields.Nested(SessionCreatedSchema),
                                    "meta": fields.Nested(DrawMetaSchema)}, name="SessionCreatedEnvelope")


@bp.route("/sessions", methods=["POST"])
@limiter.limit(lambda: current_app.config["QUIZ_SESSION_RATE_LIMIT"])
@bp.arguments(CreateSessionSchema)
@bp.response(201, SESSION_CREATED)
def create_session(payload: dict):
    """Draw a quiz: mixed scam types and difficulties, suited to the audience."""
    participant = payload.get("participant") or {}
    config = current_app.config
    signals = device.signals()
    options = quiz_service.DrawOptions(
        count=payload["count"],
        audience=payload.get("audience"),
        scam_types=payload.get("scam_types"),
        # A client that names no id is known by IP + user agent, cookie or not, so that its
        # first attempt (before it had our cookie) counts with the rest.
        client_id=participant.get("client_id") or signals.address_key,
        device_key=signals.device_key,
        network_key=signals.network_key,
        invite_code=participant.get("invite_code"),
        member_id=participant.get("member_id"),
        avoid_recent=config["QUIZ_AVOID_RECENT_ATTEMPTS"],
        ttl_seconds=config["QUIZ_SESSION_TTL_SECONDS"],
    )
    session, questions = quiz_service.create_session(options)
    # jsonify directly: this is the hot path, and the body is already plain data (the schema
    # above still documents it). ``meta`` says how many questions the filters allowed.
    meta = {"requested": options.count, "drawn": len(questions)}
    if len(questions) < options.count:
        meta["message"] = f"符合条件的题目不够，本次只抽到 {len(questions)} 道（要求 {options.count} 道）"
    return jsonify({"data": {"session_id": session.id, "expires_at": session.expires_at.isoformat(),
                             "questions": quiz_service.client_questions(session)},
                    "meta": meta}), 201


@bp.route("/sessions/<string:session_id>/answers", methods=["POST"])
@bp.arguments(SubmitAnswersSchema)
@bp.response(200, envelope(SubmittedResultSchema))
def submit_answers(payload: dict, session_id: str):
    """Score the answers once; sending the same answers again returns the stored result.

    ``held_for_review`` (with a ``notice`` for the resident) says the quiz counts for the
    household only after a check."""
    return jsonify({"data": quiz_service.submit_answers(session_id, payload["answers"])})


@bp.route("/sessions/<string:session_id>")
@bp.response(200, envelope(SessionStateSchema))
def get_session(session_id: str):
    """The state of a session and, once submitted, its result."""
    session = quiz_service.get_session(session_id)
    return {"data": {
        "session_id": session.id,
        "state": quiz_service.session_state(session),
        "created_at": session.created_at,
        "expires_at": session.expires_at,
        "submitted_at": session.submitted_at,
        "questions": quiz_service.client_questions(session),
        "result": quiz_service.client_result(session),
        **integrity_service.resident_status(session),
    }}
