"""The JSON API under /api/v1: thin views that validate input and call services."""

from __future__ import annotations

from flask import Flask, request
from flask_smorest import Api

from ..errors import APIError, BadRequest
from .schemas import ErrorSchema

JSON_METHODS = {"POST", "PUT", "PATCH"}


class UnsupportedMediaType(APIError):
    status, code, message = 415, "unsupported_media_type", "请使用 application/json 格式提交"


def _require_json_body() -> None:
    """Refuse non-JSON and malformed JSON bodies up front, with the right status."""
    if not request.path.startswith("/api/") or request.method not in JSON_METHODS:
        return
    if request.routing_exception is not None:
        return  # let routing answer 404/405 first
    # Multipart uploads (household import) are the only other body the API takes.
    if request.mimetype == "multipart/form-data" and request.endpoint in MULTIPART_ENDPOINTS:
        return
    # Actions that read no body (logout, unlock) answer the same with one or without, of any type.
    if request.endpoint in BODYLESS_ENDPOINTS:
        return
    if not request.is_json:
        raise UnsupportedMediaType()
    if request.content_length == 0 or not request.get_data(cache=True):
        raise BadRequest("请求体为空，请提交 JSON", code="empty_body")
    if request.get_json(silent=True) is None:
        raise BadRequest("请求体不是合法的 JSON", code="malformed_json")


MULTIPART_ENDPOINTS: set[str] = {"households.import_households"}
BODYLESS_ENDPOINTS: set[str] = {"auth.logout", "auth.unlock_user"}


class QuizbotApi(Api):
    """flask-smorest, documenting our error envelope instead of its own."""

    ERROR_SCHEMA = ErrorSchema


api = QuizbotApi()


def init_api(app: Flask) -> None:
    """Attach flask-smorest and every blueprint."""
    from . import (
        auth,
        chat,
        coverage,
        health,
        households,
        question_stats,
        quiz,
        regions,
        reports,
        scam_types,
        visits,
    )

    api.init_app(app)
    if "bearerAuth" not in api.spec.components.security_schemes:
        api.spec.components.security_scheme(
            "bearerAuth", {"type": "http", "scheme": "bearer", "description": "POST /api/v1/auth/login 取得的令牌"})
    for module in (health, quiz, scam_types, chat, auth, regions, households, visits, coverage, reports,
                   question_stats):
        api.register_blueprint(module.bp)
    app.before_request(_require_json_body)
