"""Schemas of the officers' side: input validation (Chinese messages) and documented output."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ..models import ROLES
from ..services.visits import OUTCOMES
from .schemas import BaseSchema, int_range, length, one_of


class LoginSchema(BaseSchema):
    username = fields.String(required=True, validate=length(1, 64))
    password = fields.String(required=True, validate=length(1, 128))


class TokenSchema(Schema):
    token = fields.String(metadata={"description": "放在 Authorization: Bearer <token> 中"})
    token_type = fields.String()
    expires_at = fields.DateTime()
    user = fields.Raw()


class PasswordChangeSchema(BaseSchema):
    old_password = fields.String(required=True, validate=length(1, 128))
    new_password = fields.String(required=True, validate=length(8, 128))


class UserSchema(Schema):
    username = fields.String()
    role = fields.String()
    region = fields.String(allow_none=True)
    active = fields.Boolean()


class UserCreateSchema(BaseSchema):
    username = fields.String(required=True, validate=validate.Regexp(
        r"^[A-Za-z0-9_.\-]{2,64}$", error="用户名为 2–64 位字母、数字、下划线、点或短横线"))
    password = fields.String(required=True, validate=length(8, 128))
    role = fields.String(required=True, validate=one_of(ROLES))
    region = fields.String(required=True, validate=length(1, 32))


class UserUpdateSchema(BaseSchema):
    role = fields.String(validate=one_of(ROLES))
    region = fields.String(validate=length(1, 32))
    active = fields.Boolean()


class RegionArgsSchema(BaseSchema):
    region = fields.String(validate=length(1, 32), metadata={"description": "区域编码，缺省为本人所在区域"})


class PageArgsSchema(RegionArgsSchema):
    page = fields.Integer(load_default=1, validate=int_range(1, 1_000_000))
    per_page = fields.Integer(load_default=50, validate=int_range(1, 500))


class HouseholdArgsSchema(PageArgsSchema):
    q = fields.String(validate=length(1, 64), metadata={"description": "按户编号、地址、户主、电话搜索"})
    status = fields.String(validate=one_of(("quizzed", "not_quizzed", "visited", "not_visited", "held")))


class HouseholdLookupArgsSchema(BaseSchema):
    region = fields.String(validate=length(1, 64), metadata={
        "description": "住户所在区域编码：户编号只在本区域内唯一，辖区内有重号时必填"})


class RegionSchema(Schema):
    code = fields.String()
    name = fields.String()
    level = fields.Integer()
    parent_code = fields.String(allow_none=True)
    path = fields.String()


class RegionDetailSchema(RegionSchema):
    children = fields.List(fields.Nested(RegionSchema))


class RegionCreateSchema(BaseSchema):
    code = fields.String(required=True, validate=length(1, 32))
    name = fields.String(required=True, validate=length(1, 100))
    parent_code = fields.String(required=True, allow_none=True, validate=length(1, 32))


class RegionUpdateSchema(BaseSchema):
    name = fields.String(validate=length(1, 100))
    parent_code = fields.String(validate=length(1, 32), metadata={"description": "移动到新的上级区域"})


class CampaignCreateSchema(BaseSchema):
    region = fields.String(required=True, validate=length(1, 32))
    name = fields.String(required=True, validate=length(1, 100))


class CampaignSchema(Schema):
    code = fields.String()
    name = fields.String()
    region = fields.String()
    url = fields.String()
    created_at = fields.DateTime()


class MemberSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    sex = fields.String(allow_none=True)
    age_band = fields.String(allow_none=True)
    tags = fields.List(fields.String())
    phone = fields.String(allow_none=True, metadata={"description": "已脱敏，如 138****1234"})
    quizzed = fields.Boolean()
    quizzed_at = fields.DateTime(allow_none=True)


class HouseholdSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    region = fields.String()
    address = fields.String()
    house_number = fields.String()
    head_name = fields.String()
    phone = fields.String(allow_none=True, metadata={"description": "已脱敏，如 138****1234"})
    member_count = fields.Integer()
    members_quizzed = fields.Integer()
    visited = fields.Boolean()
    quizzed = fields.Boolean()
    quiz_count = fields.Integer()
    average_score = fields.Float(allow_none=True)
    last_visit_at = fields.DateTime(allow_none=True)
    last_visit_outcome = fields.String(allow_none=True)
    last_quiz_at = fields.DateTime(allow_none=True)
    held = fields.Boolean(metadata={"description": "有答题或走访正在等待审核（刷数核查）"})
    held_reasons = fields.List(fields.String(), metadata={"description": "待审核的原因"})


class RevisitSchema(HouseholdSchema):
    revisit_reasons = fields.List(fields.String(), metadata={
        "description": "为什么需要回访：未答题成员 N 人 / 上次不在家 / 拒绝 / 待审核"})


class HouseholdDetailSchema(HouseholdSchema):
    invite_code = fields.String(metadata={"description": "邀请码（只在单户详情中提供，列表和默认导出中没有）"})
    invite_url = fields.String()
    members = fields.List(fields.Nested(MemberSchema))


class PageMetaSchema(Schema):
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


def page_envelope(schema: type[Schema], name: str) -> type[Schema]:
    """``{"data": [...], "meta": {page, per_page, total}}``."""
    return Schema.from_dict({"data": fields.List(fields.Nested(schema)),
                             "meta": fields.Nested(PageMetaSchema)}, name=name)


class ImportReportSchema(Schema):
    rows = fields.Integer()
    households_created = fields.Integer()
    households_updated = fields.Integer()
    households_unchanged = fields.Integer(metadata={"description": "与已登记内容完全相同，未改动"})
    members_created = fields.Integer()
    members_updated = fields.Integer()
    members_unchanged = fields.Integer()


class VisitCreateSchema(BaseSchema):
    id = fields.String(required=True, validate=length(8, 64),
                       metadata={"description": "手机端生成的走访编号（如 UUID），重发不会重复记录"})
    household = fields.String(required=True, validate=length(1, 64), metadata={"description": "户编号"})
    region = fields.String(validate=length(1, 64), metadata={
        "description": "住户所在区域编码：户编号只在本区域内唯一，辖区内有重号时必填"})
    outcome = fields.String(required=True, validate=one_of(OUTCOMES))
    visited_at = fields.AwareDateTime(required=True, default_timezone=None,
                                      error_messages={"invalid": "不是有效的时间（请用 ISO 8601）",
                                                      "invalid_awareness": "时间必须带时区"})
    latitude = fields.Float(validate=validate.Range(-90, 90, error="纬度应在 -90–90 之间"), allow_none=True)
    longitude = fields.Float(validate=validate.Range(-180, 180, error="经度应在 -180–180 之间"), allow_none=True)
    note = fields.String(validate=length(0, 500), allow_none=True)


class VisitSchema(Schema):
    id = fields.String(attribute="client_id")
    household = fields.String()
    outcome = fields.String()
    visited_at = fields.DateTime()
    latitude = fields.Float(allow_none=True)
    longitude = fields.Float(allow_none=True)
    note = fields.String(allow_none=True)
    officer = fields.String()
    held_for_review = fields.Boolean()


class WeakestSchema(Schema):
    id = fields.String()
    name = fields.String()
    correct_rate = fields.Float()
    answered = fields.Integer()


class RegionRefSchema(Schema):
    code = fields.String(allow_none=True)
    name = fields.String()
    level = fields.Integer()


class CoverageNodeSchema(Schema):
    region = fields.Nested(RegionRefSchema)
    households_total = fields.Integer()
    households_visited = fields.Integer()
    households_quizzed = fields.Integer()
    members_total = fields.Integer()
    members_quizzed = fields.Integer()
    coverage = fields.Float(metadata={"description": "已答题户数 / 总户数，0–1"})
    quiz_attempts = fields.Integer()
    average_score = fields.Float(allow_none=True)
    weakest_scam_types = fields.List(fields.Nested(WeakestSchema))
    last_activity = fields.DateTime(allow_none=True)


class CoverageSchema(CoverageNodeSchema):
    children = fields.List(fields.Nested(CoverageNodeSchema))


class ExportArgsSchema(RegionArgsSchema):
    format = fields.String(load_default="csv", validate=one_of(("csv", "xlsx")))
    full = fields.Boolean(load_default=False, metadata={"description": "导出完整号码（仅县级管理员，需填理由）"})
    reason = fields.String(validate=length(1, 500))


class SummaryArgsSchema(RegionArgsSchema):
    from_ = fields.Date(data_key="from", required=True, error_messages={"invalid": "不是有效的日期（YYYY-MM-DD）"})
    to = fields.Date(required=True, error_messages={"invalid": "不是有效的日期（YYYY-MM-DD）"})


class ChatTypeSchema(Schema):
    id = fields.String(allow_none=True)
    name = fields.String()
    count = fields.Integer()


class SummarySchema(Schema):
    region = fields.Nested(RegionRefSchema)
    from_ = fields.String(data_key="from", attribute="from")
    to = fields.String()
    households_total = fields.Integer()
    members_total = fields.Integer()
    visits = fields.Integer()
    households_visited = fields.Integer()
    quiz_attempts = fields.Integer()
    households_quizzed = fields.Integer()
    residents_quizzed = fields.Integer()
    coverage = fields.Float()
    average_score = fields.Float(allow_none=True)
    weakest_scam_types = fields.List(fields.Nested(WeakestSchema))
    chatbot_questions = fields.Integer()
    chatbot_questions_by_type = fields.List(fields.Nested(ChatTypeSchema))
    text = fields.String(metadata={"description": "可直接粘贴到工作总结中的中文段落"})


class FlagArgsSchema(PageArgsSchema):
    status = fields.String(validate=one_of(("pending", "accepted", "rejected")))


class FlagSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    reasons = fields.List(fields.String())
    reason_text = fields.List(fields.String())
    region = fields.String(allow_none=True)
    session_id = fields.String(allow_none=True)
    visit_id = fields.Integer(allow_none=True)
    status = fields.String()
    created_at = fields.DateTime()
    reviewed_at = fields.DateTime(allow_none=True)


class FlagReviewSchema(BaseSchema):
    decision = fields.String(required=True, validate=one_of(("accept", "reject")))
    note = fields.String(validate=length(0, 500), allow_none=True,
                         metadata={"description": "审核备注，记入审计日志"})


class AuditSchema(Schema):
    id = fields.Integer()
    created_at = fields.DateTime()
    username = fields.String(allow_none=True)
    action = fields.String()
    region = fields.String(allow_none=True)
    target = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    details = fields.Raw(allow_none=True)
