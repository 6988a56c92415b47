"""The officers' console (/admin): dashboard, households, next visits, import, review queue,
exports and summary, QR sheets, audit log.

Server-side sessions: signing in issues the same hashed AuthToken the API uses; the signed
session cookie carries only that token, which expires after ``ADMIN_IDLE_SECONDS`` without a
request and is revoked on logout. Jurisdiction and roles are the API's (services raise 404/403).
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta
from urllib.parse import quote

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    jsonify,
    redirect,
    request,
    session,
    url_for,
)

from ..errors import APIError, Unauthorized, ValidationFailed
from ..extensions import limiter
from ..jobs import submit_import
from ..models import utcnow
from ..services import auth as auth_service
from ..services import console as console_service
from ..services import coverage as coverage_service
from ..services import household_import, import_jobs, qrsheet
from ..services import households as household_service
from ..services import integrity as integrity_service
from ..services import reports as report_service
from ..services import visits as visit_service
from ..services.regions import get_in_scope, roots, scope_for
from . import security
from .pages import render_page, safe_next

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def _upload_limit():
    """The sheet upload may be larger than ordinary requests (its form is read by the CSRF
    check below, so the limit is raised before it)."""
    if request.endpoint == "admin.import_page":
        request.max_content_length = current_app.config["IMPORT_MAX_BYTES"]


bp.before_request(security.check_csrf)

PUBLIC = {"admin.login"}
PER_PAGE = 50
MIMETYPES = {"csv": "text/csv; charset=utf-8",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             "pdf": "application/pdf"}


@bp.before_request
def _load_officer():
    """Every console page needs a live session; a generated password must be changed first."""
    if request.endpoint in PUBLIC or request.routing_exception is not None:
        return None
    token = session.get("officer_token")
    try:
        user = auth_service.authenticate_session(token, current_app.config["ADMIN_IDLE_SECONDS"])
    except Unauthorized:
        session.pop("officer_token", None)
        if request.method == "GET":
            return redirect(url_for("admin.login", next=request.full_path.rstrip("?")))
        raise
    g.officer, g.scope = user, scope_for(user)
    if user.must_change_password and request.endpoint not in ("admin.password", "admin.logout"):
        return redirect(url_for("admin.password"))
    return None


def _page(template: str, status: int = 200, **context):
    return render_page(template, status, officer=g.get("officer"), **context)


def _int_arg(name: str, default: int = 1, *, low: int = 1, high: int = 100_000) -> int:
    raw = request.args.get(name, "")
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ValidationFailed(f"参数 {name} 无效")
    return int(raw)


def _date_arg(name: str, default: date | None) -> date | None:
    raw = request.args.get(name, "")
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise ValidationFailed("日期格式应为 2026-11-29") from exc


def _region_code() -> str | None:
    """The ``region`` asked for, else the officer's own region (admin: the first top region)."""
    code = request.values.get("region") or None
    if code is None:
        top = roots(g.scope)
        code = top[0].code if top else None
    return code


# --- sign-in -----------------------------------------------------------------------------------

def _login_user_key() -> str:
    return "admin-login-user:" + (request.form.get("username") or "")[:64]


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _not_post() -> bool:
    return request.method != "POST"


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, exempt_when=_not_post)
@limiter.limit(_login_limit, key_func=_login_user_key, exempt_when=_not_post)
def login():
    """Sign in with username and password."""
    target = safe_next(request.values.get("next"), url_for("admin.dashboard"))
    if request.method == "GET":
        return render_page("admin/login.html", next=target, error=None)
    username = (request.form.get("username") or "").strip()
    password = request.form.get("password") or ""
    try:
        token, _row, _user = auth_service.login(username, password, current_app.config["ADMIN_IDLE_SECONDS"])
    except APIError as exc:
        return render_page("admin/login.html", exc.status, next=target, error=exc.message,
                           username=username)
    session.clear()  # a new session id-equivalent: no fixation of an earlier anonymous session
    session["officer_token"] = token
    return redirect(target, 303)


@bp.post("/logout")
def logout():
    """Revoke the session's token and forget it."""
    token = session.pop("officer_token", None)
    if token:
        auth_service.logout(token)
    session.clear()
    return redirect(url_for("admin.login"), 303)


@bp.route("/password", methods=["GET", "POST"])
def password():
    """Change the password (forced after a generated one); signs every session out."""
    if request.method == "GET":
        return _page("admin/password.html", error=None)
    new = request.form.get("new_password") or ""
    if new != request.form.get("confirm_password"):
        return _page("admin/password.html", 422, error="两次输入的新密码不一致")
    try:
        auth_service.change_password(g.officer, request.form.get("old_password") or "", new)
    except ValidationFailed as exc:
        return _page("admin/password.html", 422, error=exc.message)
    session.clear()
    return redirect(url_for("admin.login", changed=1), 303)


# --- dashboard ---------------------------------------------------------------------------------

@bp.get("")
def dashboard():
    """The officer's own region (admin: the first top-level region)."""
    code = _region_code()
    if code is None:
        return _page("admin/empty.html")
    return region_dashboard(code)


@bp.get("/regions/<code>")
def region_dashboard(code: str):
    """Coverage of a region and each child, the weakest scam types, and what needs review."""
    scope = g.scope
    figures = coverage_service.rollup(scope, code)
    region = get_in_scope(scope, code)
    children = sorted(figures["children"], key=lambda c: (c["coverage"], c["region"]["code"] or ""))
    return _page("admin/dashboard.html", figures=figures, children=children, region=region,
                 crumbs=console_service.breadcrumbs(scope, region),
                 held=console_service.held_count(region), tops=roots(scope) if scope.is_admin else [])


# --- households --------------------------------------------------------------------------------

STATUS_FILTERS = {"": "全部", "not_quizzed": "未答题", "quizzed": "已答题", "not_visited": "未走访",
                  "visited": "已走访", "held": "待审核"}


@bp.get("/households")
def households():
    """Search and filter the households of a region, in walking order."""
    scope = g.scope
    code = _region_code()
    status = request.args.get("status", "")
    if status not in STATUS_FILTERS:
        raise ValidationFailed("筛选条件无效")
    page = _int_arg("page")
    q = (request.args.get("q") or "").strip()[:50] or None
    rows, total = household_service.search(scope, code, q=q, status=status or None, page=page,
                                           per_page=PER_PAGE)
    region = get_in_scope(scope, code)
    return _page("admin/households.html", rows=rows, total=total, page=page, per_page=PER_PAGE, q=q or "",
                 current_status=status, filters=STATUS_FILTERS, region=region,
                 crumbs=console_service.breadcrumbs(scope, region))


@bp.get("/households/<code>")
def household(code: str):
    """One household: members, visits, quiz attempts, QR code and invite link."""
    data = console_service.household_detail(g.scope, code, request.args.get("region") or None)
    data["invite_url"] = household_service.invite_url(current_app.config["PUBLIC_BASE_URL"], data["invite_code"])
    return _page("admin/household.html", h=data)


@bp.get("/households/<code>/qr.svg")
def household_qr(code: str):
    """The household's QR code as SVG (shown on the household page)."""
    household_row, _region = household_service.get_in_scope(g.scope, code, request.args.get("region") or None)
    url = household_service.invite_url(current_app.config["PUBLIC_BASE_URL"], household_row.invite_code)
    return Response(household_service.qr_image(url, "svg"), mimetype="image/svg+xml",
                    headers={"Cache-Control": "private, max-age=3600"})


# --- next visits -------------------------------------------------------------------------------

@bp.get("/revisits")
def revisits():
    """Households still to visit, in walking order, each with a two-tap visit form."""
    scope = g.scope
    code = _region_code()
    page = _int_arg("page")
    rows, total = coverage_service.revisit_queue(scope, code, page=page, per_page=PER_PAGE)
    region = get_in_scope(scope, code)
    for row in rows:
        row["visit_id"] = secrets.token_urlsafe(16)  # idempotency key for this form
    return _page("admin/revisits.html", rows=rows, total=total, page=page, per_page=PER_PAGE,
                 region=region, crumbs=console_service.breadcrumbs(scope, region),
                 outcomes=console_service.OUTCOME_TEXT, saved=request.args.get("saved"))


@bp.post("/visits")
def record_visit():
    """Store a visit from the form (or the offline queue, which sends JSON-accepting posts)."""
    form = request.form
    lat, lng = form.get("latitude") or None, form.get("longitude") or None
    try:
        latitude = float(lat) if lat is not None else None
        longitude = float(lng) if lng is not None else None
    except ValueError as exc:
        raise ValidationFailed("位置格式无效") from exc
    visited_at = form.get("visited_at") or None
    try:
        when = datetime.fromisoformat(visited_at.replace("Z", "+00:00")) if visited_at else utcnow()
    except ValueError as exc:
        raise ValidationFailed("走访时间格式无效") from exc
    visit_id = (form.get("visit_id") or "")[:64]
    if len(visit_id) < 8:
        raise ValidationFailed("缺少走访编号，请刷新页面后再试")
    visit, created = visit_service.record(
        g.scope, visit_id=visit_id, household_code=form.get("household") or "",
        region_code=(form.get("region") or None),
        outcome=form.get("outcome") or "", visited_at=when, latitude=latitude, longitude=longitude,
        note=(form.get("note") or "").strip()[:500] or None)
    if request.accept_mimetypes.best == "application/json":
        return jsonify({"data": {"id": visit.client_id, "created": created}}), 201 if created else 200
    back = safe_next(form.get("next"), url_for("admin.revisits"))
    return redirect(back + ("&" if "?" in back else "?") + "saved=1", 303)


# --- import ------------------------------------------------------------------------------------


def _import_choices() -> list[dict]:
    return console_service.region_choices(g.scope)


@bp.route("/import", methods=["GET", "POST"])
def import_page():
    """Upload a household sheet: it is checked in the background (every bad row named before
    anything is written) and the job page shows the progress and then the preview."""
    g.scope.require_role(*household_import.IMPORT_ROLES)
    if request.method == "GET":
        return _page("admin/import.html", choices=_import_choices(), jobs=import_jobs.recent(g.scope))
    upload = request.files.get("file")
    code = request.form.get("region") or ""
    if upload is None or not upload.filename:
        return _import_form(422, code, "请选择要上传的 CSV 或 XLSX 文件")
    data = upload.read(current_app.config["IMPORT_MAX_BYTES"] + 1)
    if len(data) > current_app.config["IMPORT_MAX_BYTES"]:
        return _import_form(413, code, "文件太大（最大 {} MB）".format(current_app.config["IMPORT_MAX_BYTES"] >> 20))
    try:
        job_id = import_jobs.start(g.scope, code, upload.filename, data)
    except ValidationFailed as exc:
        return _import_form(422, code, exc.message)
    submit_import(job_id)
    return redirect(url_for("admin.import_job", job_id=job_id), 303)


def _import_form(status: int, region: str, message: str):
    return _page("admin/import.html", status, choices=_import_choices(), jobs=import_jobs.recent(g.scope),
                 region=region, message=message)


@bp.get("/import/jobs/<job_id>")
def import_job(job_id: str):
    """One upload: progress while it runs (the page polls), then the preview, the named bad
    rows, or the import's result."""
    g.scope.require_role(*household_import.IMPORT_ROLES)
    job = import_jobs.status(g.scope, job_id, stale_seconds=current_app.config["IMPORT_STALE_SECONDS"])
    return _page("admin/import_job.html", job=job)


@bp.get("/import/jobs/<job_id>/status")
def import_job_status(job_id: str):
    """The job's state and progress as JSON, for the page's poll (any worker can answer)."""
    g.scope.require_role(*household_import.IMPORT_ROLES)
    job = import_jobs.status(g.scope, job_id, stale_seconds=current_app.config["IMPORT_STALE_SECONDS"])
    keep = ("id", "state", "stage", "running", "rows_done", "rows_total", "percent", "text", "message")
    response = jsonify({"data": {k: job[k] for k in keep}})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/import/jobs/<job_id>/confirm")
def import_confirm(job_id: str):
    """Import the previewed sheet, all or nothing, in the background (a second click does not
    start a second import)."""
    if import_jobs.confirm(g.scope, job_id):
        submit_import(job_id)
    return redirect(url_for("admin.import_job", job_id=job_id), 303)


@bp.post("/import/jobs/<job_id>/retry")
def import_retry(job_id: str):
    """Run an interrupted preview or import again from the kept file."""
    if import_jobs.retry(g.scope, job_id):
        submit_import(job_id)
    return redirect(url_for("admin.import_job", job_id=job_id), 303)


@bp.get("/import/template.xlsx")
def import_template():
    """The household sheet template: every column with a comment saying what goes in it."""
    return _file(household_import.template_xlsx(), "住户导入模板.xlsx", "xlsx")


# --- review queue ------------------------------------------------------------------------------

@bp.get("/integrity")
def integrity():
    """Held quizzes and visits with their reasons."""
    scope = g.scope
    scope.require_role(*integrity_service.REVIEWER_ROLES)
    status = request.args.get("status", "pending")
    if status not in ("pending", "accepted", "rejected"):
        raise ValidationFailed("筛选条件无效")
    region = get_in_scope(scope, _region_code())
    page = _int_arg("page")
    rows, total = console_service.review_queue(scope, region, status, page=page, per_page=PER_PAGE)
    return _page("admin/integrity.html", rows=rows, total=total, page=page, per_page=PER_PAGE,
                 current_status=status, region=region)


@bp.post("/integrity/<int:flag_id>")
def review(flag_id: int):
    """Accept (count it) or reject (never count it) with a note; audited."""
    note = (request.form.get("note") or "").strip()[:500] or None
    decision = request.form.get("decision") or ""
    integrity_service.review(g.scope, flag_id, decision, note)
    return redirect(url_for("admin.integrity"), 303)


# --- exports and summary -----------------------------------------------------------------------

def _file(body: bytes, filename: str, fmt: str) -> Response:
    return Response(body, mimetype=MIMETYPES[fmt], headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}", "Cache-Control": "no-store"})


@bp.get("/exports/<kind>.<fmt>")
def export(kind: str, fmt: str):
    """Household or coverage export as CSV/XLSX (phones masked)."""
    if kind not in ("households", "coverage") or fmt not in ("csv", "xlsx"):
        raise ValidationFailed("导出类型无效")
    code = _region_code()
    if kind == "households":
        body, name = report_service.export_households(g.scope, code, fmt)
    else:
        body, name = report_service.export_coverage(g.scope, code, fmt)
    return _file(body, name, fmt)


@bp.get("/reports")
def reports():
    """Export buttons and the stage work-summary for a date range, printable."""
    scope = g.scope
    region = get_in_scope(scope, _region_code())
    today = utcnow().astimezone(report_service.SHANGHAI).date()
    start = _date_arg("from", today - timedelta(days=30))
    end = _date_arg("to", today)
    summary = report_service.stage_summary(scope, region.code, start, end)
    return _page("admin/reports.html", region=region, summary=summary, start=start, end=end)


# --- QR sheet ----------------------------------------------------------------------------------

QR_PER_PAGE = 12


@bp.get("/regions/<code>/qr-sheet")
def qr_sheet(code: str):
    """Every household's QR code on A4 (12 per page) with 户编号, 门牌号 and one instruction."""
    region, items = console_service.qr_sheet(g.scope, code, current_app.config["PUBLIC_BASE_URL"])
    if request.args.get("format") == "pdf":
        return _file(qrsheet.render_pdf(region.name, items), f"{region.name}-二维码.pdf", "pdf")
    pages = [items[i:i + QR_PER_PAGE] for i in range(0, len(items), QR_PER_PAGE)] or [[]]
    return _page("admin/qr_sheet.html", region=region, pages=pages, count=len(items))


@bp.get("/qr/<code>.svg")
def qr_for(code: str):
    """The QR code of one household (used by the QR sheet)."""
    return household_qr(code)


# --- audit -------------------------------------------------------------------------------------

@bp.get("/audit")
def audit():
    """Who did what, filtered by user, action and date."""
    page = _int_arg("page")
    username = (request.args.get("user") or "").strip()[:64] or None
    action = (request.args.get("action") or "").strip()[:64] or None
    start, end = _date_arg("from", None), _date_arg("to", None)
    rows, total = console_service.audit_entries(g.scope, username=username, action=action, start=start,
                                                end=end, page=page, per_page=PER_PAGE)
    return _page("admin/audit.html", rows=rows, total=total, page=page, per_page=PER_PAGE,
                 actions=console_service.audit_actions(), user=username or "", action=action or "",
                 start=start, end=end)
