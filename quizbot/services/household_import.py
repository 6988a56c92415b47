"""Household sheets (CSV or XLSX) into the registry: all rows or none.

The sheet is one row per member. The household columns (户编号, 地址, 门牌号, 户主, 联系电话,
区域编码) may be filled on a household's first row only: the rows below inherit them until the
next 户编号, and merged XLSX cells count as their top-left value. Phones are accepted in the
spellings people type and stored normalised; tags accept everyday synonyms (独居老人 → 老人).
Re-importing a household or member that did not change reports it as unchanged. Control
characters and lone surrogates in cells (pasted from other systems; XLSX cannot hold them and
PostgreSQL refuses NUL) are stripped as the cells are read, like ``text.clean`` everywhere files
come in.

A 户编号 is unique within its region (the household's own group or village), not county-wide.
A sheet row is matched only against the households of the target region's subtree: a code that
is registered outside it is, to this import, a code like any other, and the row registers a new
household (issue 12: an import must not reveal that a code exists in another jurisdiction). In
the subtree, a code names the household in the row's region, or the only household holding it
(which the row may move to another region); when several regions of the subtree hold it and the
row's region is none of them, the row must say which (区域编码).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font
from sqlalchemy.exc import IntegrityError

from ..errors import Conflict, ValidationFailed
from ..extensions import db
from ..models import Household, Member, Region, utcnow
from ..text import clean
from . import audit, counters
from .invites import new_invite_code
from .regions import Scope, actor, get_by_code, get_in_scope, subtree_ids_query

CHUNK = 5000
PROGRESS_EVERY = 1000  # rows between two progress reports while checking
CODE_TOO_LONG = "户编号不能超过 64 个字"
CODE_AMBIGUOUS = "本辖区内有多户使用这个户编号，请在“区域编码”列写明是哪个区域的住户"
IMPORT_ROLES = ("county_admin", "station_admin")  # admin always passes

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
# Given once per household (first row), inherited by the rows below it.
HOUSEHOLD_COLUMNS = ("code", "address", "house_number", "head_name", "phone", "region")
REQUIRED = ("code", "address", "head_name", "phone", "name")
LIMITS = {"code": 64, "address": 200, "house_number": 32, "head_name": 64, "phone": 32,
          "name": 64, "member_phone": 32, "region": 32}
SEXES = {"男": "男", "女": "女", "M": "男", "F": "女", "male": "男", "female": "女"}
AGE_BANDS = ("0-17", "18-35", "36-59", "60-69", "70+")
AGE_BAND_ALIASES = {"未成年": "0-17", "青年": "18-35", "中年": "36-59", "老年": "60-69", "高龄": "70+",
                    "60+": "60-69", "80+": "70+"}

# The tag vocabulary: canonical tag → (the word shown to officers, synonyms accepted in sheets).
TAG_VOCABULARY: dict[str, tuple[str, tuple[str, ...]]] = {
    "elderly": ("老人", ("老年人", "独居老人", "空巢老人", "高龄老人", "留守老人")),
    "student": ("学生", ("在校学生", "大学生", "中学生", "小学生")),
    "youth": ("青少年", ("留守儿童", "未成年人", "儿童")),
    "woman": ("妇女", ("宝妈", "全职妈妈")),
    "enterprise_finance": ("企业财务", ("财务", "会计", "出纳", "财务人员")),
    "worker_merchant": ("务工经商", ("务工", "经商", "外来务工", "外出务工", "务工人员", "个体户", "商户")),
    "low_income": ("低保户", ("低保", "困难户", "特困")),
    "disabled": ("残疾人", ("残障", "残疾")),
    "key_person": ("重点人员", ("重点关注",)),
}
TAGS: dict[str, str] = {}
for _tag, (_word, _synonyms) in TAG_VOCABULARY.items():
    for _name in (_tag, _word, *_synonyms):
        TAGS[_name.lower()] = _tag
ACCEPTED_TAGS_TEXT = "、".join(word for word, _synonyms in TAG_VOCABULARY.values())
TAG_SPLIT_RE = re.compile(r"[,，、;；/\s]+")

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
PHONE_JUNK_RE = re.compile(r"[\s\-－—–()（）.]")
PHONE_FORMAT_TEXT = "电话号码格式不正确（手机 11 位，如 138 1234 5670；座机带区号，如 0571-87654321）"

# What the template's header comments say, per column.
COLUMN_HELP = {
    "code": "户编号：同一区域内每户唯一（如 V1-001），不同村组可以重号；重号时在“区域编码”列写明是哪个区域的住户。同一户的成员行可只在第一行填写户级信息，下面各行留空即沿用。",
    "address": "地址：户级信息，每户填一次即可。",
    "house_number": "门牌号：户级信息，用于按走访顺序排列（2号排在10号前）。",
    "head_name": "户主姓名：户级信息。",
    "phone": "联系电话：户级信息。手机或带区号座机均可，如 138-1234-5670、+86 138…、0571-87654321。",
    "name": "成员姓名：每个成员一行，同一户内不能重名。",
    "sex": "性别：男 / 女，可不填。",
    "age_band": "年龄段：" + "、".join(AGE_BANDS) + "，或 未成年/青年/中年/老年/高龄，可不填。",
    "tags": "标签，可填多个（用顿号或逗号分隔）：" + ACCEPTED_TAGS_TEXT + "；也接受独居老人、空巢老人、留守儿童、外来务工等常用说法。",
}
TEMPLATE_COLUMNS = ("code", "address", "house_number", "head_name", "phone", "name", "sex", "age_band", "tags")
TEMPLATE_ROWS = (
    ("V1-001", "甲村一组", "2", "张三", "138 1234 5670", "张三", "男", "36-59", ""),
    ("", "", "", "", "", "李四", "女", "70+", "独居老人"),
    ("V1-002", "甲村一组", "10", "王五", "0571-87654321", "王五", "男", "18-35", "外来务工"),
)


class Progress:
    """How far an import is, for whoever watches it (a progress bar, a background job).

    ``stage`` starts a step: ``read`` (opening the file), ``check`` (``total`` data rows) or
    ``write`` (``total`` households and members to insert or update); ``advance`` counts done
    items of the current step. This base class ignores both.
    """

    def stage(self, name: str, total: int = 0) -> None:
        """A new step begins."""

    def advance(self, count: int) -> None:
        """``count`` more items of the current step are done."""


@dataclass
class ImportReport:
    """What an import did (or, for a dry run, would do)."""

    rows: int = 0
    households_created: int = 0
    households_updated: int = 0
    households_unchanged: int = 0
    members_created: int = 0
    members_updated: int = 0
    members_unchanged: int = 0
    dry_run: bool = False


# --- cells ---------------------------------------------------------------------------------

def normalize_phone(value: str) -> str | None:
    """A phone in the usual spellings → ``13812345670`` or ``0571-87654321``; None if invalid.

    Accepts spaces, dashes and brackets, full-width digits, ``+86`` / ``0086`` / ``86`` before a
    mobile number, and landlines with an area code (010 and 02x have three digits, others four).
    """
    text = PHONE_JUNK_RE.sub("", unicodedata.normalize("NFKC", value or ""))
    international = False
    for prefix in ("+86", "0086"):
        if text.startswith(prefix):
            text, international = text[len(prefix):], True
            break
    else:
        if len(text) == 13 and text.startswith("861"):
            text, international = text[2:], True
    if not text.isdigit():
        return None
    if MOBILE_RE.match(text):
        return text
    if international and not text.startswith("0"):
        text = "0" + text  # +86 571 8765 4321: the area code loses its 0 abroad
    if not text.startswith("0"):
        return None
    area_length = 3 if text[1] in "12" else 4
    area, number = text[:area_length], text[area_length:]
    if len(number) not in (7, 8) or number.startswith("0"):
        return None
    return f"{area}-{number}"


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return clean(str(value))


def read_rows(filename: str, data: bytes) -> tuple[list[str], list[list[str]] | Iterable[list[str]], int]:
    """Header, data rows and how many data rows there are (at most; blank rows included) of a
    CSV (UTF-8 or GBK) or XLSX file (merged cells filled in); control characters stripped."""
    name = (filename or "").lower()
    if name.endswith(".xlsx") or data[:4] == b"PK\x03\x04":
        return _read_xlsx(data)
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
    rows = list(csv.reader(io.StringIO(clean(text))))  # tab, CR and LF are kept: CSV needs them
    return (rows[0] if rows else []), rows[1:], max(len(rows) - 1, 0)


def _read_xlsx(data: bytes) -> tuple[list[str], Iterable[list[str]], int]:
    # Not read-only: merged cell ranges are only known to a fully loaded sheet.
    try:
        workbook = load_workbook(io.BytesIO(data), data_only=True)
    except Exception as exc:
        raise ValidationFailed("无法读取 XLSX 文件，请确认文件未损坏",
                               details={"file": ["不是有效的 XLSX 文件"]}) from exc
    sheet = workbook.worksheets[0]
    for merged in list(sheet.merged_cells.ranges):
        top_left = sheet.cell(merged.min_row, merged.min_col).value
        sheet.unmerge_cells(str(merged))
        for row in sheet.iter_rows(min_row=merged.min_row, max_row=merged.max_row,
                                   min_col=merged.min_col, max_col=merged.max_col):
            for cell in row:
                cell.value = top_left
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None) or ()

    def cells(values: Iterable) -> list[str]:
        return [_cell_text(v) for v in values]

    return cells(header), (cells(r) for r in rows), max(sheet.max_row - 1, 0)


# --- parse and check -----------------------------------------------------------------------

def _columns(header: list[str]) -> list[str | None]:
    columns = [HEADER_MAP.get(str(name).strip()) for name in header]
    missing = [COLUMN_LABELS[c] for c in REQUIRED if c not in columns]
    if missing:
        raise ValidationFailed("缺少必需的列：" + "、".join(missing),
                               details={"columns": missing, "header": header})
    return columns


def _parse(header: list[str], rows: Iterable[list[str]], errors: list[dict],
           progress: Progress) -> list[dict]:
    """Rows as records, household columns inherited from the household's first row."""
    columns = _columns(header)
    parsed: list[dict] = []
    current: dict[str, str] | None = None  # the household columns in force
    tick = 0
    for number, raw in enumerate(rows, start=2):
        tick += 1
        if tick == PROGRESS_EVERY:
            progress.advance(tick)
            tick = 0
        if not any((c or "").strip() for c in raw):
            continue
        record: dict = {}
        for key, value in zip(columns, raw, strict=False):
            if key:
                record[key] = (value or "").strip()
        code = record.get("code", "")
        if code and (current is None or code != current["code"]
                     or (record.get("region") and current["region"] and record["region"] != current["region"])):
            # Codes are unique per region: the same code in another region is another household.
            current = {k: record.get(k, "") for k in HOUSEHOLD_COLUMNS}
        elif current is not None and _continues(record, current):
            for key in HOUSEHOLD_COLUMNS:
                if not record.get(key):
                    record[key] = current[key]
                elif not current[key]:
                    current[key] = record[key]  # given late: the rows below inherit it too
        row_errors = _check_row(record)
        errors.extend({"row": number, "column": COLUMN_LABELS[c], "reason": r} for c, r in row_errors)
        record["_row"] = number
        parsed.append(record)
    if tick:
        progress.advance(tick)
    return parsed


def _continues(record: dict, current: dict[str, str]) -> bool:
    """A row without 户编号 belongs to the household above unless it names a different address,
    head or phone (then it is a new household whose 户编号 is missing)."""
    if record.get("code"):
        return True
    return all(not record.get(k) or not current[k] or record[k] == current[k]
               for k in HOUSEHOLD_COLUMNS if k != "code")


def _check_row(record: dict) -> list[tuple[str, str]]:
    errs = []
    for col in REQUIRED:
        if not record.get(col):
            errs.append((col, "不能为空"))
    for col, limit in LIMITS.items():
        if len(record.get(col, "")) > limit:
            errs.append((col, CODE_TOO_LONG if col == "code" else f"不能超过 {limit} 个字"))
    for col in ("phone", "member_phone"):
        value = record.get(col)
        if value:
            phone = normalize_phone(value)
            if phone is None:
                errs.append((col, PHONE_FORMAT_TEXT))
            else:
                record[col] = phone
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
    unknown = [t for t in tags if t.lower() not in TAGS]
    if unknown:
        errs.append(("tags", "未知的标签：" + "、".join(unknown) + "。可用的标签：" + ACCEPTED_TAGS_TEXT))
    record["tags"] = sorted({TAGS[t.lower()] for t in tags if t.lower() in TAGS})
    return errs


Key = tuple[str, int]  # (户编号, region id): what names a household


def _group(records: list[dict], region: Region, subtree_regions: dict[str, int],
           errors: list[dict]) -> dict[Key, dict]:
    """Records grouped into households by (code, region); household columns that disagree are
    errors."""
    households: dict[Key, dict] = {}
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
        house = households.get((code, rid))
        values = {"region_id": rid, "address": rec.get("address", ""),
                  "house_number": rec.get("house_number", ""), "head_name": rec.get("head_name", ""),
                  "phone": rec.get("phone") or None}
        if house is None:
            households[(code, rid)] = house = {"code": code, **values, "_row": number, "members": {}}
        else:
            for key, label in (("address", "地址"), ("head_name", "户主"), ("phone", "联系电话")):
                if values[key] != house[key]:
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
    return households


# --- import --------------------------------------------------------------------------------

HOUSEHOLD_FIELDS = ("region_id", "address", "house_number", "head_name", "phone")
MEMBER_FIELDS = ("sex", "age_band", "tags", "phone")


def import_households(scope: Scope | None, region_code: str, filename: str, data: bytes, *,
                      progress: Progress | None = None, dry_run: bool = False,
                      before_commit: Callable[[ImportReport], None] | None = None) -> ImportReport:
    """Validate every row, then insert or update all households and members, or nothing.

    One row per member; rows sharing a 户编号 form one household. Re-importing a code updates
    that household (members matched by name); rows that did not change count as unchanged.
    ``scope`` None means the CLI (no jurisdiction); ``dry_run`` checks and counts, writes nothing.
    ``progress`` hears each step; ``before_commit`` runs inside the import's transaction just
    before it commits (raise to roll everything back).
    """
    progress = progress or Progress()
    filename = clean(filename or "")
    if scope is not None:
        scope.require_role(*IMPORT_ROLES)
        region = get_in_scope(scope, region_code)
    else:
        region = get_by_code(region_code)
        if region is None:
            raise ValidationFailed("区域不存在", details={"region": [f"未知的区域：{region_code}"]})
    progress.stage("read")
    header, rows, total = read_rows(filename, data)
    progress.stage("check", total)
    errors: list[dict] = []
    records = _parse(header, rows, errors, progress)
    if not records and not errors:
        raise ValidationFailed("文件中没有数据行", details={"file": ["没有数据行"]})

    # Regions a row may name: the target region's subtree, by code.
    subtree_regions = dict(db.session.execute(
        sa.select(Region.code, Region.id).where(Region.path.startswith(region.path, autoescape=True))).all())
    households = _group(records, region, subtree_regions, errors)
    existing = _match_existing(households, region.path, errors)
    if errors:
        errors.sort(key=lambda e: (e["row"], e["column"]))
        raise ValidationFailed(f"共有 {len(errors)} 处错误，未导入任何数据",
                               code="import_invalid", details={"errors": errors[:1000],
                                                                "error_count": len(errors)})
    try:
        report = _write(households, existing, dry_run=dry_run, progress=progress)
        report.rows = len(records)
        if dry_run:
            db.session.rollback()
            return report
        audit.record(actor(scope) if scope else None, "household_import", region_id=region.id,
                     target=filename[:200] if filename else None,
                     details={k: v for k, v in vars(report).items() if k != "dry_run"})
        if before_commit is not None:
            before_commit(report)
        db.session.commit()
    except IntegrityError as exc:  # another import registered one of these codes meanwhile
        db.session.rollback()
        raise Conflict("有户编号刚被另一次导入登记，未导入任何数据，请重新上传预检",
                       code="import_conflict") from exc
    except BaseException:
        db.session.rollback()
        raise
    return report


def _match_existing(households: dict[Key, dict], path: str, errors: list[dict]) -> dict[Key, dict]:
    """The registered household each sheet household updates, looked up in the subtree only.

    A sheet household takes the household of the same code in its own region; else the only
    one in the subtree holding the code, if no other sheet household has that code (a move);
    else it is new. Several holders and none in the row's region: the row must name it."""
    sheet_codes = Counter(code for code, _rid in households)  # sheet households per code
    codes = sorted(sheet_codes)
    found: dict[str, list[dict]] = defaultdict(list)
    columns = [getattr(Household, f) for f in HOUSEHOLD_FIELDS]
    subtree = subtree_ids_query(path)
    for start in range(0, len(codes), CHUNK):
        for row in db.session.execute(
                sa.select(Household.id, Household.code, *columns)
                .where(Household.code.in_(codes[start:start + CHUNK]), Household.region_id.in_(subtree))):
            found[row.code].append({"id": row.id, **{f: getattr(row, f) for f in HOUSEHOLD_FIELDS}})
    existing: dict[Key, dict] = {}
    for (code, rid), house in households.items():
        holders = found.get(code, [])
        same = [old for old in holders if old["region_id"] == rid]
        if same:
            existing[(code, rid)] = same[0]
        elif len(holders) == 1 and sheet_codes[code] == 1:
            existing[(code, rid)] = holders[0]
        elif len(holders) > 1:
            errors.append({"row": house["_row"], "column": "户编号", "reason": CODE_AMBIGUOUS})
    return existing


def _existing_members(household_ids: list[int]) -> dict[tuple[int, str], dict]:
    members: dict[tuple[int, str], dict] = {}
    columns = [getattr(Member, f) for f in MEMBER_FIELDS]
    for start in range(0, len(household_ids), CHUNK):
        for row in db.session.execute(
                sa.select(Member.id, Member.household_id, Member.name, *columns)
                .where(Member.household_id.in_(household_ids[start:start + CHUNK]))):
            members[(row.household_id, row.name)] = {
                "id": row.id, **{f: getattr(row, f) for f in MEMBER_FIELDS}}
    return members


def _same(new: dict, old: dict, fields: tuple[str, ...]) -> bool:
    def norm(field, value):
        if field == "tags":
            return sorted(value or [])
        return value or None if field in ("phone", "sex", "age_band") else value

    return all(norm(f, new[f]) == norm(f, old[f]) for f in fields)


def _write(households: dict[str, dict], existing: dict[str, dict], *, dry_run: bool,
           progress: Progress) -> ImportReport:
    report = ImportReport(dry_run=dry_run)
    now = utcnow()
    new_rows, update_rows = [], []
    old_members = _existing_members([old["id"] for old in existing.values()])
    members_changed: set[Key] = set()
    member_new: list[tuple[Key, dict]] = []
    member_upd = []
    for key, house in households.items():
        code = house["code"]
        old = existing.get(key)
        for m in house["members"].values():
            prev = old_members.get((old["id"], m["name"])) if old else None
            values = {f: m[f] for f in MEMBER_FIELDS}
            if prev is None:
                member_new.append((key, {"name": m["name"], **values}))
                members_changed.add(key)
            elif not _same(values, prev, MEMBER_FIELDS):
                member_upd.append({"b_id": prev["id"], **{f"b_{k}": v for k, v in values.items()}})
                members_changed.add(key)
            else:
                report.members_unchanged += 1
        values = {f: house[f] for f in HOUSEHOLD_FIELDS}
        if old is None:
            new_rows.append({"code": code, **values, "invite_code": new_invite_code(),
                             "member_count": len(house["members"]), "members_quizzed": 0,
                             "quiz_count": 0, "score_sum": 0, "visit_count": 0,
                             "created_at": now, "updated_at": now})
        elif not _same(values, old, HOUSEHOLD_FIELDS) or key in members_changed:
            update_rows.append({"b_id": old["id"], **{f"b_{k}": v for k, v in values.items()}, "b_now": now})
        else:
            report.households_unchanged += 1
    report.households_created, report.households_updated = len(new_rows), len(update_rows)
    report.members_created, report.members_updated = len(member_new), len(member_upd)
    if dry_run:
        return report

    progress.stage("write", len(new_rows) + len(update_rows) + len(member_new) + len(member_upd))
    before = _locked_figures([row["b_id"] for row in update_rows])
    for start in range(0, len(new_rows), CHUNK):
        db.session.execute(sa.insert(Household), new_rows[start:start + CHUNK])
        progress.advance(len(new_rows[start:start + CHUNK]))
    if update_rows:
        table = Household.__table__
        stmt = (sa.update(table).where(table.c.id == sa.bindparam("b_id"))
                .values(region_id=sa.bindparam("b_region_id"), address=sa.bindparam("b_address"),
                        house_number=sa.bindparam("b_house_number"), head_name=sa.bindparam("b_head_name"),
                        phone=sa.bindparam("b_phone"), updated_at=sa.bindparam("b_now")))
        for start in range(0, len(update_rows), CHUNK):
            db.session.execute(stmt, update_rows[start:start + CHUNK])
            progress.advance(len(update_rows[start:start + CHUNK]))

    ids: dict[Key, int] = {key: old["id"] for key, old in existing.items()}
    new_keys = {(r["code"], r["region_id"]) for r in new_rows}
    new_codes = sorted({code for code, _rid in new_keys})
    for start in range(0, len(new_codes), CHUNK):
        ids.update({(code, rid): hid for hid, code, rid in db.session.execute(
            sa.select(Household.id, Household.code, Household.region_id)
            .where(Household.code.in_(new_codes[start:start + CHUNK]))) if (code, rid) in new_keys})
    inserts = [{"household_id": ids[key], **values} for key, values in member_new]
    for start in range(0, len(inserts), CHUNK):
        db.session.execute(sa.insert(Member), inserts[start:start + CHUNK])
        progress.advance(len(inserts[start:start + CHUNK]))
    if member_upd:
        table = Member.__table__
        stmt = (sa.update(table).where(table.c.id == sa.bindparam("b_id")).values(
            sex=sa.bindparam("b_sex"), age_band=sa.bindparam("b_age_band"),
            tags=sa.bindparam("b_tags", type_=sa.JSON), phone=sa.bindparam("b_phone")))
        for start in range(0, len(member_upd), CHUNK):
            db.session.execute(stmt, member_upd[start:start + CHUNK])
            progress.advance(len(member_upd[start:start + CHUNK]))
    grown = [existing[k]["id"] for k in households if k in existing and k in members_changed]
    if grown:
        count = (sa.select(sa.func.count(Member.id)).where(Member.household_id == Household.id)
                 .scalar_subquery())
        for start in range(0, len(grown), CHUNK):
            db.session.execute(sa.update(Household).where(Household.id.in_(grown[start:start + CHUNK]))
                               .values(member_count=count).execution_options(synchronize_session=False))
    _count(households, new_rows, update_rows, member_new, before)
    return report


def _locked_figures(household_ids: list[int]) -> dict[int, dict]:
    """What the region counters hold for households about to be updated, read under a row lock
    (PostgreSQL), so a quiz or visit credited meanwhile moves with a household that moves."""
    figures: dict[int, dict] = {}
    for start in range(0, len(household_ids), CHUNK):
        for row in db.session.execute(
                sa.select(Household.id, Household.region_id, Household.member_count,
                          Household.members_quizzed, Household.quiz_count, Household.visit_count,
                          Household.last_visit_at)
                .where(Household.id.in_(household_ids[start:start + CHUNK])).with_for_update()):
            figures[row.id] = row._asdict()
    return figures


def _count(households: dict[Key, dict], new_rows: list[dict], update_rows: list[dict],
           member_new: list[tuple[Key, dict]], before: dict[int, dict]) -> None:
    """Tell the region counters what the import changed (written when the import commits)."""
    added: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for row in new_rows:
        added[row["region_id"]][0] += 1
        added[row["region_id"]][1] += row["member_count"]
    new_keys = {(row["code"], row["region_id"]) for row in new_rows}
    for key, _values in member_new:
        if key not in new_keys:  # a new member of a household already registered
            added[households[key]["region_id"]][1] += 1
    for region_id, (count, members) in sorted(added.items()):
        counters.add(region_id, households_total=count, members_total=members)
    for row in update_rows:
        figures = before.get(row["b_id"])
        if figures is not None:
            counters.household_moved(figures, figures["region_id"], row["b_region_id"])


# --- the template --------------------------------------------------------------------------

def template_xlsx() -> bytes:
    """A household sheet to fill in: the headers (each with a comment saying what goes in it)
    and three example rows, the second inheriting its household's columns."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "住户"
    bold = Font(bold=True)
    for column, field_name in enumerate(TEMPLATE_COLUMNS, start=1):
        cell = sheet.cell(row=1, column=column, value=COLUMN_LABELS[field_name])
        cell.font = bold
        cell.comment = Comment(COLUMN_HELP[field_name], "quizbot", width=300, height=120)
        sheet.column_dimensions[cell.column_letter].width = 16
    for row in TEMPLATE_ROWS:
        sheet.append(list(row))
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
