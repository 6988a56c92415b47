"""The one gate every request passes before any view: input the databases cannot hold is refused.

NUL bytes, lone surrogates and control characters anywhere in the path, the query string, a
JSON body or a urlencoded form, integers beyond the databases' INTEGER range in a JSON body or
a path, non-finite numbers and JSON nested too deeply to parse are answered here with the
envelope (404 for a path, 400 for characters, 422 for numbers), so no route has to remember them
and none reaches the database with them. Multipart uploads are not read here (their size limit
is raised by the import view); the import cleans its cells itself (``quizbot.text.clean``).
"""

from __future__ import annotations

import math

from flask import Flask, request

from .errors import APIError, NotFound, ValidationFailed
from .text import int_in_range, problem

MAX_DEPTH = 64


class InvalidCharacters(APIError):
    status, code, message = 400, "invalid_characters", "提交的内容包含无法处理的字符"


class MalformedJSON(APIError):
    status, code, message = 400, "malformed_json", "请求体不是合法的 JSON"


def _walk_json(value, where: str) -> tuple[str, str, type[APIError]] | None:
    """The first unacceptable scalar in a parsed JSON document, iteratively (no recursion)."""
    stack = [(value, where, 0)]
    while stack:
        item, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            return path, "嵌套层级太深", MalformedJSON
        if isinstance(item, str):
            reason = problem(item)
            if reason:
                return path, reason, InvalidCharacters
        elif isinstance(item, bool):
            continue
        elif isinstance(item, int):
            if not int_in_range(item):
                return path, "数字超出允许范围", ValidationFailed
        elif isinstance(item, float):
            if not math.isfinite(item):
                return path, "不能是 NaN 或无穷大", ValidationFailed
        elif isinstance(item, dict):
            for key, child in item.items():
                reason = problem(key)
                if reason:
                    return f"{path}.{key!r}", reason, InvalidCharacters
                stack.append((child, f"{path}.{key}", depth + 1))
        elif isinstance(item, list):
            stack.extend((child, f"{path}[{i}]", depth + 1) for i, child in enumerate(item))
    return None


def _refuse(field: str, reason: str, error: type[APIError]) -> None:
    raise error(details={field: [reason]})


def check_request() -> None:
    """Refuse input no database or writer can hold, before routing's views see it."""
    reason = problem(request.path)
    if reason or any(problem(v) for v in (request.view_args or {}).values() if isinstance(v, str)):
        raise NotFound()
    for value in (request.view_args or {}).values():
        if isinstance(value, int) and not isinstance(value, bool) and not int_in_range(value):
            raise NotFound()
    for key, value in request.args.items(multi=True):
        reason = problem(key) or problem(value)
        if reason:
            _refuse(key if not problem(key) else "query", reason, InvalidCharacters)
    if request.mimetype == "application/x-www-form-urlencoded":
        for key, value in request.form.items(multi=True):
            reason = problem(key) or problem(value)
            if reason:
                _refuse(key if not problem(key) else "form", reason, InvalidCharacters)
    if request.is_json and request.method in ("POST", "PUT", "PATCH", "DELETE"):
        try:
            body = request.get_json(silent=True)
        except RecursionError:
            raise MalformedJSON(details={"json": ["嵌套层级太深"]}) from None
        if body is not None:
            found = _walk_json(body, "json")
            if found:
                field, reason, error = found
                _refuse(field, reason, error)


def init_app(app: Flask) -> None:
    """Register the gate first, so it runs before every other hook."""
    app.before_request_funcs.setdefault(None, []).insert(0, check_request)
