"""Helpers shared by the page blueprints: rendering with the reader's text size, error pages."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import make_response, render_template, request

log = logging.getLogger(__name__)

BIG_TEXT_COOKIE = "qb_big"
ONE_YEAR = 365 * 24 * 3600

# What a resident should do next, by error code; anything else gets the generic hint.
ERROR_HINTS = {
    "invite_not_found": "请向上门的民警或网格员要一张新的二维码；也可以先做一份通用的反诈小测试。",
    "session_not_found": "这次答题找不到了，请重新开始一份小测试。",
    "session_expired": "答题时间已过，请重新开始一份小测试。",
    "csrf_failed": "请返回上一页，刷新后再试一次。",
    "rate_limited": "您操作得太快了，请等一分钟再试。",
    "not_found": "您打开的地址不存在，请检查链接是否完整。",
    "region_not_found": "这个区域不存在，或不在您的辖区内。",
    "household_not_found": "这户不存在，或不在您的辖区内。",
    "role_forbidden": "您的角色不能进行这项操作，请联系所长或县级管理员。",
    "token_invalid": "登录已超时，请重新登录。",
    "unauthorized": "请先登录。",
}


def big_text() -> bool:
    """Whether the reader switched on 大字 mode (kept in a cookie for a year)."""
    return request.cookies.get(BIG_TEXT_COOKIE) == "1"


def render_page(template: str, status: int = 200, **context):
    """Render a page template with the reader's display preferences."""
    return make_response(render_template(template, big_text=big_text(), **context), status)


def render_error_page(status: int, code: str, message: str):
    """A friendly error page for page routes; None lets the JSON envelope answer instead."""
    if request.blueprint not in _page_blueprints() and not _looks_like_page_path():
        return None
    try:
        template = "admin/error.html" if request.blueprint == "admin" else "error.html"
        return render_page(template, status, error_status=status, code=code, message=message,
                           hint=ERROR_HINTS.get(code, "请稍后再试；如需帮助可拨打 96110 反诈专线。"))
    except Exception:  # the page itself failed: the plain envelope still answers
        log.exception("error page failed")
        return None


def _page_blueprints() -> frozenset[str]:
    from . import PAGE_BLUEPRINTS

    return PAGE_BLUEPRINTS


def _looks_like_page_path() -> bool:
    # Unrouted URLs have no blueprint: a browser asking for HTML outside the API gets a page.
    path = request.path
    if path.startswith(("/api/", "/wechat", "/wecom")):
        return False
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "text/html"


def safe_next(target: str | None, default: str = "/quiz") -> str:
    """Only same-site paths may be redirect targets (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target:
        return default
    return target


def register_filters(app) -> None:
    """Template helpers: Shanghai times, 门牌号 labels, visit outcomes, pager links."""
    from urllib.parse import urlencode

    from .. import hotlines
    from ..services.console import OUTCOME_TEXT
    from ..services.qrsheet import door_label
    from ..services.reports import SHANGHAI

    @app.template_filter("cn_time")
    def cn_time(value) -> str:
        if value is None:
            return ""
        local = value.astimezone(SHANGHAI)
        return f"{local.month}月{local.day}日 {local:%H:%M}"

    app.add_template_filter(door_label, "door")
    app.add_template_global(hotlines, "hotlines")
    app.add_template_global(lambda code: OUTCOME_TEXT.get(code, code or ""), "outcome_text")

    @app.template_global()
    def query_args(**changes) -> str:
        args = request.args.to_dict()
        args.update({k: str(v) for k, v in changes.items()})
        return urlencode(args)
