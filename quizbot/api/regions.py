"""Regions (县 → 乡镇 → 村 → 组) and campaign codes, within the user's jurisdiction."""

from __future__ import annotations

from flask import current_app

from ..services import invites as invite_service
from ..services import regions as region_service
from .auth import current_scope, officer_blueprint
from .officer_schemas import (
    CampaignCreateSchema,
    CampaignSchema,
    RegionArgsSchema,
    RegionCreateSchema,
    RegionDetailSchema,
    RegionSchema,
    RegionUpdateSchema,
)
from .schemas import envelope

REGION_ENVELOPE = envelope(RegionSchema)

bp = officer_blueprint("regions", __name__, "/api/v1", "区域与活动码")


@bp.route("/regions")
@bp.response(200, envelope(RegionSchema, many=True))
def list_roots():
    """The top regions the user sees (their own region; every root for admin)."""
    return {"data": [region_service.region_row(r) for r in region_service.roots(current_scope())]}


@bp.route("/regions/<string:code>")
@bp.response(200, envelope(RegionDetailSchema))
def get_region(code: str):
    """A region and its direct children."""
    region = region_service.get_in_scope(current_scope(), code)
    data = region_service.region_row(region)
    data["children"] = [region_service.region_row(c, region.code) for c in region_service.children(region)]
    return {"data": data}


@bp.route("/regions", methods=["POST"])
@bp.arguments(RegionCreateSchema)
@bp.response(201, REGION_ENVELOPE)
def create_region(payload: dict):
    """Create a region under a parent in the user's jurisdiction (county admin)."""
    region = region_service.create(current_scope(), payload["code"], payload["name"],
                                   payload.get("parent_code"))
    return {"data": region_service.region_row(region)}


@bp.route("/regions/<string:code>", methods=["PATCH"])
@bp.arguments(RegionUpdateSchema)
@bp.response(200, REGION_ENVELOPE)
def update_region(payload: dict, code: str):
    """Rename a region and/or move it under another parent (its whole subtree follows)."""
    region = region_service.update(current_scope(), code, name=payload.get("name"),
                                   parent_code=payload.get("parent_code"))
    return {"data": region_service.region_row(region)}


@bp.route("/campaign-codes", methods=["POST"])
@bp.arguments(CampaignCreateSchema)
@bp.response(201, envelope(CampaignSchema))
def create_campaign_code(payload: dict):
    """A code for a WeChat-group push: quizzes started with it credit the region."""
    return {"data": invite_service.create_campaign(current_scope(), payload["region"], payload["name"],
                                                   base_url=current_app.config["PUBLIC_BASE_URL"])}


@bp.route("/campaign-codes")
@bp.arguments(RegionArgsSchema, location="query")
@bp.response(200, envelope(CampaignSchema, many=True))
def list_campaign_codes(args: dict):
    """Campaign codes of a region subtree."""
    return {"data": invite_service.list_campaigns(current_scope(), args.get("region"),
                                                  base_url=current_app.config["PUBLIC_BASE_URL"])}
