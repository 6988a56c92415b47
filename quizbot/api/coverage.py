"""Coverage roll-ups and the revisit queue."""

from __future__ import annotations

from ..services import coverage as coverage_service
from .auth import current_scope, officer_blueprint
from .officer_schemas import CoverageSchema, PageArgsSchema, RegionArgsSchema, RevisitSchema, page_envelope
from .schemas import envelope

bp = officer_blueprint("coverage", __name__, "/api/v1", "覆盖率与回访")


@bp.route("/coverage")
@bp.arguments(RegionArgsSchema, location="query")
@bp.response(200, envelope(CoverageSchema))
def get_coverage(args: dict):
    """Households and members reached in a region and each direct child; parents sum their children."""
    return {"data": coverage_service.rollup(current_scope(), args.get("region"))}


@bp.route("/revisits")
@bp.arguments(PageArgsSchema, location="query")
@bp.response(200, page_envelope(RevisitSchema, "RevisitPage"))
def get_revisit_queue(args: dict):
    """Households where someone has no counted quiz yet, in walking order, each with why it is there."""
    items, total = coverage_service.revisit_queue(current_scope(), args.get("region"),
                                                  page=args["page"], per_page=args["per_page"])
    return {"data": items, "meta": {"page": args["page"], "per_page": args["per_page"], "total": total}}
