"""Exports, stage summaries, the integrity review queue and the audit log."""

from __future__ import annotations

from urllib.parse import quote

from flask import Response

from ..services import audit as audit_service
from ..services import integrity as integrity_service
from ..services import regions as region_service
from ..services import reports as report_service
from .auth import current_scope, officer_blueprint
from .officer_schemas import (
    AuditSchema,
    ExportArgsSchema,
    FlagArgsSchema,
    FlagReviewSchema,
    FlagSchema,
    PageArgsSchema,
    SummaryArgsSchema,
    SummarySchema,
    page_envelope,
)
from .schemas import envelope

bp = officer_blueprint("reports", __name__, "/api/v1", "导出、总结、审核与审计")
# Werkzeug adds "; charset=utf-8" to text/* itself: naming it here would send it twice.
MIMETYPES = {"csv": "text/csv",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


# What an export answers, for the OpenAPI document (the body is a file, not JSON).
EXPORT_DOC = {"responses": {200: {"description": "CSV（UTF-8，带 BOM）或 XLSX 文件", "content": {
    "text/csv": {"schema": {"type": "string"}},
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
        {"schema": {"type": "string", "format": "binary"}}}}}}


def _file(body: bytes, filename: str, fmt: str) -> Response:
    return Response(body, mimetype=MIMETYPES[fmt], headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
        "Cache-Control": "no-store"})


@bp.route("/exports/households")
@bp.arguments(ExportArgsSchema, location="query")
@bp.doc(**EXPORT_DOC)
def export_households(args: dict):
    """Households of a region as CSV/XLSX; phones masked unless a county admin gives a reason."""
    body, name = report_service.export_households(current_scope(), args.get("region"), args["format"],
                                                  full=args["full"], reason=args.get("reason"))
    return _file(body, name, args["format"])


@bp.route("/exports/coverage")
@bp.arguments(ExportArgsSchema, location="query")
@bp.doc(**EXPORT_DOC)
def export_coverage(args: dict):
    """Coverage of a region and its children as CSV/XLSX."""
    body, name = report_service.export_coverage(current_scope(), args.get("region"), args["format"])
    return _file(body, name, args["format"])


@bp.route("/reports/summary")
@bp.arguments(SummaryArgsSchema, location="query")
@bp.response(200, envelope(SummarySchema))
def get_stage_summary(args: dict):
    """阶段工作总结 for a region and date range, as figures and as a Chinese paragraph."""
    return {"data": report_service.stage_summary(current_scope(), args.get("region"),
                                                 args["from_"], args["to"])}


def _codes(ids) -> dict[int, str]:
    return audit_service.region_codes({i for i in ids if i})


@bp.route("/integrity/flags")
@bp.arguments(FlagArgsSchema, location="query")
@bp.response(200, page_envelope(FlagSchema, "FlagPage"))
def list_flags(args: dict):
    """The review queue: quizzes and visits held because they look like 刷数."""
    scope = current_scope()
    path = None  # an admin without ``region``: the whole tree, like /audit
    if not (scope.is_admin and not args.get("region")):
        path = region_service.get_in_scope(scope, args.get("region")).path
    rows, total = integrity_service.flags(scope, path, args.get("status"),
                                          page=args["page"], per_page=args["per_page"])
    codes = _codes(r.region_id for r in rows)
    return {"data": [_flag(r, codes) for r in rows],
            "meta": {"page": args["page"], "per_page": args["per_page"], "total": total}}


@bp.route("/integrity/flags/<int:flag_id>", methods=["POST"])
@bp.arguments(FlagReviewSchema)
@bp.response(200, envelope(FlagSchema))
def review_flag(payload: dict, flag_id: int):
    """Accept (count it now) or reject (never count it) a held quiz or visit (station or county
    admin); the decision and the optional ``note`` are written to the audit log."""
    row = integrity_service.review(current_scope(), flag_id, payload["decision"], payload.get("note"))
    return {"data": _flag(row, _codes([row.region_id]))}


def _flag(row, codes: dict[int, str]) -> dict:
    return {"id": row.id, "kind": row.kind, "reasons": row.reasons,
            "reason_text": integrity_service.reason_texts(row.reasons), "region": codes.get(row.region_id),
            "session_id": row.session_id, "visit_id": row.visit_id, "status": row.status,
            "created_at": row.created_at, "reviewed_at": row.reviewed_at}


@bp.route("/audit")
@bp.arguments(PageArgsSchema, location="query")
@bp.response(200, page_envelope(AuditSchema, "AuditPage"))
def list_audit(args: dict):
    """Audit log of a region subtree (county admin; admin sees every entry without ``region``)."""
    scope = current_scope()
    scope.require_role("county_admin")
    if scope.is_admin and not args.get("region"):
        ids = None
    else:
        region = region_service.get_in_scope(scope, args.get("region"))
        ids = [r.id for r in region_service.subtree(region.path)]
    rows, total = audit_service.entries(ids, page=args["page"], per_page=args["per_page"])
    codes = _codes(r.region_id for r in rows)
    return {"data": [{"id": r.id, "created_at": r.created_at, "username": r.username, "action": r.action,
                      "region": codes.get(r.region_id), "target": r.target, "reason": r.reason,
                      "details": r.details} for r in rows],
            "meta": {"page": args["page"], "per_page": args["per_page"], "total": total}}


