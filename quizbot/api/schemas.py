"""Request and response schemas: the same classes validate input and document the API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ..bank.taxonomy import AUDIENCES

# Field-level messages in Chinese, so a 422 reads naturally for the people who see it.
fields.Field.default_error_messages.update(
    {"required": "缺少必填字段", "null": "不能为 null", "validator_failed": "取值无效"}
)
fields.String.default_error_messages.update({"invalid": "必须是字符串"})
fields.Integer.default_error_messages.update({"invalid": "必须是整数"})
fields.Number.default_error_messages.update({"invalid": "必须是数字", "too_large": "数字太大"})
fields.Float.default_error_messages.update({"special": "不能是 NaN 或无穷大"})
fields.Boolean.default_error_messages.update({"invalid": "必须是布尔值"})
fields.List.default_error_messages.update({"invalid": "必须是列表"})
fields.Dict.default_error_messages.update({"invalid": "必须是对象"})
fields.Nested.default_error_messages.update({"type": "必须是对象"})
fields.DateTime.default_error_messages.update({"invalid": "不是有效的时间（请用 ISO 8601）"})


class BaseSchema(Schema):
    """Unknown fields are refused, in Chinese."""

    error_messages = {"unknown": "不支持的字段", "type": "请求体必须是 JSON 对象"}


def length(min_: int | None = None, max_: int | None = None) -> validate.Length:
    """A Length validator with a Chinese message."""
    return validate.Length(min=min_, max=max_, error="长度应在 {min}–{max} 之间")


def one_of(choices) -> validate.OneOf:
    """A OneOf validator with a Chinese message."""
    return validate.OneOf(list(choices), error="取值必须是以下之一：{choices}")


def int_range(min_: int, max_: int) -> validate.Range:
    """A Range validator with a Chinese message."""
    return validate.Range(min=min_, max=max_, error="取值应在 {min}–{max} 之间")


class ParticipantSchema(BaseSchema):
    client_id = fields.String(validate=length(1, 64), metadata={"description": "设备或用户的匿名标识，用于避免重复出题"})
    invite_code = fields.String(validate=length(1, 32), metadata={"description": "住户邀请码（扫码得到）"})
    member_id = fields.Integer(metadata={"description": "答题的家庭成员 id"})


class CreateSessionSchema(BaseSchema):
    count = fields.Integer(load_default=10, validate=int_range(1, 30))
    audience = fields.String(validate=one_of(AUDIENCES))
    scam_types = fields.List(fields.String(validate=length(1, 64)), validate=length(1, 25))
    participant = fields.Nested(ParticipantSchema)


class OptionSchema(Schema):
    key = fields.String()
    text = fields.String()


class PublicQuestionSchema(Schema):
    id = fields.String()
    type = fields.String(metadata={"description": "single 单选 / multiple 多选 / judge 判断"})
    stem = fields.String()
    options = fields.List(fields.Nested(OptionSchema))
    scam_type = fields.String()


class SessionCreatedSchema(Schema):
    session_id = fields.String()
    expires_at = fields.DateTime()
    questions = fields.List(fields.Nested(PublicQuestionSchema))


class SubmitAnswersSchema(BaseSchema):
    answers = fields.Dict(
        keys=fields.String(), values=fields.Raw(), required=True,
        validate=validate.Length(min=1, error="至少回答一道题"),
        metadata={"description": "题目 id → 选中的选项字母列表，例如 {\"q1\": [\"A\"]}"},
    )


class QuestionResultSchema(Schema):
    question_id = fields.String()
    correct = fields.Boolean()
    your_answer = fields.List(fields.String())
    correct_answer = fields.List(fields.String())
    explanation = fields.String()
    scam_type = fields.String()


class WeakTypeSchema(Schema):
    id = fields.String()
    name = fields.String()
    wrong = fields.Integer()


class QuizResultSchema(Schema):
    score = fields.Integer()
    correct_count = fields.Integer()
    total = fields.Integer()
    results = fields.List(fields.Nested(QuestionResultSchema))
    weak_scam_types = fields.List(fields.Nested(WeakTypeSchema))
    advice = fields.List(fields.String())


class SubmittedResultSchema(QuizResultSchema):
    held_for_review = fields.Boolean(metadata={"description": "需要工作人员核对后才计入住户成绩"})
    notice = fields.String(allow_none=True, metadata={"description": "给居民看的说明（核对中时）"})


class SessionStateSchema(Schema):
    session_id = fields.String()
    state = fields.String(metadata={"description": "open / submitted / expired"})
    created_at = fields.DateTime()
    expires_at = fields.DateTime()
    submitted_at = fields.DateTime(allow_none=True)
    questions = fields.List(fields.Nested(PublicQuestionSchema))
    result = fields.Nested(QuizResultSchema, allow_none=True)
    held_for_review = fields.Boolean()
    notice = fields.String(allow_none=True)


class ScamTypeSchema(Schema):
    id = fields.String()
    kind = fields.String()
    name = fields.String()
    aliases = fields.List(fields.String())
    summary = fields.String()
    warning = fields.String()
    advice = fields.List(fields.String())
    red_flags = fields.List(fields.String())
    sources = fields.List(fields.String())


def envelope(schema: type[Schema] | Schema, many: bool = False, name: str | None = None) -> type[Schema]:
    """A ``{"data": …}`` schema around ``schema`` for documentation and output."""
    inner = fields.List(fields.Nested(schema)) if many else fields.Nested(schema)
    base = schema if isinstance(schema, type) else type(schema)
    return Schema.from_dict({"data": inner}, name=name or f"{base.__name__}{'List' if many else ''}Envelope")


class ErrorBodySchema(Schema):
    code = fields.String()
    message = fields.String()
    details = fields.Raw(allow_none=True)


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema)
