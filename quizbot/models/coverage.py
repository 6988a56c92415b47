"""Per-region coverage counters: the totals of a region's whole subtree, kept on every write."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime

COUNTER_FIELDS = ("households_total", "households_visited", "households_quizzed", "members_total",
                  "members_quizzed", "attempts", "score_sum")
TIME_FIELDS = ("last_visit_at", "last_quiz_at", "own_last_visit_at", "own_last_quiz_at")


class RegionCounter(db.Model):
    """Coverage of a region *and everything under it* (``services.counters`` keeps it exact).

    Households, visits and members count in the household's current region; quiz attempts
    and their score in the region the attempt was credited to (a household's, or a campaign
    code's). ``own_*`` times are those of the region itself, without its subtree: the
    roll-up's "直属" line. A missing row means all zeros.
    """

    __tablename__ = "region_counter"

    region_id: Mapped[int] = mapped_column(
        sa.ForeignKey("region.id", ondelete="CASCADE"), primary_key=True)
    households_total: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    households_visited: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    households_quizzed: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    members_total: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    members_quizzed: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    attempts: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    score_sum: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    last_visit_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_quiz_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    own_last_visit_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    own_last_quiz_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RegionTypeCounter(db.Model):
    """Credited answers per scam type of a region's whole subtree (the weakest types)."""

    __tablename__ = "region_type_counter"

    region_id: Mapped[int] = mapped_column(
        sa.ForeignKey("region.id", ondelete="CASCADE"), primary_key=True)
    scam_type_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    answered: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    correct: Mapped[int] = mapped_column(sa.BigInteger, default=0)
