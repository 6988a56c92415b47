"""Fixtures for the pages: a household with members in the officers' region tree."""

from __future__ import annotations

import re
import threading

import pytest

from quizbot.extensions import db
from quizbot.models import Household, Member
from quizbot.services import counters, import_jobs
from tests.officers.conftest import PASSWORD, build_tree, make_household, make_user  # noqa: F401  (shared factories)

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = CSRF_RE.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


@pytest.fixture
def page_app(loaded_app):
    """The mini bank, the region tree and household H1 (three members, one elderly) in group G1."""
    with loaded_app.app_context():
        build_tree()
        household = make_household("H1", "G1", members=0, house_number="7", phone="13812345678",
                                   head_name="王小华")
        for name, tags, band in (("王小华", [], "36-59"), ("李秀英", ["elderly"], "70+"), ("王明", [], "0-17")):
            db.session.add(Member(household_id=household.id, name=name, tags=tags, age_band=band))
        household.member_count = 3
        counters.add(household.region_id, members_total=3)  # the counters agree with the rows
        db.session.commit()
        loaded_app.config["H1_INVITE"] = household.invite_code
    return loaded_app


@pytest.fixture
def pclient(page_app):
    return page_app.test_client()


def household(app) -> Household:
    with app.app_context():
        return db.session.execute(db.select(Household).filter_by(code="H1")).scalar_one()


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium for one test module (skips locally, fails in CI, when missing)."""
    from tests.web.browser import launch_browser

    manager, chromium = launch_browser()
    yield chromium
    chromium.close()
    manager.stop()


@pytest.fixture
def accounts_app(page_app):
    """page_app plus console accounts (station T1, grid G1, officer T2, county C1) and H2, H3."""
    with page_app.app_context():
        make_user("station", "station_admin", "T1")
        make_user("grid", "grid_worker", "G1")
        make_user("west", "officer", "T2")
        make_user("county", "county_admin", "C1")
        make_household("H2", "G1", members=1, house_number="10")
        make_household("H3", "G1", members=1, house_number="2")
    return page_app


def sign_in(client, username: str, password: str = PASSWORD):
    page = client.get("/admin/login").get_data(as_text=True)
    return client.post("/admin/login", data={"csrf_token": csrf_from(page), "username": username,
                                             "password": password})


def token_of(client) -> str:
    return csrf_from(client.get("/admin/households").get_data(as_text=True))


def hold_preview_at(monkeypatch, rows: int) -> tuple[threading.Event, threading.Event]:
    """Make a background preview stop once it has checked ``rows`` rows (its progress saved),
    so a test sees it running at a known point: ``reached`` is set then, and the job goes on
    when the test sets ``release`` (or after 60 s)."""
    reached, release = threading.Event(), threading.Event()
    advance = import_jobs._Reporter.advance

    def held_advance(self, count):
        advance(self, count)
        if self.state == "checking" and self.name == "check" and self.done >= rows and not release.is_set():
            self._save(force=True)
            reached.set()
            release.wait(60)

    monkeypatch.setattr(import_jobs._Reporter, "advance", held_advance)
    return reached, release
