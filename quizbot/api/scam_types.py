"""The knowledge base: GET /scam-types, GET /scam-types/{id}."""

from __future__ import annotations

from flask_smorest import Blueprint

from ..services import knowledge
from .schemas import ScamTypeSchema, envelope

bp = Blueprint("scam_types", __name__, url_prefix="/api/v1/scam-types", description="诈骗类型知识库")


@bp.route("")
@bp.response(200, envelope(ScamTypeSchema, many=True))
def list_scam_types():
    """List every scam type and topic of the knowledge base."""
    return {"data": knowledge.list_entries()}


@bp.route("/<string:type_id>")
@bp.response(200, envelope(ScamTypeSchema))
def get_scam_type(type_id: str):
    """One knowledge entry: name, summary, warning, advice and red flags."""
    return {"data": knowledge.get_entry(type_id)}
