"""Household imports as background jobs: the preview and the import of a sheet run after the
request that asked for them, so a 30,000-row sheet cannot run into gunicorn's timeout.

The job's state and progress are rows of ``import_job``, written by the job on its own short
transactions, so a poll answered by any worker or instance sees the same thing. The import
itself is still ``household_import.import_households``: one transaction for every write, and
the job's "done" is written inside that same transaction, so a sheet is either fully imported
and the job says so, or nothing is written.

A job whose heartbeat stopped (its worker process died or was restarted) is found stale by the
next poll and marked failed; the file is kept, so the officer can retry it. The heartbeat is a
small thread of the job's process (``_Heartbeat``), so one long call that reports no progress
(openpyxl reading a big XLSX) does not look like a dead worker. While SQLite writes
an import nothing else can write, so there the heartbeat pauses during the write step: the stale
limit (``IMPORT_STALE_SECONDS``) must be longer than the longest write step.

Who sees a job: the officer who started it, and officers who may import into its region.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import asdict
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from ..errors import APIError, Forbidden, NotFound, ValidationFailed
from ..extensions import db
from ..models import ImportJob, Region, User, utcnow
from ..text import clean
from . import household_import
from .household_import import IMPORT_ROLES, ImportReport
from .regions import Scope, get_in_scope, scope_for

log = logging.getLogger(__name__)

RUNNING = ("checking", "importing")
JOB_NOT_FOUND = "找不到这次导入（可能已过期，或不在您的辖区内）"
STALE_MESSAGE = "处理这次导入的服务进程已停止（可能是服务器重启），没有写入任何数据。请点击“重试”。"
CRASH_MESSAGE = "导入时出现意外错误，没有写入任何数据。请点击“重试”；如果仍然出错，请联系系统管理员。"
KEEP_DAYS = 2  # finished jobs (and their uploaded files) are deleted after this
SAVE_EVERY_SECONDS = 0.5  # at most this often a running job writes its progress
HEARTBEAT_SECONDS = 10  # a background job's heartbeat, also while one long call parses a file


class JobLost(Exception):
    """The job was marked failed (stale) while it ran: its import must not commit."""


# --- starting, confirming, retrying --------------------------------------------------------------

def start(scope: Scope, region_code: str, filename: str, data: bytes) -> str:
    """Keep the upload as a new job whose first step (the preview) is to run; its id."""
    scope.require_role(*IMPORT_ROLES)
    region = get_in_scope(scope, region_code)
    filename = clean(filename or "")[:200]
    lowered = filename.lower()
    if not (lowered.endswith((".csv", ".xlsx")) or data[:4] == b"PK\x03\x04"):
        raise ValidationFailed("只支持 CSV 或 XLSX 文件", details={"file": ["文件类型不支持"]})
    if not data.strip():
        raise ValidationFailed("文件是空的", details={"file": ["没有内容"]})
    _purge()
    job = ImportJob(user_id=scope.user_id, region_id=region.id, filename=filename, data=data,
                    state="checking", step="check", stage="read", heartbeat_at=utcnow())
    db.session.add(job)
    db.session.commit()
    return job.id


def confirm(scope: Scope, job_id: str) -> bool:
    """Start importing a previewed sheet; False when it is importing or imported already (a
    second click), so the import runs once whatever is clicked."""
    scope.require_role(*IMPORT_ROLES)
    job = _visible(scope, job_id)
    moved = db.session.execute(
        sa.update(ImportJob).where(ImportJob.id == job.id, ImportJob.state == "checked")
        .values(state="importing", step="import", stage="read", rows_done=0, rows_total=0,
                message=None, heartbeat_at=utcnow())).rowcount
    db.session.commit()
    if moved:
        return True
    db.session.refresh(job)
    if job.state in ("importing", "done"):
        return False
    raise ValidationFailed("这份名单现在不能导入，请重新上传预检", code="import_not_ready")


def retry(scope: Scope, job_id: str) -> bool:
    """Run a failed job's step again (from the kept file); False when it is not failed."""
    scope.require_role(*IMPORT_ROLES)
    job = _visible(scope, job_id)
    state = "checking" if job.step == "check" else "importing"
    moved = db.session.execute(
        sa.update(ImportJob).where(ImportJob.id == job.id, ImportJob.state == "failed",
                                   ImportJob.data.is_not(None))
        .values(state=state, stage="read", rows_done=0, rows_total=0, message=None,
                finished_at=None, heartbeat_at=utcnow())).rowcount
    db.session.commit()
    return bool(moved)


# --- running -------------------------------------------------------------------------------------

class _Reporter(household_import.Progress):
    """Writes the job's stage, rows done and heartbeat on its own connection and transaction
    (the import's transaction stays open and unseen until it commits)."""

    def __init__(self, job_id: str, state: str) -> None:
        self.job_id, self.state = job_id, state
        self.name, self.total, self.done, self.saved_at = "read", 0, 0, 0.0
        # SQLite has one writer: while the import writes, nobody else can (see the module doc).
        self.single_writer = db.engine.dialect.name == "sqlite"

    def stage(self, name: str, total: int = 0) -> None:
        self.name, self.total, self.done = name, total, 0
        self._save(force=True)

    def advance(self, count: int) -> None:
        self.done += count
        self._save()

    def _save(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.saved_at < SAVE_EVERY_SECONDS:
            return
        if self.single_writer and self.name == "write" and self.done:
            return
        self.saved_at = now
        with db.engine.begin() as connection:
            connection.execute(
                sa.update(ImportJob).where(ImportJob.id == self.job_id, ImportJob.state == self.state)
                .values(stage=self.name, rows_total=self.total, rows_done=min(self.done, self.total),
                        heartbeat_at=utcnow()))


class _Heartbeat:
    """Touches the job's ``heartbeat_at`` every few seconds from a thread of its own, so a job
    busy in one long call (openpyxl reading a big XLSX) is not taken for a dead one. It dies
    with the process, which is what makes a dead worker's job go stale."""

    def __init__(self, job_id: str, state: str, seconds: float) -> None:
        self.engine, self.job_id, self.state, self.seconds = db.engine, job_id, state, seconds
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"import-beat-{job_id[:8]}", daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        self.thread.join(timeout=self.seconds + 15)

    def _beat(self) -> None:
        while not self.stopped.wait(self.seconds):
            try:
                with self.engine.begin() as connection:
                    connection.execute(sa.update(ImportJob).where(ImportJob.id == self.job_id,
                                                                  ImportJob.state == self.state)
                                       .values(heartbeat_at=utcnow()))
            except OperationalError:  # SQLite while the import writes: it is alive anyway
                continue


def run(job_id: str, *, heartbeat_seconds: float | None = None) -> None:
    """Do the job's pending step, the preview (checking) or the import (importing); any outcome
    is written to the job. Called by the runner after the request, inside an app context;
    ``heartbeat_seconds`` starts a heartbeat thread (not for in-request runs)."""
    job = db.session.get(ImportJob, job_id)
    if job is None or job.state not in RUNNING or job.data is None:
        return
    state = job.state
    db.session.commit()
    if heartbeat_seconds:
        with _Heartbeat(job_id, state, heartbeat_seconds):
            _run_step(job_id)
    else:
        _run_step(job_id)


def _run_step(job_id: str) -> None:
    job = db.session.get(ImportJob, job_id)
    state, data, filename = job.state, job.data, job.filename
    user = db.session.get(User, job.user_id)
    region = db.session.get(Region, job.region_id)
    db.session.commit()
    reporter = _Reporter(job_id, state)
    try:
        if user is None or not user.active:
            raise Forbidden("发起这次导入的账号已停用，未导入任何数据")
        scope = scope_for(user)
        if state == "checking":
            report = household_import.import_households(scope, region.code, filename, data,
                                                        progress=reporter, dry_run=True)
            _finish(job_id, state, "checked", result=_counts(report))
        else:
            household_import.import_households(scope, region.code, filename, data, progress=reporter,
                                               before_commit=lambda r: _done_with(job_id, r))
    except JobLost:
        log.warning("import job %s was marked stale while it ran; its import was rolled back", job_id)
    except APIError as exc:
        db.session.rollback()
        details = exc.details if isinstance(exc.details, dict) else {}
        if exc.status == 409:  # another import took a code meanwhile: worth another try
            _finish(job_id, state, "failed", message=exc.message)
            return
        result = {"errors": details.get("errors") or [], "error_count": details.get("error_count") or 0}
        if not result["errors"]:
            result["errors"] = [{"row": None, "column": field, "reason": "；".join(map(str, reasons))}
                                for field, reasons in details.items()
                                if isinstance(reasons, list) and field not in ("header", "columns")]
        _finish(job_id, state, "invalid", message=exc.message, result=result, keep_file=False)
    except Exception:
        db.session.rollback()
        log.exception("import job %s crashed", job_id)
        _finish(job_id, state, "failed", message=CRASH_MESSAGE)


def _counts(report: ImportReport) -> dict:
    return {k: v for k, v in asdict(report).items() if k != "dry_run"}


def _done_with(job_id: str, report: ImportReport) -> None:
    """Inside the import's transaction: the job is done, unless a poll found it stale meanwhile
    (then raise, and the whole import rolls back)."""
    moved = db.session.execute(
        sa.update(ImportJob).where(ImportJob.id == job_id, ImportJob.state == "importing")
        .values(state="done", stage="done", result=_counts(report), data=None, message=None,
                rows_done=ImportJob.rows_total, heartbeat_at=utcnow(), finished_at=utcnow())).rowcount
    if moved != 1:
        raise JobLost(job_id)


def _finish(job_id: str, from_state: str, state: str, *, message: str | None = None,
            result: dict | None = None, keep_file: bool = True) -> None:
    values = {"state": state, "stage": "done", "message": message, "heartbeat_at": utcnow(),
              "finished_at": utcnow() if state != "checked" else None}
    if result is not None:
        values["result"] = result
    if not keep_file:
        values["data"] = None
    db.session.execute(sa.update(ImportJob).where(ImportJob.id == job_id, ImportJob.state == from_state)
                       .values(**values))
    db.session.commit()


# --- what a poll sees ----------------------------------------------------------------------------

def status(scope: Scope, job_id: str, *, stale_seconds: int) -> dict:
    """The job as plain data (state, progress, Chinese text, result); a running job whose
    heartbeat is older than ``stale_seconds`` is marked failed first."""
    job = _visible(scope, job_id)
    if job.state in RUNNING and job.heartbeat_at < utcnow() - timedelta(seconds=stale_seconds):
        _mark_stale(job, stale_seconds)
    region = db.session.get(Region, job.region_id)
    return describe(job, region)


def _mark_stale(job: ImportJob, stale_seconds: int) -> None:
    cutoff = utcnow() - timedelta(seconds=stale_seconds)
    try:
        db.session.execute(
            sa.update(ImportJob).where(ImportJob.id == job.id, ImportJob.state == job.state,
                                       ImportJob.heartbeat_at < cutoff)
            .values(state="failed", stage="done", message=STALE_MESSAGE, finished_at=utcnow()))
        db.session.commit()
    except OperationalError:  # SQLite: an import is writing right now, so it is alive
        db.session.rollback()
    db.session.refresh(job)


def describe(job: ImportJob, region: Region) -> dict:
    """What the job page and the status endpoint show."""
    total, done = job.rows_total, min(job.rows_done, job.rows_total)
    running = job.state in RUNNING
    return {
        "id": job.id, "state": job.state, "stage": job.stage, "running": running,
        "rows_done": done, "rows_total": total,
        "percent": round(100 * done / total) if running and total else (100 if not running else 0),
        "text": _progress_text(job.state, job.stage, done, total),
        "message": job.message, "result": job.result, "filename": job.filename,
        "region": {"code": region.code, "name": region.name}, "created_at": job.created_at,
        "can_retry": job.state == "failed" and job.data is not None,
        "can_confirm": job.state == "checked",
    }


def _progress_text(state: str, stage: str, done: int, total: int) -> str:
    if state == "checked":
        return "预检完成"
    if state == "done":
        return "导入完成"
    if state == "invalid":
        return "表格有误，未导入任何数据"
    if state == "failed":
        return "导入中断，没有写入任何数据"
    verb = "预检" if state == "checking" else "导入前复核"
    if stage == "read" or not total:
        return "正在读取文件……"
    if stage == "check":
        return f"正在{verb}：已检查 {done:,} / {total:,} 行"
    if done:
        return f"正在写入：已写入 {done:,} / {total:,} 条（户和成员）"
    return f"正在写入 {total:,} 条（户和成员），全部写完后一起生效……"


def recent(scope: Scope, limit: int = 5) -> list[dict]:
    """The latest jobs the officer may see (own, or in the jurisdiction), newest first."""
    query = (sa.select(ImportJob, Region).join(Region, Region.id == ImportJob.region_id)
             .order_by(ImportJob.created_at.desc()).limit(limit))
    if scope.path is not None:
        query = query.where(sa.or_(ImportJob.user_id == scope.user_id,
                                   Region.path.startswith(scope.path, autoescape=True)))
    return [describe(job, region) for job, region in db.session.execute(query).all()]


def _visible(scope: Scope, job_id: str) -> ImportJob:
    """The job if this officer started it or may import into its region; else 404."""
    job = db.session.get(ImportJob, job_id) if isinstance(job_id, str) and len(job_id) <= 32 else None
    if job is not None and job.user_id != scope.user_id:
        region = db.session.get(Region, job.region_id)
        allowed = scope.is_admin or scope.role in IMPORT_ROLES
        if not allowed or not scope.covers(region.path):
            job = None
    if job is None:
        raise NotFound(JOB_NOT_FOUND, code="import_job_not_found")
    return job


def _purge() -> None:
    """Delete jobs (and the personal data in their files) nobody has worked on for
    ``KEEP_DAYS``; a job still beating is never deleted."""
    db.session.execute(sa.delete(ImportJob).where(ImportJob.heartbeat_at < utcnow() - timedelta(days=KEEP_DAYS)))
