"""Work that runs after the request that started it: its state lives in the database, so a
poll answered by any worker or instance sees the same progress."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, new_token, utcnow


class ImportJob(db.Model):
    """A household sheet being checked (preview) and then imported, in the background.

    ``state`` runs checking → checked (or invalid) → importing → done (or invalid); a step that
    crashed or whose worker died is ``failed`` and can be retried. ``stage`` says what the
    running step is doing (read, check, write); ``heartbeat_at`` is touched while it runs, so
    a job nobody is working on any more is found stale. The uploaded file is kept in ``data``
    until the import is done (any instance can run the next step) and dropped afterwards.
    """

    __tablename__ = "import_job"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default=new_token)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    region_id: Mapped[int] = mapped_column(sa.ForeignKey("region.id"))
    filename: Mapped[str] = mapped_column(sa.String(200))
    data: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    state: Mapped[str] = mapped_column(sa.String(16))
    step: Mapped[str] = mapped_column(sa.String(8), default="check")  # check or import: what a retry runs
    stage: Mapped[str] = mapped_column(sa.String(16), default="read")
    rows_done: Mapped[int] = mapped_column(default=0)
    rows_total: Mapped[int] = mapped_column(default=0)
    # The preview's or the import's counts, or {"errors": [...], "error_count": n}.
    result: Mapped[dict | None] = mapped_column(sa.JSON)
    message: Mapped[str | None] = mapped_column(sa.String(500))
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
