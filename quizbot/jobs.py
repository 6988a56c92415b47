"""Where background work runs: a thread of the process that accepted the request.

The work itself (``services.import_jobs.run``) keeps its state in the database, so nothing here
has to survive the process: if the worker dies, the next poll finds the job stale and the
officer retries it on whichever instance answers. ``IMPORT_JOBS = "inline"`` runs the job
inside the request instead (the test suite's in-memory SQLite cannot be shared by threads).
"""

from __future__ import annotations

import logging
import threading

from flask import Flask, current_app

from .extensions import db
from .services import import_jobs

log = logging.getLogger(__name__)


def submit_import(job_id: str) -> None:
    """Run the job's pending step after this request (or now, inline)."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config.get("IMPORT_JOBS", "thread") == "inline":
        import_jobs.run(job_id)
        return
    # Not a daemon: a worker stopping gracefully lets a short import finish first.
    threading.Thread(target=_run, args=(app, job_id), name=f"import-{job_id[:8]}").start()


def _run(app: Flask, job_id: str) -> None:
    with app.app_context():
        try:
            import_jobs.run(job_id, heartbeat_seconds=import_jobs.HEARTBEAT_SECONDS)
        except Exception:  # run() records its own failures; this is the last resort
            log.exception("import job %s: runner failed", job_id)
        finally:
            db.session.remove()
