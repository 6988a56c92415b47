"""Household registry: import, search, invite codes and QR codes, crediting quiz sessions."""

from __future__ import annotations

import csv
import io
import re
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from ..errors import NotFound, ValidationFailed
from ..extensions import db
from ..models import (
    CampaignCode,
    Household,
    Member,
    QuizSession,
    Region,
    RegionScoreStat,
    RegionTypeStat,
    utcnow,
)
from . import audit
from . import regions as regions_service
from .regions import Scope, actor, subtree_ids_query

HOUSEHOLD_NOT_FOUND = "找不到该住户"
CHUNK = 5000

# Chinese (and English) column names officers use → our field names.
HEADER_MAP = {
    "户编号": "code", "户号": "code", "code": "code",
    "地址": "address", "住址": "address", "address": "address",
    "门牌号": "house_number", "门牌": "house_number", "house_number": "house_number",
    "户主": "head_name", "户主姓名": "head_name", "head_name": "head_name",
    "联系电话": "phone", "电话": "phone", "手机号": "phone", "phone": "phone",
    "成员姓名": "name", "姓名": "name", "name": "name",
    "性别": "sex", "sex": "sex",
    "年龄段": "age_band", "age_band": "age_band",
    "标签": "tags", "tags": "tags",
    "成员电话": "member_phone", "member_phone": "member_phone",
    "区域编码": "region", "网格编码": "region", "组编码": "region", "region": "region",
}
COLUMN_LABELS = {
    "code": "户编号", "address": "地址", "house_number": "门牌号", "head_name": "户主",
    "phone": "联系电话", "name": "成员姓名", "sex": "性别", "age_band": "年龄段", "tags": "标签",
    "member_phone": "成员电话", "region": "区域编码",
}
REQUIRED = ("code", "address", "head_name", "phone", "name")
LIMITS = {"code": 64, "address": 200, "house_number": 32, "head_name": 64, "phone": 32,
          "name": 64, "member_phone": 32, "region": 32}
SEXES = {"男": "男", "女": "女", "M": "男", "F": "女", "male": "男", "female": "女"}
AGE_BANDS = ("0-17", "18-35", "36-59", "60-69", "70+")
AGE_BAND_ALIASES = {"未成年": "0-17", "青年": "18-35", "中年": "36-59", "老年": "60-69", "高龄": "70+",
                    "60+": "60-69", "80+": "70+"}
TAGS = {
    "elderly": "elderly", "老人": "elderly", "老年人": "elderly",
    "student": "student", "学生": "student",
    "enterprise_finance": "enterprise_finance", "企业财务": "enterprise_finance", "财务": "enterprise_finance",
    "worker_merchant": "worker_merchant", "务工经商": "worker_merchant", "务工": "worker_merchant",
    "经商": "worker_merchant",
    "youth": "youth", "青少年": "youth",
    "woman": "woman", "妇女": "woman", "宝妈": "woman",
    "key_person": "key_person", "重点人员": "key_person",
}
PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")
TAG_SPLIT_RE = re.compile(r"[,，、;；\s]+")


def mask_phone(phone: str | None) -> str | None:
    """138****1234: the only way a phone leaves the registry unless full data is audited."""
    if not phone:
        return phone
    digits = phone.strip()
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}****{digits[-4:]}"


def new_invite_code() -> str:
    """An opaque, unguessable invite code (96 bits)."""
    return secrets.token_urlsafe(12)


# --- lookups -------------------------------------------------------------------------------

def find_by_invite_code(code: str) -> Household | None:
    """The household holding ``code``, or None (used by the WeChat binding)."""
    if not isinstance(code, str) or not code or len(code) > 32:
        return None
    return db.session.execute(
        sa.select(Household).where(Household.invite_code == code)).scalar_one_or_none()


def get_in_scope(scope: Scope, code: str) -> tuple[Household, Region]:
    """A household by its code if it lies in the scope; otherwise 404 as if it did not exist."""
    row = None
    if isinstance(code, str) and len(code) <= 64:
        row = db.session.execute(
            sa.select(Household, Region).join(Region, Region.id == Household.region_id)
            .where(Household.code == code)).first()
    if row is None or not scope.covers(row[1].path):
        raise NotFound(HOUSEHOLD_NOT_FOUND, code="household_not_found")
    return row[0], row[1]


def get_by_id_in_scope(scope: Scope, household_id: int) -> tuple[Household, Region]:
    """Like ``get_in_scope`` but by numeric id."""
    row = db.session.execute(
        sa.select(Household, Region).join(Region, Region.id == Household.region_id)
        .where(Household.id == household_id)).first()
    if row is None or not scope.covers(row[1].path):
        raise NotFound(HOUSEHOLD_NOT_FOUND, code="household_not_found")
    return row[0], row[1]


def members_of(household_id: int) -> list[Member]:
    """The members of a household, by name."""
    return list(db.session.execute(
        sa.select(Member).where(Member.household_id == household_id).order_by(Member.id)).scalars())


def search(scope: Scope, region_code: str | None, *, q: str | None = None,
           status: str | None = None, page: int = 1, per_page: int = 50) -> tuple[list[dict], int]:
    """Households of a region subtree in walking order; ``q`` matches code, address, head, phone."""
    region = _region(scope, region_code)
    query = (sa.select(Household, Region.code.label("region_code"))
             .join(Region, Region.id == Household.region_id)
             .where(Household.region_id.in_(subtree_ids_query(region.path))))
    if q:
        like = f"%{q}%"
        query = query.where(sa.or_(Household.code.like(like), Household.address.like(like),
                                   Household.head_name.like(like), Household.phone.like(like)))
    if status == "quizzed":
        query = query.where(Household.quiz_count > 0)
    elif status == "not_quizzed":
        query = query.where(Household.quiz_count == 0)
    elif status == "visited":
        query = query.where(Household.visit_count > 0)
    elif status == "not_visited":
        query = query.where(Household.visit_count == 0)
    total = db.session.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()
    rows = db.session.execute(
        query.order_by(Region.path, Household.house_number, Household.code)
        .limit(per_page).offset((page - 1) * per_page)).all()
    return [household_row(h, rc) for h, rc in rows], total


def _region(scope: Scope, code: str | None) -> Region:
    return regions_service.get_in_scope(scope, code)


def household_row(h: Household, region_code: str, *, full: bool = False) -> dict:
    """A household as plain data; the phone is masked unless ``full``."""
    return {
        "id": h.id, "code": h.code, "region": region_code, "address": h.address,
        "house_number": h.house_number, "head_name": h.head_name,
        "phone": h.phone if full else mask_phone(h.phone), "invite_code": h.invite_code,
        "member_count": h.member_count, "members_quizzed": h.members_quizzed,
        "visited": h.visit_count > 0, "quizzed": h.quiz_count > 0, "quiz_count": h.quiz_count,
        "average_score": round(h.score_sum / h.quiz_count, 1) if h.quiz_count else None,
        "last_visit_at": h.last_visit_at, "last_visit_outcome": h.last_visit_outcome,
        "last_quiz_at": h.last_quiz_at,
    }


def member_row(m: Member, *, full: bool = False) -> dict:
    """A member as plain data; the phone is masked unless ``full``."""
    return {"id": m.id, "name": m.name, "sex": m.sex, "age_band": m.age_band, "tags": m.tags or [],
            "phone": m.phone if full else mask_phone(m.phone), "quizzed": m.quizzed_at is not None,
            "quizzed_at": m.quizzed_at}


def invite_url(base_url: str, invite_code: str) -> str:
    """The URL a resident scans: the quiz page carrying the invite code."""
    return f"{base_url.rstrip('/')}/q/{invite_code}"


def qr_image(data: str, fmt: str) -> bytes:
    """A QR code for ``data`` as PNG (pypng) or SVG bytes."""
    import qrcode
    from qrcode.image.pure import PyPNGImage
    from qrcode.image.svg import SvgPathImage

    factory = PyPNGImage if fmt == "png" else SvgPathImage
    buffer = io.BytesIO()
    qrcode.make(data, image_factory=factory, box_size=8, border=2).save(buffer)
    return buffer.getvalue()


# --- quiz crediting ------------------------------------------------------------------------

@dataclass
class Credit:
    """Where a quiz session's result goes."""

    household_id: int | None = None
    member_id: int | None = None
    region_id: int | None = None


def resolve_participant(invite_code: str | None, member_id: int | None) -> Credit:
    """Turn ``participant.invite_code`` (household or campaign) and ``member_id`` into a credit.

    Unknown codes, or a member of another household, are 422 naming the field.
    """
    if not invite_code:
        if member_id is not None:
            raise ValidationFailed("选择家庭成员前需要邀请码",
                                   details={"participant": {"member_id": ["缺少 invite_code"]}})
        return Credit()
    household = find_by_invite_code(invite_code)
    if household is not None:
        if member_id is not None:
            member = db.session.get(Member, member_id)
            if member is None or member.household_id != household.id:
                raise ValidationFailed("家庭成员不存在",
                                       details={"participant": {"member_id": ["不是该住户的成员"]}})
        return Credit(household.id, member_id, household.region_id)
    campaign = db.session.execute(
        sa.select(CampaignCode).where(CampaignCode.code == invite_code)).scalar_one_or_none()
    if campaign is None:
        raise ValidationFailed("邀请码无效，请重新扫码",
                               details={"participant": {"invite_code": ["邀请码不存在"]}})
    if member_id is not None:
        raise ValidationFailed("活动码不能指定家庭成员",
                               details={"participant": {"member_id": ["活动码不对应住户"]}})
    return Credit(None, None, campaign.region_id)


def credit_session(session_id: str) -> bool:
    """Count a submitted session for its household, member and region, exactly once.

    The claim is a conditional UPDATE of ``credited``, so concurrent callers cannot double
    count. The caller commits.
    """
    session = db.session.get(QuizSession, session_id)
    if session is None or session.submitted_at is None or session.region_id is None:
        return False
    claimed = db.session.execute(
        sa.update(QuizSession).where(QuizSession.id == session_id, QuizSession.credited.is_(False))
        .values(credited=True).execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        return False
    score, when = session.score or 0, session.submitted_at
    if session.household_id is not None:
        db.session.execute(sa.update(Household).where(Household.id == session.household_id).values(
            quiz_count=Household.quiz_count + 1, score_sum=Household.score_sum + score,
            last_quiz_at=sa.case((Household.last_quiz_at.is_(None), when),
                                 (Household.last_quiz_at < when, when), else_=Household.last_quiz_at)))
        if session.member_id is not None:
            first = db.session.execute(sa.update(Member).where(
                Member.id == session.member_id, Member.quizzed_at.is_(None)).values(quizzed_at=when)
                .execution_options(synchronize_session=False)).rowcount
            if first:
                db.session.execute(sa.update(Household).where(Household.id == session.household_id)
                                   .values(members_quizzed=Household.members_quizzed + 1))
    _bump_region_stats(session.region_id, score, when, session.result or {})
    return True


def _bump_region_stats(region_id: int, score: int, when: datetime, result: dict) -> None:
    updated = db.session.execute(sa.update(RegionScoreStat).where(
        RegionScoreStat.region_id == region_id).values(
        attempts=RegionScoreStat.attempts + 1, score_sum=RegionScoreStat.score_sum + score,
        last_quiz_at=sa.case((RegionScoreStat.last_quiz_at.is_(None), when),
                             (RegionScoreStat.last_quiz_at < when, when),
                             else_=RegionScoreStat.last_quiz_at))).rowcount
    if not updated:
        db.session.execute(sa.insert(RegionScoreStat).values(
            region_id=region_id, attempts=1, score_sum=score, last_quiz_at=when))
    per_type: dict[str, list[int]] = {}
    for item in result.get("results", []):
        counts = per_type.setdefault(item["scam_type"], [0, 0])
        counts[0] += 1
        counts[1] += 1 if item["correct"] else 0
    for type_id, (answered, correct) in sorted(per_type.items()):
        updated = db.session.execute(sa.update(RegionTypeStat).where(
            RegionTypeStat.region_id == region_id, RegionTypeStat.scam_type_id == type_id).values(
            answered=RegionTypeStat.answered + answered,
            correct=RegionTypeStat.correct + correct)).rowcount
        if not updated:
            db.session.execute(sa.insert(RegionTypeStat).values(
                region_id=region_id, scam_type_id=type_id, answered=answered, correct=correct))


# --- import --------------------------------------------------------------------------------

@dataclass
class ImportReport:
    """What an import did."""

    rows: int = 0
    households_created: int = 0
    households_updated: int = 0
    members_created: int = 0
    members_updated: int = 0
    errors: list[dict] = field(default_factory=list)


def read_rows(filename: str, data: bytes) -> tuple[list[str], Iterator[list[str]]]:
    """Header and data rows of a CSV (UTF-8 or GBK) or XLSX file."""
    name = (filename or "").lower()
    if name.endswith(".xlsx") or data[:4] == b"PK\x03\x04":
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:
            raise ValidationFailed("无法读取 XLSX 文件，请确认文件未损坏",
                                   details={"file": ["不是有效的 XLSX 文件"]}) from exc
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None) or ()

        def cells(values: Iterable) -> list[str]:
            return ["" if v is None else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v))
                    for v in values]

        return cells(header), (cells(r) for r in rows)
    if not name.endswith(".csv") and name:
        raise ValidationFailed("只支持 CSV 或 XLSX 文件", details={"file": ["文件类型不支持"]})
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes nearly anything
        raise ValidationFailed("文件编码无法识别，请另存为 UTF-8 CSV", details={"file": ["编码无效"]})
    reader = csv.reader(io.StringIO(text))
    return next(reader, []), reader


def _parse(header: list[str], rows: Iterator[list[str]], errors: list[dict],
           progress: Callable[[int], None] | None) -> list[dict]:
    columns: list[str | None] = []
    for name in header:
        key = HEADER_MAP.get(str(name).strip())
        columns.append(key)
    missing = [COLUMN_LABELS[c] for c in REQUIRED if c not in columns]
    if missing:
        raise ValidationFailed("缺少必需的列：" + "、".join(missing),
                               details={"columns": missing, "header": header})
    parsed = []
    tick = 0
    for number, raw in enumerate(rows, start=2):
        tick += 1
        if progress and tick == 1000:
            progress(tick)
            tick = 0
        if not any((c or "").strip() for c in raw):
            continue
        record: dict[str, str] = {}
        for key, value in zip(columns, raw, strict=False):
            if key:
                record[key] = (value or "").strip()
        row_errors = _check_row(record)
        errors.extend({"row": number, "column": COLUMN_LABELS[c], "reason": r} for c, r in row_errors)
        record["_row"] = number  # type: ignore[assignment]
        parsed.append(record)
    if progress and tick:
        progress(tick)
    return parsed


def _check_row(record: dict) -> list[tuple[str, str]]:
    errs = []
    for col in REQUIRED:
        if not record.get(col):
            errs.append((col, "不能为空"))
    for col, limit in LIMITS.items():
        if len(record.get(col, "")) > limit:
            errs.append((col, f"不能超过 {limit} 个字"))
    for col in ("phone", "member_phone"):
        value = record.get(col)
        if value and not PHONE_RE.match(value):
            errs.append((col, "电话号码格式不正确"))
    if record.get("sex"):
        sex = SEXES.get(record["sex"])
        if sex is None:
            errs.append(("sex", "性别只能填“男”或“女”"))
        record["sex"] = sex
    if record.get("age_band"):
        band = AGE_BAND_ALIASES.get(record["age_band"], record["age_band"])
        if band not in AGE_BANDS:
            errs.append(("age_band", "年龄段应为 " + "、".join(AGE_BANDS) + " 之一"))
        record["age_band"] = band
    tags = [t for t in TAG_SPLIT_RE.split(record.get("tags", "")) if t]
    unknown = [t for t in tags if t not in TAGS]
    if unknown:
        errs.append(("tags", "未知的标签：" + "、".join(unknown)))
    record["tags"] = sorted({TAGS[t] for t in tags if t in TAGS})  # type: ignore[assignment]
    return errs


def import_households(scope: Scope | None, region_code: str, filename: str, data: bytes, *,
                      progress: Callable[[int], None] | None = None,
                      total_hint: Callable[[int], None] | None = None,
                      dry_run: bool = False) -> ImportReport:
    """Validate every row, then insert or update all households and members, or nothing.

    ``dry_run`` does the whole import and rolls it back: the console's preview, whose counts
    are exactly what the real import will do.

    One row per member; rows sharing a 户编号 form one household. Re-importing a code updates
    that household (members matched by name). ``scope`` None means the CLI (no jurisdiction).
    """
    if scope is not None:
        scope.require_role("county_admin", "station_admin")
        region = _region(scope, region_code)
    else:
        region = regions_service.get_by_code(region_code)
        if region is None:
            raise ValidationFailed("区域不存在", details={"region": [f"未知的区域：{region_code}"]})
    header, rows = read_rows(filename, data)
    errors: list[dict] = []
    records = _parse(header, rows, errors, progress)
    if not records and not errors:
        raise ValidationFailed("文件中没有数据行", details={"file": ["没有数据行"]})

    # Regions a row may name: the target region's subtree, by code.
    subtree_regions = dict(db.session.execute(
        sa.select(Region.code, Region.id).where(Region.path.startswith(region.path, autoescape=True))).all())
    households: dict[str, dict] = {}
    for rec in records:
        number = rec["_row"]
        rid = region.id
        if rec.get("region"):
            rid = subtree_regions.get(rec["region"])
            if rid is None:
                errors.append({"row": number, "column": "区域编码", "reason": "区域不存在或不在本辖区内"})
                continue
        code = rec.get("code")
        if not code:
            continue
        house = households.get(code)
        if house is None:
            households[code] = house = {
                "code": code, "region_id": rid, "address": rec.get("address", ""),
                "house_number": rec.get("house_number", ""), "head_name": rec.get("head_name", ""),
                "phone": rec.get("phone") or None, "_row": number, "members": {}}
        else:
            for key, label in (("address", "地址"), ("head_name", "户主"), ("phone", "联系电话"),
                               ("region_id", "区域编码")):
                value = rid if key == "region_id" else (rec.get(key) or None if key == "phone" else rec.get(key, ""))
                if value != house[key]:
                    errors.append({"row": number, "column": label,
                                   "reason": f"与同一户第 {house['_row']} 行不一致"})
        name = rec.get("name")
        if name:
            if name in house["members"]:
                errors.append({"row": number, "column": "成员姓名",
                               "reason": f"同一户内重名（第 {house['members'][name]['_row']} 行）"})
            else:
                house["members"][name] = {"name": name, "sex": rec.get("sex"),
                                          "age_band": rec.get("age_band") or None,
                                          "tags": rec.get("tags") or [],
                                          "phone": rec.get("member_phone") or None, "_row": number}

    # Existing households by code: those outside the target subtree cannot be taken over.
    existing: dict[str, tuple[int, int]] = {}
    codes = list(households)
    for start in range(0, len(codes), CHUNK):
        for hid, code, rid in db.session.execute(
                sa.select(Household.id, Household.code, Household.region_id)
                .where(Household.code.in_(codes[start:start + CHUNK]))):
            existing[code] = (hid, rid)
    allowed = set(subtree_regions.values())
    for code, (_hid, rid) in existing.items():
        if rid not in allowed:
            errors.append({"row": households[code]["_row"], "column": "户编号",
                           "reason": "该户编号已登记在其他辖区"})
    if errors:
        errors.sort(key=lambda e: (e["row"], e["column"]))
        raise ValidationFailed(f"共有 {len(errors)} 处错误，未导入任何数据",
                               code="import_invalid", details={"errors": errors[:1000],
                                                                "error_count": len(errors)})
    report = _write(households, existing)
    report.rows = len(records)
    if dry_run:
        db.session.rollback()
        return report
    audit.record(actor(scope) if scope else None, "household_import", region_id=region.id,
                 target=filename[:200] if filename else None,
                 details={"rows": report.rows, "households_created": report.households_created,
                          "households_updated": report.households_updated,
                          "members_created": report.members_created,
                          "members_updated": report.members_updated})
    db.session.commit()
    return report


def _write(households: dict[str, dict], existing: dict[str, tuple[int, int]]) -> ImportReport:
    report = ImportReport()
    now = utcnow()
    new_rows, update_rows = [], []
    for code, house in households.items():
        values = {k: house[k] for k in ("code", "region_id", "address", "house_number", "head_name", "phone")}
        if code in existing:
            update_rows.append({"b_id": existing[code][0], **{f"b_{k}": v for k, v in values.items()
                                                            if k != "code"}, "b_now": now})
        else:
            new_rows.append({**values, "invite_code": new_invite_code(), "member_count":
                             len(house["members"]), "members_quizzed": 0, "quiz_count": 0,
                             "score_sum": 0, "visit_count": 0, "created_at": now, "updated_at": now})
    for start in range(0, len(new_rows), CHUNK):
        db.session.execute(sa.insert(Household), new_rows[start:start + CHUNK])
    if update_rows:
        stmt = (sa.update(Household.__table__).where(Household.__table__.c.id == sa.bindparam("b_id"))
                .values(region_id=sa.bindparam("b_region_id"), address=sa.bindparam("b_address"),
                        house_number=sa.bindparam("b_house_number"), head_name=sa.bindparam("b_head_name"),
                        phone=sa.bindparam("b_phone"), updated_at=sa.bindparam("b_now")))
        for start in range(0, len(update_rows), CHUNK):
            db.session.execute(stmt, update_rows[start:start + CHUNK])
    report.households_created, report.households_updated = len(new_rows), len(update_rows)

    ids: dict[str, int] = {code: hid for code, (hid, _rid) in existing.items()}
    new_codes = [r["code"] for r in new_rows]
    for start in range(0, len(new_codes), CHUNK):
        ids.update({code: hid for hid, code in db.session.execute(
            sa.select(Household.id, Household.code).where(Household.code.in_(new_codes[start:start + CHUNK])))})

    # Members of updated households: match by name.
    old_members: dict[tuple[int, str], int] = {}
    updated_ids = [existing[c][0] for c in households if c in existing]
    for start in range(0, len(updated_ids), CHUNK):
        for mid, hid, name in db.session.execute(
                sa.select(Member.id, Member.household_id, Member.name)
                .where(Member.household_id.in_(updated_ids[start:start + CHUNK]))):
            old_members[(hid, name)] = mid
    member_new, member_upd = [], []
    for code, house in households.items():
        hid = ids[code]
        for m in house["members"].values():
            values = {"sex": m["sex"], "age_band": m["age_band"], "tags": m["tags"], "phone": m["phone"]}
            mid = old_members.get((hid, m["name"]))
            if mid is None:
                member_new.append({"household_id": hid, "name": m["name"], **values})
            else:
                member_upd.append({"b_id": mid, **{f"b_{k}": v for k, v in values.items()}})
    for start in range(0, len(member_new), CHUNK):
        db.session.execute(sa.insert(Member), member_new[start:start + CHUNK])
    if member_upd:
        table = Member.__table__
        stmt = (sa.update(table).where(table.c.id == sa.bindparam("b_id")).values(
            sex=sa.bindparam("b_sex"), age_band=sa.bindparam("b_age_band"),
            tags=sa.bindparam("b_tags", type_=sa.JSON), phone=sa.bindparam("b_phone")))
        for start in range(0, len(member_upd), CHUNK):
            db.session.execute(stmt, member_upd[start:start + CHUNK])
    if updated_ids:
        count = (sa.select(sa.func.count(Member.id)).where(Member.household_id == Household.id)
                 .scalar_subquery())
        for start in range(0, len(updated_ids), CHUNK):
            db.session.execute(sa.update(Household).where(Household.id.in_(updated_ids[start:start + CHUNK]))
                               .values(member_count=count).execution_options(synchronize_session=False))
    report.members_created, report.members_updated = len(member_new), len(member_upd)
    return report


def settle_session(session: QuizSession) -> None:
    """After a submission: hold it for review if it looks like 刷数, else credit it. No commit."""
    from . import integrity

    if session.region_id is None:
        return
    db.session.refresh(session)
    reasons = integrity.check_session(session)
    if reasons:
        integrity.flag("quiz", reasons, region_id=session.region_id, session=session)
    else:
        credit_session(session.id)
