"""One error envelope for every failure: ``{"error": {"code", "message", "details"}}``."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app, jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class APIError(Exception):
    """A failure the client can act on; views and services raise it, handlers render it."""

    status = 400
    code = "bad_request"
    message = "请求有误"

    def __init__(self, message: str | None = None, *, code: str | None = None,
                 details: Any = None, status: int | None = None) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message
        self.code = code or self.code
        self.details = details
        if status is not None:
            self.status = status


class BadRequest(APIError):
    status, code, message = 400, "bad_request", "请求有误"


class Unauthorized(APIError):
    status, code, message = 401, "unauthorized", "请先登录"


class Forbidden(APIError):
    status, code, message = 403, "forbidden", "没有权限执行此操作"


class NotFound(APIError):
    status, code, message = 404, "not_found", "找不到请求的内容"


class Conflict(APIError):
    status, code, message = 409, "conflict", "请求与当前状态冲突"


class ValidationFailed(APIError):
    status, code, message = 422, "validation_error", "提交的数据不符合要求"


# Readable Chinese for the statuses Werkzeug raises on its own (routing, size, limits).
HTTP_MESSAGES = {
    400: ("bad_request", "请求有误"),
    401: ("unauthorized", "请先登录"),
    403: ("forbidden", "没有权限执行此操作"),
    404: ("not_found", "找不到请求的地址或内容"),
    405: ("method_not_allowed", "该地址不支持这种请求方法"),
    409: ("conflict", "请求与当前状态冲突"),
    413: ("payload_too_large", "提交的内容太大"),
    415: ("unsupported_media_type", "请使用 application/json 格式提交"),
    422: ("validation_error", "提交的数据不符合要求"),
    429: ("rate_limited", "请求太频繁，请稍后再试"),
    500: ("internal_error", "服务器开小差了，请稍后再试"),
    503: ("unavailable", "服务暂时不可用，请稍后再试"),
}


def error_response(status: int, code: str, message: str, details: Any = None):
    """Build the envelope response; the one place its shape is written."""
    body = {"error": {"code": code, "message": message, "details": details}}
    return jsonify(body), status


def _respond(status: int, code: str, message: str, details: Any = None):
    """A friendly HTML page where the request came from a page, else the envelope."""
    render_page = current_app.extensions.get("page_error_renderer")
    page = render_page(status, code, message) if render_page is not None else None
    if page is not None:
        return page
    response, status = error_response(status, code, message, details)
    response.status_code = status
    return response


def _details_from_http_exception(exc: HTTPException) -> Any:
    # webargs/flask-smorest put field errors in exc.data["messages"].
    data = getattr(exc, "data", None)
    if isinstance(data, dict) and "messages" in data:
        messages = data["messages"]
        # Drop the location level ("json") so clients see {"field": [...]}.
        if isinstance(messages, dict) and len(messages) == 1:
            (only,) = messages.values()
            if isinstance(only, dict):
                return only
        return messages
    return None


def register_error_handlers(app: Flask) -> None:
    """Turn APIError, HTTPException and anything else into the envelope, on the app itself."""

    @app.errorhandler(APIError)
    def handle_api_error(exc: APIError):
        return _respond(exc.status, exc.code, exc.message, exc.details)

    @app.errorhandler(HTTPException)
    def handle_http_exception(exc: HTTPException):
        status = exc.code or 500
        code, message = HTTP_MESSAGES.get(status, ("http_error", exc.name))
        response = _respond(status, code, message, _details_from_http_exception(exc))
        valid_methods = getattr(exc, "valid_methods", None)
        if status == 405 and valid_methods:
            response.headers["Allow"] = ", ".join(valid_methods)
        return response

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        log.exception("unhandled error")
        from .extensions import db

        try:
            db.session.rollback()
        except Exception:  # pragma: no cover - the database itself may be what failed
            log.exception("rollback failed")
        code, message = HTTP_MESSAGES[500]
        return _respond(500, code, message)
