"""Invite codes: the household codes behind the QR codes and the campaign codes of WeChat groups.

A code a resident holds is opaque and unguessable. ``resolve_participant`` turns the code a
quiz was started with into where its result will count (household, member, region).
"""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass

import qrcode
import sqlalchemy as sa
from qrcode.image.pure import PyPNGImage
from qrcode.image.svg import SvgPathImage

from ..errors import ValidationFailed
from ..extensions import db
from ..models import CampaignCode, Household, Member, Region
from .regions import Scope, get_in_scope

MAX_CODE_LENGTH = 32


def new_invite_code() -> str:
    """An opaque, unguessable invite code (96 bits) that does not begin with "-".

    Spreadsheets read a cell that begins with "-" as a formula, so the exports escape it with
    a leading "'": a code beginning with "-" (one in 64) would be exported changed."""
    while (code := secrets.token_urlsafe(12)).startswith("-"):
        pass
    return code


def find_by_invite_code(code: str | None) -> Household | None:
    """The household holding ``code``, or None (QR pages, WeChat binding, /check)."""
    if not isinstance(code, str) or not code or len(code) > MAX_CODE_LENGTH:
        return None
    return db.session.execute(
        sa.select(Household).where(Household.invite_code == code)).scalar_one_or_none()


def invite_url(base_url: str, invite_code: str) -> str:
    """The URL a resident scans: the quiz page carrying the invite code."""
    return f"{base_url.rstrip('/')}/q/{invite_code}"


def qr_image(data: str, fmt: str) -> bytes:
    """A QR code for ``data`` as PNG (pypng) or SVG bytes."""
    factory = PyPNGImage if fmt == "png" else SvgPathImage
    buffer = io.BytesIO()
    qrcode.make(data, image_factory=factory, box_size=8, border=2).save(buffer)
    return buffer.getvalue()


@dataclass(frozen=True)
class Participant:
    """Where a quiz session's result goes once it is counted."""

    household_id: int | None = None
    member_id: int | None = None
    region_id: int | None = None


def resolve_participant(invite_code: str | None, member_id: int | None) -> Participant:
    """Turn ``participant.invite_code`` (household or campaign) and ``member_id`` into a target.

    Unknown codes, or a member of another household, are 422 naming the field.
    """
    if not invite_code:
        if member_id is not None:
            raise ValidationFailed("选择家庭成员前需要邀请码",
                                   details={"participant": {"member_id": ["缺少 invite_code"]}})
        return Participant()
    household = find_by_invite_code(invite_code)
    if household is not None:
        if member_id is not None:
            member = db.session.get(Member, member_id)
            if member is None or member.household_id != household.id:
                raise ValidationFailed("家庭成员不存在",
                                       details={"participant": {"member_id": ["不是该住户的成员"]}})
        return Participant(household.id, member_id, household.region_id)
    campaign = db.session.execute(
        sa.select(CampaignCode).where(CampaignCode.code == invite_code)).scalar_one_or_none()
    if campaign is None:
        raise ValidationFailed("邀请码无效，请重新扫码",
                               details={"participant": {"invite_code": ["邀请码不存在"]}})
    if member_id is not None:
        raise ValidationFailed("活动码不能指定家庭成员",
                               details={"participant": {"member_id": ["活动码不对应住户"]}})
    return Participant(None, None, campaign.region_id)


# --- campaign codes ----------------------------------------------------------------------

def create_campaign(scope: Scope, region_code: str, name: str, *, base_url: str) -> dict:
    """A campaign code (WeChat-group push) crediting ``region_code``, as plain data."""
    scope.require_role("county_admin", "station_admin", "officer")
    region = get_in_scope(scope, region_code)
    row = CampaignCode(code=new_invite_code(), region_id=region.id, name=name, created_by=scope.user_id)
    db.session.add(row)
    db.session.commit()
    return campaign_row(row, region.code, base_url)


def list_campaigns(scope: Scope, region_code: str | None, *, base_url: str) -> list[dict]:
    """Campaign codes of a region subtree, newest first, as plain data."""
    region = get_in_scope(scope, region_code)
    rows = db.session.execute(
        sa.select(CampaignCode, Region.code).join(Region, Region.id == CampaignCode.region_id)
        .where(Region.path.startswith(region.path, autoescape=True))
        .order_by(CampaignCode.id.desc())).all()
    return [campaign_row(row, code, base_url) for row, code in rows]


def campaign_row(row: CampaignCode, region_code: str, base_url: str) -> dict:
    """A campaign code as plain data, with the URL residents open."""
    return {"code": row.code, "name": row.name, "region": region_code, "created_at": row.created_at,
            "url": invite_url(base_url, row.code)}
