"""CSRF tokens for page forms and the security headers every response carries.

The token lives in Flask's signed session cookie and is compared in constant time; JSON API
routes are not checked (they use bearer tokens, not cookies).
"""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, Response, current_app, request, session

from ..errors import APIError

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# script-src 'self' only: page data travels in data- attributes, never in inline scripts.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; "
    "frame-ancestors 'none'"
)


class CSRFFailed(APIError):
    status, code, message = 400, "csrf_failed", "页面已过期，请返回上一页刷新后再提交"


def csrf_token() -> str:
    """The session's CSRF token, created on first use."""
    token = session.get("_csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        session["_csrf"] = token
    return token


def check_csrf() -> None:
    """Refuse a state-changing page request whose token is missing or wrong."""
    if request.method not in UNSAFE_METHODS:
        return
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    expected = session.get("_csrf") or ""
    if not expected or not hmac.compare_digest(str(sent), str(expected)):
        raise CSRFFailed()


# JSON that is the same for everyone and carries nothing personal may be cached; all other JSON
# (households, tokens, quiz sessions, verdicts on a resident's own words) is never stored.
CACHEABLE_JSON = frozenset({"/api/v1/openapi.json", "/api/v1/scam-types"})


def _cors(response: Response) -> None:
    """Cross-origin reads only for the origins CORS_ORIGINS lists (none by default)."""
    origin = request.headers.get("Origin")
    allowed = current_app.config.get("CORS_ORIGINS") or ()
    if not origin or origin not in allowed or not request.path.startswith("/api/"):
        return
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
    response.headers["Access-Control-Allow-Methods"] = "GET, POST, PATCH, DELETE"
    response.headers["Access-Control-Max-Age"] = "600"
    response.vary.add("Origin")


def _preflight() -> Response | None:
    """Answer a CORS preflight from an allowed origin before any guard asks for a token."""
    if (request.method == "OPTIONS" and request.headers.get("Access-Control-Request-Method")
            and request.headers.get("Origin") in (current_app.config.get("CORS_ORIGINS") or ())):
        return Response(status=204)
    return None


def _set_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype == "application/json" and request.path not in CACHEABLE_JSON:
        headers.setdefault("Cache-Control", "no-store")
    if request.path.startswith(("/wechat", "/wecom")):
        headers.setdefault("Cache-Control", "no-store")
    _cors(response)
    if response.mimetype == "text/html":
        # Swagger UI's page is flask-smorest's own (inline script, configurable asset URL):
        # it may not be framed, but its scripts cannot follow the pages' policy.
        csp = "frame-ancestors 'none'" if request.path.startswith("/api/v1/docs") else PAGE_CSP
        headers.setdefault("Content-Security-Policy", csp)
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    """Expose ``csrf_token()`` to templates and add the headers to every response.

    Cookie flags (HttpOnly, SameSite=Lax, Secure behind https) are set in ``config.py``."""
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.after_request(_set_headers)
    app.before_request(_preflight)
