"""Item statistics for officers: which questions are too easy, too hard or misleading."""

from __future__ import annotations

from marshmallow import fields

from ..services import item_stats
from .auth import current_scope, officer_blueprint
from .officer_schemas import RegionArgsSchema
from .schemas import Schema, envelope, int_range

bp = officer_blueprint("question_stats", __name__, "/api/v1", "题目统计")


class StatsArgsSchema(RegionArgsSchema):
    min_attempts = fields.Integer(load_default=item_stats.DEFAULT_MIN_ATTEMPTS, validate=int_range(1, 100_000),
                                  metadata={"description": "至少多少人次作答才判断是否需要复查"})


class ItemSchema(Schema):
    id = fields.String()
    type = fields.String(allow_none=True)
    stem = fields.String(allow_none=True)
    scam_type = fields.String()
    attempts = fields.Integer()
    correct_rate = fields.Float(metadata={"description": "答对比例 0–1"})
    discrimination = fields.Float(allow_none=True, metadata={
        "description": "区分度：本题对错与其余题得分的点二列相关系数（-1–1），样本不足为 null"})


class ReviewItemSchema(ItemSchema):
    reasons = fields.List(fields.String(), metadata={
        "description": "too_easy（>95% 答对）/ too_hard（<20% 答对）/ negative_discrimination"})
    notes = fields.List(fields.String())


class TypeRateSchema(Schema):
    id = fields.String()
    name = fields.String()
    attempts = fields.Integer()
    correct_rate = fields.Float()


class StatsRegionSchema(Schema):
    code = fields.String()
    name = fields.String()
    level = fields.Integer()


class QuestionStatsSchema(Schema):
    region = fields.Nested(StatsRegionSchema)
    sessions = fields.Integer(metadata={"description": "区域内已提交的答题次数"})
    min_attempts = fields.Integer()
    questions = fields.List(fields.Nested(ItemSchema))
    scam_types = fields.List(fields.Nested(TypeRateSchema))
    review = fields.List(fields.Nested(ReviewItemSchema))


@bp.route("/questions/stats")
@bp.arguments(StatsArgsSchema, location="query")
@bp.response(200, envelope(QuestionStatsSchema))
def get_question_stats(args: dict):
    """Per question: attempts, correct rate and discrimination; per scam type: correct rate;
    and the questions to review — over the quizzes of a region and everything under it."""
    return {"data": item_stats.for_scope(current_scope(), args.get("region"),
                                         min_attempts=args["min_attempts"])}
