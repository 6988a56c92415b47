"""Exports (CSV/XLSX, phones masked unless a county admin gives a reason) and stage summaries."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from ..errors import Forbidden, ValidationFailed
from ..extensions import db
from ..models import ChatLog, Household, QuizAnswer, QuizSession, Region, ScamType, Visit
from ..text import clean as clean_text
from . import audit, coverage
from .households import mask_phone
from .regions import Scope, actor, get_in_scope, subtree_ids_query

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOUSEHOLD_COLUMNS = [("code", "户编号"), ("region", "区域编码"), ("address", "地址"), ("house_number", "门牌号"),
                     ("head_name", "户主"), ("phone", "联系电话"), ("member_count", "成员数"),
                     ("members_quizzed", "已答题成员"), ("visited", "已走访"), ("quizzed", "已答题"),
                     ("last_visit_outcome", "最近走访结果")]
# Invite codes credit quizzes to a household: only the audited full export carries them.
INVITE_COLUMN = ("invite_code", "邀请码")
COVERAGE_COLUMNS = [("code", "区域编码"), ("name", "区域名称"), ("households_total", "总户数"),
                    ("households_visited", "已走访户数"), ("households_quizzed", "已答题户数"),
                    ("members_total", "总人数"), ("members_quizzed", "已答题人数"), ("coverage", "覆盖率"),
                    ("average_score", "平均分"), ("weakest", "薄弱类型")]
OUTCOME_TEXT = {"completed": "已完成", "not_home": "不在家", "refused": "拒绝", "assisted": "协助答题"}


def _cell(value):
    """A value a spreadsheet shows as written: no control characters (XLSX cannot hold them), and
    text that Excel would run as a formula (=, +, -, @ first) kept as text."""
    if not isinstance(value, str):
        return value
    value = clean_text(value)
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def _table(fmt: str, columns: list[tuple[str, str]], rows) -> bytes:
    if fmt == "xlsx":
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("数据")
        sheet.append([label for _key, label in columns])
        for row in rows:
            sheet.append([_cell(row.get(key)) for key, _label in columns])
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([label for _key, label in columns])
    for row in rows:
        writer.writerow(["" if row.get(key) is None else _cell(row.get(key)) for key, _label in columns])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # BOM: Excel opens UTF-8 CSV correctly


def export_households(scope: Scope, region_code: str | None, fmt: str, *, full: bool = False,
                      reason: str | None = None) -> tuple[bytes, str]:
    """The households of a region as CSV/XLSX; full phones only for county admins, with a reason."""
    region = get_in_scope(scope, region_code)
    if full:
        if scope.role not in ("admin", "county_admin"):
            raise Forbidden("只有县级管理员可以导出完整号码", code="full_export_forbidden")
        if not reason or not reason.strip():
            raise ValidationFailed("导出完整数据必须填写理由", details={"reason": ["缺少必填字段"]})
    result = db.session.execute(
        sa.select(Household, Region.code).join(Region, Region.id == Household.region_id)
        .where(Household.region_id.in_(subtree_ids_query(region.path)))
        .order_by(Region.path, Household.house_number, Household.code)
        .execution_options(yield_per=2000))

    def rows():
        for h, code in result:
            yield {"code": h.code, "region": code, "address": h.address, "house_number": h.house_number,
                   "head_name": h.head_name, "phone": h.phone if full else mask_phone(h.phone),
                   "member_count": h.member_count, "members_quizzed": h.members_quizzed,
                   "visited": "是" if h.visit_count else "否", "quizzed": "是" if h.quiz_count else "否",
                   "last_visit_outcome": OUTCOME_TEXT.get(h.last_visit_outcome or "", ""),
                   "invite_code": h.invite_code}

    body = _table(fmt, HOUSEHOLD_COLUMNS + ([INVITE_COLUMN] if full else []), rows())
    audit.record(actor(scope), "export_households_full" if full else "export_households",
                 region_id=region.id, target=f"{region.code}.{fmt}", reason=reason if full else None)
    db.session.commit()
    return body, f"households-{region.code}.{fmt}"


def export_coverage(scope: Scope, region_code: str | None, fmt: str) -> tuple[bytes, str]:
    """The coverage of a region and its children as CSV/XLSX (no personal data)."""
    data = coverage.rollup(scope, region_code)

    def flat(node: dict) -> dict:
        return {"code": node["region"]["code"], "name": node["region"]["name"],
                **{k: node[k] for k in ("households_total", "households_visited", "households_quizzed",
                                        "members_total", "members_quizzed", "coverage", "average_score")},
                "weakest": "、".join(t["name"] for t in node["weakest_scam_types"])}

    body = _table(fmt, COVERAGE_COLUMNS, [flat(data)] + [flat(c) for c in data["children"]])
    region = get_in_scope(scope, region_code)
    audit.record(actor(scope), "export_coverage", region_id=region.id, target=f"{region.code}.{fmt}")
    db.session.commit()
    return body, f"coverage-{region.code}.{fmt}"


# Dates a campaign summary may name. Beyond them the Shanghai → UTC conversion overflows
# (0001-01-01 minus 8 hours), and no campaign ran or will run there.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


def day_bounds(start: date | None, end: date | None, *,
               max_days: int | None = None) -> tuple[datetime | None, datetime | None]:
    """Asia/Shanghai days ``start``..``end`` (both included, either may be open) as UTC bounds
    ``lo <= t < hi``; dates outside FIRST_DAY..LAST_DAY, a reversed range or one longer than
    ``max_days`` are refused with 422."""
    for field, day in (("from", start), ("to", end)):
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            raise ValidationFailed("日期超出范围", details={field: [
                f"日期须在 {FIRST_DAY.isoformat()} 到 {LAST_DAY.isoformat()} 之间"]})
    if start is not None and end is not None:
        if end < start:
            raise ValidationFailed("结束日期不能早于开始日期", details={"to": ["早于开始日期"]})
        if max_days is not None and (end - start).days > max_days:
            raise ValidationFailed("时间范围不能超过一年", details={"to": ["范围过大"]})
    lo = datetime.combine(start, time.min, SHANGHAI).astimezone(UTC) if start else None
    hi = datetime.combine(end + timedelta(days=1), time.min, SHANGHAI).astimezone(UTC) if end else None
    return lo, hi


def stage_summary(scope: Scope, region_code: str | None, start: date, end: date) -> dict:
    """阶段工作总结 for a region and date range (Asia/Shanghai days, both ends included)."""
    region = get_in_scope(scope, region_code)
    lo, hi = day_bounds(start, end, max_days=366)
    ids = subtree_ids_query(region.path)
    households_total, members_total = db.session.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(Household.member_count), 0))
        .where(Household.region_id.in_(ids))).one()
    visits, households_visited = db.session.execute(
        sa.select(sa.func.count(), sa.func.count(sa.distinct(Visit.household_id)))
        .join(Household, Household.id == Visit.household_id)
        .where(Household.region_id.in_(ids), Visit.visited_at >= lo, Visit.visited_at < hi)).one()
    in_range = (QuizSession.credited.is_(True), QuizSession.region_id.in_(ids),
                QuizSession.submitted_at >= lo, QuizSession.submitted_at < hi)
    attempts, households_quizzed, members_quizzed, avg_score = db.session.execute(
        sa.select(sa.func.count(), sa.func.count(sa.distinct(QuizSession.household_id)),
                  sa.func.count(sa.distinct(QuizSession.member_id)), sa.func.avg(QuizSession.score))
        .where(*in_range)).one()
    per_type = db.session.execute(
        sa.select(QuizAnswer.scam_type_id, sa.func.count(),
                  sa.func.sum(sa.case((QuizAnswer.correct, 1), else_=0)))
        .join(QuizSession, QuizSession.id == QuizAnswer.session_id).where(*in_range)
        .group_by(QuizAnswer.scam_type_id)).all()
    names = dict(db.session.execute(sa.select(ScamType.id, ScamType.name)).all())
    weakest = sorted(((t, n, int(c or 0)) for t, n, c in per_type if n), key=lambda r: (r[2] / r[1], -r[1], r[0]))
    chat = db.session.execute(
        sa.select(ChatLog.top_scam_type, sa.func.count()).where(
            ChatLog.region_id.in_(ids), ChatLog.created_at >= lo, ChatLog.created_at < hi)
        .group_by(ChatLog.top_scam_type).order_by(sa.func.count().desc(), ChatLog.top_scam_type)).all()
    chat_by_type = [{"id": t, "name": names.get(t, t) if t else "其他/未识别", "count": n} for t, n in chat]
    data = {
        "region": {"code": region.code, "name": region.name, "level": region.level},
        "from": start.isoformat(), "to": end.isoformat(),
        "households_total": households_total, "members_total": int(members_total),
        "visits": visits, "households_visited": households_visited,
        "quiz_attempts": attempts, "households_quizzed": households_quizzed,
        "residents_quizzed": members_quizzed,
        "coverage": round(households_quizzed / households_total, 4) if households_total else 0.0,
        "average_score": round(float(avg_score), 1) if avg_score is not None else None,
        "weakest_scam_types": [{"id": t, "name": names.get(t, t), "correct_rate": round(c / n, 4), "answered": n}
                               for t, n, c in weakest[:3]],
        "chatbot_questions": sum(r["count"] for r in chat_by_type),
        "chatbot_questions_by_type": chat_by_type,
    }
    data["text"] = summary_text(data)
    return data


def summary_text(d: dict) -> str:
    """The summary as a paragraph an officer can paste into a report."""
    parts = [
        f"{d['from']}至{d['to']}，{d['region']['name']}共登记住户{d['households_total']}户、"
        f"居民{d['members_total']}人。期间开展入户走访{d['visits']}次，走访住户{d['households_visited']}户；"
        f"组织反诈答题{d['quiz_attempts']}人次，覆盖住户{d['households_quizzed']}户、"
        f"居民{d['residents_quizzed']}人，住户覆盖率{d['coverage'] * 100:.1f}%",
    ]
    if d["average_score"] is not None:
        parts[0] += f"，平均得分{d['average_score']:.1f}分"
    parts[0] += "。"
    if d["weakest_scam_types"]:
        weak = "、".join(f"{t['name']}（正确率{t['correct_rate'] * 100:.0f}%）" for t in d["weakest_scam_types"])
        parts.append(f"群众掌握较薄弱的诈骗类型为{weak}，下一步将作为宣传重点。")
    if d["chatbot_questions"]:
        top = "、".join(f"{t['name']}{t['count']}次" for t in d["chatbot_questions_by_type"][:3])
        parts.append(f"反诈咨询机器人共接受群众咨询{d['chatbot_questions']}次，咨询较多的是{top}。")
    uncovered = d["households_total"] - d["households_quizzed"]
    if uncovered > 0:
        parts.append(f"尚有{uncovered}户未完成答题，将继续入户走访，做到不漏一户、不漏一人。")
    return "".join(parts)


__all__ = ["export_coverage", "export_households", "stage_summary", "summary_text"]
