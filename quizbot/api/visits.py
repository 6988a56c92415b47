"""Door-to-door visits: re-sending the same visit id is harmless."""

from __future__ import annotations

from ..services import visits as visit_service
from .auth import current_scope, officer_blueprint
from .officer_schemas import VisitCreateSchema, VisitSchema
from .schemas import envelope

VISIT_ENVELOPE = envelope(VisitSchema)

bp = officer_blueprint("visits", __name__, "/api/v1/visits", "入户走访")


@bp.route("", methods=["POST"])
@bp.arguments(VisitCreateSchema)
@bp.response(201, VISIT_ENVELOPE)
@bp.alt_response(200, schema=VISIT_ENVELOPE, description="同一编号已记录过：返回已存的走访")
@bp.alt_response(409, description="同一编号已提交过不同的内容")
def create_visit(payload: dict):
    """Record a visit (outcome, time, optional GPS and note) for a household in the jurisdiction."""
    visit, created = visit_service.record(
        current_scope(), visit_id=payload["id"], household_code=payload["household"],
        region_code=payload.get("region"),
        outcome=payload["outcome"], visited_at=payload["visited_at"],
        latitude=payload.get("latitude"), longitude=payload.get("longitude"), note=payload.get("note"))
    return {"data": visit_service.visit_row(visit)}, 201 if created else 200
