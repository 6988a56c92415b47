"""The region tree and jurisdiction: every officer query is limited to the user's subtree."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..errors import Conflict, Forbidden, NotFound, ValidationFailed
from ..extensions import db
from ..models import Region, User
from ..text import clean, problem
from . import audit, counters

MAX_LEVEL = 3  # 县/区 0 → 乡镇/街道 1 → 村/社区 2 → 组/网格 3
CODE_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
REGION_NOT_FOUND = "找不到该区域"


@dataclass(frozen=True)
class Scope:
    """What a signed-in user may see: the subtree under ``path`` (None = everything)."""

    user_id: int
    username: str
    role: str
    region_id: int | None
    path: str | None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def covers(self, region_path: str) -> bool:
        """True when ``region_path`` lies inside this scope."""
        return self.path is None or region_path.startswith(self.path)

    def require_role(self, *roles: str) -> None:
        """Raise 403 unless the user has one of ``roles`` (admin always passes)."""
        if self.role != "admin" and self.role not in roles:
            raise Forbidden("您的角色无权执行此操作", code="role_forbidden")


def scope_for(user: User) -> Scope:
    """Build the scope of a user; a non-admin without a region sees nothing."""
    path = None
    if user.role != "admin":
        region = db.session.get(Region, user.region_id) if user.region_id else None
        path = region.path if region else "/\x00/"
    return Scope(user.id, user.username, user.role, user.region_id, path)


def actor(scope: Scope) -> User | None:
    """The User row behind a scope (for audit entries)."""
    return db.session.get(User, scope.user_id)


def get_by_code(code: str) -> Region | None:
    """A region by its code, or None (also for a code no region can have, e.g. with NUL)."""
    if not isinstance(code, str) or len(code) > 32 or problem(code):
        return None
    return db.session.execute(sa.select(Region).where(Region.code == code)).scalar_one_or_none()


def get_in_scope(scope: Scope, code: str | None, *, field: str = "region") -> Region:
    """The region ``code`` if the scope covers it; 404 otherwise, exactly as if it did not exist.

    No code means the user's own region (admin: required).
    """
    if not code:
        if scope.region_id is None:
            raise ValidationFailed("请指定区域编码", details={field: ["缺少必填字段"]})
        region = db.session.get(Region, scope.region_id)
    else:
        region = get_by_code(code)
    if region is None or not scope.covers(region.path):
        raise NotFound(REGION_NOT_FOUND, code="region_not_found")
    return region


def region_row(region: Region, parent_code: str | None = None) -> dict:
    """A region as plain data (its parent's code looked up unless given)."""
    if parent_code is None and region.parent_id:
        parent_code = db.session.execute(
            sa.select(Region.code).where(Region.id == region.parent_id)).scalar_one_or_none()
    return {"code": region.code, "name": region.name, "level": region.level,
            "parent_code": parent_code, "path": region.path}


def subtree_ids_query(path: str) -> sa.Select:
    """``SELECT id FROM region WHERE path LIKE 'path%'`` as a subquery-ready select."""
    return sa.select(Region.id).where(Region.path.startswith(path, autoescape=True))


def subtree(path: str) -> list[Region]:
    """Every region under ``path``, the region itself included."""
    return list(db.session.execute(
        sa.select(Region).where(Region.path.startswith(path, autoescape=True)).order_by(Region.path)
    ).scalars())


def children(region: Region) -> list[Region]:
    """Direct children, by code."""
    return list(db.session.execute(
        sa.select(Region).where(Region.parent_id == region.id).order_by(Region.code)).scalars())


def roots(scope: Scope) -> list[Region]:
    """The top of what the user sees: every root for admin, else the user's own region."""
    if scope.path is None:
        return list(db.session.execute(
            sa.select(Region).where(Region.parent_id.is_(None)).order_by(Region.code)).scalars())
    region = db.session.get(Region, scope.region_id) if scope.region_id else None
    return [region] if region else []


def _check_code(code: str) -> None:
    if not CODE_RE.match(code or ""):
        raise ValidationFailed("区域编码只能包含字母、数字、下划线和短横线，最长 32 位",
                               details={"code": ["格式无效"]})


def _check_name(name: str) -> None:
    """Names are shown on every page and written into exports: no invisible characters."""
    reason = problem(name or "")
    if reason:
        raise ValidationFailed("区域名称" + reason, details={"name": [reason]})


def create(scope: Scope | None, code: str, name: str, parent_code: str | None,
           *, commit: bool = True) -> Region:
    """Add a region under ``parent_code`` (None: a root, admin only)."""
    _check_code(code)
    _check_name(name)
    if scope is not None:
        scope.require_role("county_admin")
    parent = None
    if parent_code:
        parent = get_in_scope(scope, parent_code, field="parent_code") if scope else get_by_code(parent_code)
        if parent is None:
            raise ValidationFailed("上级区域不存在", details={"parent_code": [f"未知的区域：{parent_code}"]})
        if parent.level >= MAX_LEVEL:
            raise ValidationFailed("组/网格下不能再建下级区域", details={"parent_code": ["层级已到最底层"]})
    elif scope is not None and not scope.is_admin:
        raise Forbidden("只有系统管理员可以建立顶级区域", code="role_forbidden")
    if get_by_code(code) is not None:
        raise Conflict("区域编码已存在", code="region_exists", details={"code": ["已存在"]})
    region = Region(code=code, name=name, parent_id=parent.id if parent else None,
                    level=parent.level + 1 if parent else 0,
                    path=f"{parent.path if parent else '/'}{code}/")
    db.session.add(region)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict("区域编码已存在", code="region_exists", details={"code": ["已存在"]}) from exc
    if scope is not None:
        audit.record(actor(scope), "region_create", region_id=region.id, target=code,
                     details={"name": name, "parent_code": parent_code})
    if commit:
        db.session.commit()
    return region


def update(scope: Scope, code: str, *, name: str | None = None,
           parent_code: str | None = None) -> Region:
    """Rename and/or move a region; a move rewrites the paths of its whole subtree."""
    scope.require_role("county_admin")
    region = get_in_scope(scope, code)
    changes: dict = {}
    if name is not None:
        _check_name(name)
    if name is not None and name != region.name:
        changes["name"] = [region.name, name]
        region.name = name
    if parent_code is not None:
        parent = get_in_scope(scope, parent_code, field="parent_code")
        if parent.id == region.id or parent.path.startswith(region.path):
            raise ValidationFailed("不能把区域移到它自己或它的下级之下",
                                   details={"parent_code": ["会形成环"]})
        if region.path == scope.path:
            raise Forbidden("不能移动自己所在的区域", code="role_forbidden")
        nodes = subtree(region.path)
        depth = max(n.level for n in nodes) - region.level
        if parent.level + 1 + depth > MAX_LEVEL:
            raise ValidationFailed("移动后层级超过四级（县、乡镇、村、组）",
                                   details={"parent_code": ["层级过深"]})
        if parent.id != region.parent_id:
            old_path, new_path = region.path, f"{parent.path}{region.code}/"
            shift = parent.level + 1 - region.level
            for node in nodes:
                node.path = new_path + node.path[len(old_path):]
                node.level += shift
            counters.subtree_moved(region.id, region.parent_id, parent.id)
            region.parent_id = parent.id
            changes["parent"] = [old_path, new_path]
    if changes:
        audit.record(actor(scope), "region_update", region_id=region.id, target=region.code,
                     details=changes)
        db.session.commit()
    return region


def import_csv(text: str) -> int:
    """Create or rename regions from CSV ``code,name,parent_code``; all or nothing.

    Control characters in the file (pasted from other systems) are stripped, as in every file
    import (``text.clean``)."""
    reader = csv.DictReader(io.StringIO(clean(text).lstrip("\ufeff")))
    missing = {"code", "name", "parent_code"} - set(reader.fieldnames or [])
    if missing:
        raise ValidationFailed("CSV 缺少列：" + "、".join(sorted(missing)))
    rows = list(reader)
    errors: list[dict] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(rows, start=2):
        code = (row.get("code") or "").strip()
        if not CODE_RE.match(code):
            errors.append({"row": number, "column": "code", "reason": "区域编码格式无效"})
        elif code in seen:
            errors.append({"row": number, "column": "code", "reason": f"与第 {seen[code]} 行重复"})
        seen.setdefault(code, number)
        if not (row.get("name") or "").strip():
            errors.append({"row": number, "column": "name", "reason": "名称不能为空"})
    if errors:
        raise ValidationFailed("区域文件有误，未导入任何数据", details={"rows": errors})
    pending = {r["code"].strip(): r for r in rows}
    created = 0
    while pending:
        progressed = False
        for code, row in list(pending.items()):
            parent_code = (row.get("parent_code") or "").strip() or None
            if parent_code and parent_code in pending:
                continue
            existing = get_by_code(code)
            if existing is not None:
                existing.name = row["name"].strip()
            else:
                try:
                    create(None, code, row["name"].strip(), parent_code, commit=False)
                except (ValidationFailed, Conflict):
                    db.session.rollback()
                    raise
                created += 1
            del pending[code]
            progressed = True
        if not progressed:
            db.session.rollback()
            raise ValidationFailed("上级区域形成环或不存在：" + "、".join(sorted(pending)))
    db.session.commit()
    return created
