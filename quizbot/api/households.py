"""Household registry: list and search (phones masked), detail, QR codes, import."""

from __future__ import annotations

from dataclasses import asdict

from flask import Response, current_app, request

from ..errors import ValidationFailed
from ..services import household_import
from ..services import households as household_service
from ..services import invites as invite_service
from .auth import current_scope, officer_blueprint
from .officer_schemas import (
    HouseholdArgsSchema,
    HouseholdDetailSchema,
    HouseholdLookupArgsSchema,
    HouseholdSchema,
    ImportReportSchema,
    page_envelope,
)
from .schemas import envelope

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

bp = officer_blueprint("households", __name__, "/api/v1/households", "住户与成员")


@bp.route("")
@bp.arguments(HouseholdArgsSchema, location="query")
@bp.response(200, page_envelope(HouseholdSchema, "HouseholdPage"))
def list_households(args: dict):
    """Households of a region subtree in walking order, paginated; phones masked."""
    items, total = household_service.search(
        current_scope(), args.get("region"), q=args.get("q"), status=args.get("status"),
        page=args["page"], per_page=args["per_page"])
    return {"data": items, "meta": {"page": args["page"], "per_page": args["per_page"], "total": total}}


@bp.route("/template.xlsx")
@bp.doc(responses={200: {"description": "住户导入模板（表头带批注说明每一列）", "content": {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}}})
def get_import_template():
    """The household sheet template: headers with a comment per column and example rows."""
    return Response(household_import.template_xlsx(), mimetype=XLSX_MIMETYPE, headers={
        "Content-Disposition": "attachment; filename*=UTF-8''%E4%BD%8F%E6%88%B7%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.xlsx",
        "Cache-Control": "no-store"})


@bp.route("/<string:code>")
@bp.arguments(HouseholdLookupArgsSchema, location="query")
@bp.response(200, envelope(HouseholdDetailSchema))
@bp.alt_response(409, description="辖区内有多户使用这个户编号：请用 region 指明")
def get_household(args: dict, code: str):
    """One household with its members (phones masked) and the URL of its QR code."""
    household, region = household_service.get_in_scope(current_scope(), code, args.get("region"))
    data = household_service.household_row(household, region.code, invite=True)
    data["invite_url"] = invite_service.invite_url(current_app.config["PUBLIC_BASE_URL"],
                                                   household.invite_code)
    data["members"] = [household_service.member_row(m) for m in household_service.members_of(household.id)]
    return {"data": data}


@bp.route("/<string:code>/qr.<string:fmt>")
@bp.arguments(HouseholdLookupArgsSchema, location="query")
@bp.doc(responses={200: {"description": "二维码图片", "content": {"image/png": {}, "image/svg+xml": {}}}})
def get_qr(args: dict, code: str, fmt: str):
    """The household's QR code (PNG or SVG) for the invite URL residents scan."""
    if fmt not in ("png", "svg"):
        raise ValidationFailed("二维码格式只支持 png 或 svg", details={"format": ["取值必须是 png 或 svg"]})
    household, _region = household_service.get_in_scope(current_scope(), code, args.get("region"))
    url = invite_service.invite_url(current_app.config["PUBLIC_BASE_URL"], household.invite_code)
    body = invite_service.qr_image(url, fmt)
    return Response(body, mimetype="image/png" if fmt == "png" else "image/svg+xml",
                    headers={"Cache-Control": "private, max-age=3600"})


@bp.route("/import", methods=["POST"])
@bp.response(200, envelope(ImportReportSchema))
@bp.doc(requestBody={"content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file", "region"],
    "properties": {"file": {"type": "string", "format": "binary"}, "region": {"type": "string"}}}}}},
    responses={422: {"description": "文件有误：details.errors 列出每一处（行、列、原因），未导入任何数据"}})
def import_households(payload=None):
    """Import households and members from CSV or XLSX (Chinese headers); all rows or none.

    Station and county admins only. One row per member; the household columns may be given on
    a household's first row only. ``GET /households/template.xlsx`` is a sheet to start from.
    """
    request.max_content_length = current_app.config.get("IMPORT_MAX_BYTES", 64 * 1024 * 1024)
    if request.mimetype != "multipart/form-data":
        raise ValidationFailed("请用 multipart/form-data 上传文件", details={"file": ["缺少文件"]})
    upload = request.files.get("file")
    region = request.form.get("region")
    errors = {}
    if upload is None or not upload.filename:
        errors["file"] = ["缺少必填字段"]
    if not region:
        errors["region"] = ["缺少必填字段"]
    elif len(region) > 32:
        errors["region"] = ["长度应在 1–32 之间"]
    if errors:
        raise ValidationFailed(details=errors)
    report = household_import.import_households(current_scope(), region, upload.filename, upload.read())
    return {"data": asdict(report)}
