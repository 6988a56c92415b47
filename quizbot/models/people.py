"""Regions and the officers' accounts that are bound to them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow

ROLES = ("admin", "county_admin", "station_admin", "officer", "grid_worker")


class Region(db.Model):
    """A node of the tree 县/区 → 乡镇/街道 → 村/社区 → 组/网格.

    ``path`` is the chain of codes from the root ("/C1/T2/V3/"), so a whole subtree is one
    indexed prefix query.
    """

    __tablename__ = "region"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    level: Mapped[int] = mapped_column(sa.SmallInteger)  # 0 county … 3 group
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("region.id"), index=True)
    path: Mapped[str] = mapped_column(sa.String(400), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class User(db.Model):
    """An officer-side account. ``admin`` has no region and sees everything."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    role: Mapped[str] = mapped_column(sa.String(32))
    region_id: Mapped[int | None] = mapped_column(sa.ForeignKey("region.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
