"""GET /api/v1/health: is the app up, can it reach its database, which bank is loaded."""

from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from ..services import health as health_service
from .schemas import envelope

bp = Blueprint("health", __name__, url_prefix="/api/v1", description="运行状态")


class HealthSchema(Schema):
    status = fields.String(metadata={"description": "ok 正常 / degraded 数据库不可用"})
    database = fields.String(metadata={"description": "ok / unavailable"})
    bank_version = fields.String(allow_none=True, metadata={"description": "已导入题库的内容哈希"})


HEALTH_ENVELOPE = envelope(HealthSchema)


@bp.route("/health")
@bp.response(200, HEALTH_ENVELOPE)
@bp.alt_response(503, schema=HEALTH_ENVELOPE, description="数据库不可用")
def get_health():
    """Report the app and database state."""
    report = health_service.check()
    return {"data": report}, (200 if report["database"] == "ok" else 503)
