"""Officer sign-in (bearer tokens) and accounts; `officer_blueprint` guards every officer route."""

from __future__ import annotations

from flask import current_app, g, request
from flask_smorest import Blueprint

from ..errors import Unauthorized
from ..extensions import limiter
from ..services import auth as auth_service
from ..services.regions import Scope, scope_for
from .officer_schemas import (
    LoginSchema,
    PasswordChangeSchema,
    TokenSchema,
    UserCreateSchema,
    UserSchema,
    UserUpdateSchema,
)
from .schemas import envelope

# Endpoints of officer blueprints that answer without a token.
PUBLIC_ENDPOINTS = {"auth.login"}


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _authenticate() -> None:
    if request.endpoint in PUBLIC_ENDPOINTS or request.routing_exception is not None:
        return
    user = auth_service.authenticate(_bearer())
    g.officer = user
    g.scope = scope_for(user)


class OfficerBlueprint(Blueprint):
    """Documents every route as needing the bearer token (except the public ones)."""

    def _store_endpoint_docs(self, endpoint, obj, parameters, tags, **options):
        super()._store_endpoint_docs(endpoint, obj, parameters, tags, **options)
        if f"{self.name}.{endpoint}" in PUBLIC_ENDPOINTS:
            return
        for method, doc in self._docs[endpoint].items():
            if method != "parameters":
                doc.setdefault("manual_doc", {})["security"] = [{"bearerAuth": []}]


def officer_blueprint(name: str, import_name: str, url_prefix: str, description: str) -> Blueprint:
    """A blueprint whose every route needs a valid bearer token (401 envelope otherwise)."""
    bp = OfficerBlueprint(name, import_name, url_prefix=url_prefix, description=description)
    bp.before_request(_authenticate)
    return bp


def current_scope() -> Scope:
    """The signed-in user's jurisdiction (set by the blueprint guard)."""
    scope = g.get("scope")
    if scope is None:  # pragma: no cover - the guard always runs first
        raise Unauthorized()
    return scope


USER_ENVELOPE = envelope(UserSchema)

bp = officer_blueprint("auth", __name__, "/api/v1/auth", "登录与账号")


@bp.route("/login", methods=["POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"])
@bp.arguments(LoginSchema)
@bp.response(200, envelope(TokenSchema))
@bp.doc(responses={401: {"description": "用户名或密码错误"}, 423: {"description": "账号已临时锁定"},
                   429: {"description": "登录过于频繁"}})
def login(payload: dict):
    """Sign in with username and password; returns a bearer token with its expiry."""
    token, row, user = auth_service.login(payload["username"], payload["password"],
                                          current_app.config["TOKEN_TTL_SECONDS"], ip=request.remote_addr)
    return {"data": {"token": token, "token_type": "Bearer", "expires_at": row.expires_at,
                     "user": auth_service.user_row(user)}}


@bp.route("/logout", methods=["POST"])
@bp.response(204)
@bp.doc(responses={401: {"description": "未登录或令牌已失效"}})
def logout():
    """Revoke the token used for this request (any request body is ignored)."""
    auth_service.logout(_bearer())


@bp.route("/me")
@bp.response(200, USER_ENVELOPE)
def get_me():
    """The signed-in user."""
    return {"data": auth_service.user_row(g.officer)}


@bp.route("/password", methods=["POST"])
@bp.arguments(PasswordChangeSchema)
@bp.response(204)
def change_password(payload: dict):
    """Change the password; every token of the user (this one too) is revoked."""
    auth_service.change_password(g.officer, payload["old_password"], payload["new_password"])


@bp.route("/users", methods=["POST"])
@bp.arguments(UserCreateSchema)
@bp.response(201, USER_ENVELOPE)
def create_user(payload: dict):
    """Create an account in the admin's jurisdiction (county admin or admin)."""
    user = auth_service.create_user(payload["username"], payload["password"], payload["role"],
                                    payload["region"], scope=current_scope())
    return {"data": auth_service.user_row(user)}


@bp.route("/users/<string:username>/unlock", methods=["POST"])
@bp.response(204)
@bp.doc(responses={404: {"description": "找不到该用户（或不在管辖范围内）"}})
def unlock_user(username: str):
    """Lift the sign-in locks of a user (every IP); county admin or admin, audited."""
    auth_service.unlock(current_scope(), username)


@bp.route("/users/<string:username>", methods=["PATCH"])
@bp.arguments(UserUpdateSchema)
@bp.response(200, USER_ENVELOPE)
def update_user(payload: dict, username: str):
    """Change a user's role, region or active flag (audited; the user's tokens are revoked)."""
    user = auth_service.update_user(current_scope(), username, role=payload.get("role"),
                                    region_code=payload.get("region"), active=payload.get("active"))
    return {"data": auth_service.user_row(user)}
