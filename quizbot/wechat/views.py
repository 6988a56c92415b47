"""The two callback views: read the request, size-check the body, hand over to the flow."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, request

from . import callback

log = logging.getLogger(__name__)

bp = Blueprint("wechat", __name__)


@bp.route("/wechat", methods=["GET", "POST"])
def wechat_callback() -> Response:
    """Official Account callback (plain, compatible or safe mode)."""
    return _handle("wechat")


@bp.route("/wecom", methods=["GET", "POST"])
def wecom_callback() -> Response:
    """WeCom app callback (always encrypted)."""
    return _handle("wecom")


def _handle(channel: str) -> Response:
    runtime = callback.get_runtime(current_app._get_current_object())
    endpoint = runtime.endpoints.get(channel)
    if endpoint is None:
        return _plain(404, "not found")
    args = request.args.to_dict()
    if request.method == "GET":
        result = callback.verify_url(runtime, endpoint, args)
    else:
        body = _read_body(int(current_app.config["WECHAT_MAX_BODY_BYTES"]))
        if body is None:
            log.warning("%s callback refused (413): body too large", channel)
            return _plain(413, "payload too large")
        result = callback.handle_post(runtime, endpoint, args, body)
    return Response(result.body, status=result.status, content_type=result.content_type)


def _read_body(limit: int) -> bytes | None:
    """The body, or None when it is over ``limit`` (declared or actually sent)."""
    if request.content_length is not None and request.content_length > limit:
        return None
    data = request.stream.read(limit + 1)
    return None if len(data) > limit else data


def _plain(status: int, text: str) -> Response:
    return Response(text, status=status, content_type=callback.TEXT)
