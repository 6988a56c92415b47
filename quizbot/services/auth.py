"""Sign-in for officers: bearer tokens (stored hashed), lockout, password change, accounts."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa

from ..errors import APIError, Conflict, NotFound, Unauthorized, ValidationFailed
from ..extensions import db
from ..models import ROLES, AuthToken, Region, User, utcnow
from ..models.security import LoginThrottle
from . import audit
from .accounts import hash_password, verify_password
from .regions import Scope, actor, get_by_code, get_in_scope

MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 15
MAX_LOCK_SECONDS = 24 * 3600
MIN_PASSWORD_LENGTH = 8
BAD_CREDENTIALS = "用户名或密码错误"


class AccountLocked(APIError):
    status, code, message = 423, "account_locked", "密码错误次数过多，账号已临时锁定，请稍后再试"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _throttle(username: str, ip: str) -> LoginThrottle:
    """The failure counter of this username from this IP (created on first use, race-safe)."""
    key = (username[:64], (ip or "unknown")[:64])
    query = sa.select(LoginThrottle).where(LoginThrottle.username == key[0], LoginThrottle.ip == key[1])
    row = db.session.execute(query).scalar_one_or_none()
    if row is None:
        try:
            with db.session.begin_nested():
                row = LoginThrottle(username=key[0], ip=key[1], failures=0, lockouts=0)
                db.session.add(row)
        except sa.exc.IntegrityError:
            row = db.session.execute(query).scalar_one()
    return row


def lock_seconds(lockouts: int) -> int:
    """How long the ``lockouts``-th lockout in a row lasts: 15 min, doubling, at most a day."""
    return min(LOCK_MINUTES * 60 * 2 ** max(lockouts - 1, 0), MAX_LOCK_SECONDS)


def login(username: str, password: str, ttl_seconds: int, ip: str | None = None
          ) -> tuple[str, AuthToken, User]:
    """Check the password and issue a token.

    Failures are counted per username *and* IP: five in a row lock that pair out (15 minutes,
    doubling with each further lockout), so a stranger elsewhere cannot lock an officer out.
    Unknown and inactive usernames take the same time, count and lock exactly like real ones,
    so neither the answer nor the lockout tells which usernames exist.
    """
    now = utcnow()
    throttle = _throttle(username, ip or "unknown")
    if throttle.locked_until is not None and throttle.locked_until > now:
        db.session.commit()
        raise AccountLocked()
    user = db.session.execute(
        sa.select(User).where(User.username == username)).scalar_one_or_none()
    if user is None or not user.active:
        verify_dummy(password)
        ok = False
    else:
        ok = verify_password(user, password)
    if not ok:
        throttle.failures = (throttle.failures or 0) + 1
        throttle.updated_at = now
        if throttle.failures >= MAX_FAILED_LOGINS:
            throttle.lockouts = (throttle.lockouts or 0) + 1
            throttle.locked_until = now + timedelta(seconds=lock_seconds(throttle.lockouts))
            throttle.failures = 0
            db.session.commit()
            raise AccountLocked()
        db.session.commit()
        raise Unauthorized(BAD_CREDENTIALS, code="bad_credentials")
    db.session.delete(throttle)
    token = secrets.token_urlsafe(32)
    row = AuthToken(token_hash=_digest(token), user_id=user.id, created_at=now,
                    expires_at=now + timedelta(seconds=ttl_seconds))
    db.session.add(row)
    db.session.commit()
    return token, row, user


def unlock(scope: Scope | None, username: str) -> int:
    """Lift every sign-in lock of ``username`` (all IPs); audited. ``scope`` None = CLI.
    Returns how many locks were lifted."""
    if scope is not None:
        scope.require_role("county_admin")
        _user_in_scope(scope, username)
    lifted = db.session.execute(sa.delete(LoginThrottle).where(
        LoginThrottle.username == username)).rowcount
    audit.record(actor(scope) if scope else None, "user_unlock", target=username,
                 details={"locks": lifted})
    db.session.commit()
    return lifted


def _user_in_scope(scope: Scope, username: str) -> User:
    from ..errors import NotFound

    user = db.session.execute(sa.select(User).where(User.username == username)).scalar_one_or_none()
    region = db.session.get(Region, user.region_id) if user and user.region_id else None
    if user is None or (not scope.is_admin and (region is None or not scope.covers(region.path))):
        raise NotFound("找不到该用户", code="user_not_found")
    return user


_DUMMY_HASH: str | None = None


def verify_dummy(password: str) -> None:
    """Spend the same time on unknown users as on real ones (no username probing)."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password(secrets.token_hex(8))
    verify_password(User(password_hash=_DUMMY_HASH), password)


def _valid_token(token: str | None) -> tuple[AuthToken, User]:
    if not token or len(token) > 200:
        raise Unauthorized()
    row = db.session.execute(
        sa.select(AuthToken).where(AuthToken.token_hash == _digest(token))).scalar_one_or_none()
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
        raise Unauthorized("登录已失效，请重新登录", code="token_invalid")
    user = db.session.get(User, row.user_id)
    if user is None or not user.active:
        raise Unauthorized("登录已失效，请重新登录", code="token_invalid")
    return row, user


def authenticate(token: str | None) -> User:
    """The user holding a valid, unexpired, unrevoked token, or 401."""
    return _valid_token(token)[1]


def authenticate_session(token: str | None, idle_seconds: int) -> User:
    """Like ``authenticate`` for a console session, whose token expires after ``idle_seconds``
    without a request; each request pushes the expiry on (written at most once a minute)."""
    row, user = _valid_token(token)
    fresh_until = utcnow() + timedelta(seconds=idle_seconds)
    if fresh_until - timedelta(minutes=1) > row.expires_at:
        row.expires_at = fresh_until
        db.session.commit()
    return user


def logout(token: str | None) -> None:
    """Revoke one token (the caller has already checked it is valid)."""
    if not token:
        return
    db.session.execute(sa.update(AuthToken).where(
        AuthToken.token_hash == _digest(token), AuthToken.revoked_at.is_(None)).values(revoked_at=utcnow()))
    db.session.commit()


def change_password(user: User, old_password: str, new_password: str) -> None:
    """Set a new password and revoke every token of the user."""
    if not verify_password(user, old_password):
        raise ValidationFailed("原密码不正确", details={"old_password": ["原密码不正确"]})
    _check_password(new_password, "new_password")
    if verify_password(user, new_password):
        raise ValidationFailed("新密码不能与原密码相同", details={"new_password": ["与原密码相同"]})
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    db.session.execute(sa.update(AuthToken).where(
        AuthToken.user_id == user.id, AuthToken.revoked_at.is_(None)).values(revoked_at=utcnow()))
    audit.record(user, "password_change", region_id=user.region_id, target=user.username)
    db.session.commit()


def _check_password(password: str, field: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(f"密码至少 {MIN_PASSWORD_LENGTH} 位",
                               details={field: [f"至少 {MIN_PASSWORD_LENGTH} 位"]})


def create_user(username: str, password: str, role: str, region_code: str | None,
                scope: Scope | None = None) -> User:
    """Create an account bound to a region (``admin``: no region). ``scope`` None = CLI."""
    if role not in ROLES:
        raise ValidationFailed("角色无效", details={"role": [f"取值必须是以下之一：{', '.join(ROLES)}"]})
    _check_password(password, "password")
    region: Region | None = None
    if scope is not None:
        scope.require_role("county_admin")
        if role in ("admin", "county_admin") and not scope.is_admin:
            raise ValidationFailed("不能创建同级或更高权限的账号", details={"role": ["权限不足"]})
        region = get_in_scope(scope, region_code)
    elif role != "admin":
        region = get_by_code(region_code) if region_code else None
        if region is None:
            raise ValidationFailed("区域不存在", details={"region": [f"未知的区域：{region_code}"]})
    if role == "admin":
        region = None
    if db.session.execute(sa.select(User.id).where(User.username == username)).first():
        raise Conflict("用户名已存在", code="user_exists", details={"username": ["已存在"]})
    user = User(username=username, password_hash=hash_password(password), role=role,
                region_id=region.id if region else None)
    db.session.add(user)
    db.session.flush()
    audit.record(actor(scope) if scope else None, "user_create", region_id=user.region_id,
                 target=username, details={"role": role})
    db.session.commit()
    return user


def update_user(scope: Scope, username: str, *, role: str | None = None,
                region_code: str | None = None, active: bool | None = None) -> User:
    """Change a user's role, region or active flag (audited); tokens are revoked on change."""
    scope.require_role("county_admin")
    user = db.session.execute(sa.select(User).where(User.username == username)).scalar_one_or_none()
    region = db.session.get(Region, user.region_id) if user and user.region_id else None
    if user is None or (not scope.is_admin and (region is None or not scope.covers(region.path))):
        raise NotFound("找不到该用户", code="user_not_found")
    changes: dict = {}
    if role is not None and role != user.role:
        if role not in ROLES or (role in ("admin", "county_admin") and not scope.is_admin):
            raise ValidationFailed("角色无效或权限不足", details={"role": ["不能设置此角色"]})
        changes["role"] = [user.role, role]
        user.role = role
    if region_code is not None:
        new_region = get_in_scope(scope, region_code)
        if new_region.id != user.region_id:
            changes["region"] = [region.code if region else None, new_region.code]
            user.region_id = new_region.id
    if active is not None and active != user.active:
        changes["active"] = [user.active, active]
        user.active = active
    if changes:
        db.session.execute(sa.update(AuthToken).where(
            AuthToken.user_id == user.id, AuthToken.revoked_at.is_(None)).values(revoked_at=utcnow()))
        audit.record(actor(scope), "user_update", region_id=user.region_id, target=username,
                     details=changes)
        db.session.commit()
    return user


def reset_password(username: str, new_password: str) -> User:
    """Set a generated password (the CLI prints it once): every token of the user is revoked,
    the console asks for a new password at the next sign-in, and the reset is audited."""
    user = db.session.execute(sa.select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise NotFound("找不到该用户", code="user_not_found", details={"username": [f"没有用户 {username}"]})
    _check_password(new_password, "password")
    user.password_hash = hash_password(new_password)
    user.must_change_password = True
    user.failed_logins = 0
    user.locked_until = None
    db.session.execute(sa.update(AuthToken).where(
        AuthToken.user_id == user.id, AuthToken.revoked_at.is_(None)).values(revoked_at=utcnow()))
    audit.record(None, "password_reset", region_id=user.region_id, target=user.username,
                 details={"via": "cli"})
    db.session.commit()
    return user


def user_row(user: User) -> dict:
    """A user as plain data (region as its code)."""
    region_code = db.session.execute(
        sa.select(Region.code).where(Region.id == user.region_id)).scalar_one_or_none() \
        if user.region_id else None
    return {"username": user.username, "role": user.role, "region": region_code, "active": user.active}
