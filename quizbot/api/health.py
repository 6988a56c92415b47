"""GET /api/v1/health: is the app up, can it reach its database, which bank is loaded."""

from __future__ import annotations

from flask_smorest import Blueprint

from ..services import health as health_service

bp = Blueprint("health", __name__, url_prefix="/api/v1", description="运行状态")


@bp.route("/health")
@bp.doc(responses={503: {"description": "数据库不可用"}})
def get_health():
    """Report the app and database state."""
    report = health_service.check()
    return {"data": report}, (200 if report["database"] == "ok" else 503)
