"""Browser-test harness: the app served on 127.0.0.1 from a thread, Debian's chromium driven
by Playwright, screenshots under tests/artifacts/, and axe-core checks.

Tests create their data through services, then act only through the browser.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
AXE = next((ROOT / "tests" / "vendor").glob("axe-core-*/axe.min.js"), None)
CHROMIUM = os.environ.get("QUIZBOT_CHROMIUM", "/usr/bin/chromium")
# CI sets this so that a missing browser fails the run instead of skipping the journeys.
REQUIRE_BROWSER = os.environ.get("QUIZBOT_REQUIRE_BROWSER") == "1"

PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True,
         "device_scale_factor": 2, "locale": "zh-CN"}
SIZES = {"360": {"width": 360, "height": 740}, "414": {"width": 414, "height": 896}}


def launch_browser():
    """Chromium from Debian, or a skip (locally) / failure (CI) naming what is missing."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - requirements-dev installs it
        _missing("the playwright package is not installed")
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).is_file()):
        _missing(f"{CHROMIUM} not found (apt-get install chromium fonts-noto-cjk)")
    manager = sync_playwright().start()
    browser = manager.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
    return manager, browser


def _missing(why: str):
    if REQUIRE_BROWSER:
        pytest.fail(f"browser tests required but {why}")
    pytest.skip(f"browser tests skipped: {why}")


class LiveServer:
    """The WSGI app on a free local port in a daemon thread."""

    def __init__(self, app):
        from werkzeug.serving import make_server

        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(timeout=5)


def shot(page, journey: str, step: str) -> Path:
    """Save a full-page screenshot as tests/artifacts/<journey>-<step>-<width>.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"] if page.viewport_size else 0
    path = ARTIFACTS / f"{journey}-{step}-{width}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def axe_violations(page) -> list[dict]:
    """Serious and critical axe-core violations on the current page (evaluated, so the page's
    own CSP does not have to allow an injected script)."""
    assert AXE is not None, "run scripts/vendor_assets.py: tests/vendor/axe-core-* is missing"
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    bad = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    return [{"id": v["id"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]} for v in bad]


def assert_accessible(page) -> None:
    """Fail with the violations listed when axe finds anything serious."""
    violations = axe_violations(page)
    assert not violations, json.dumps(violations, ensure_ascii=False, indent=1)


def no_horizontal_overflow(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")


@contextmanager
def serve_app(tmp_dir: Path, populate: Callable[[object], None]):
    """The app with the real question bank on a fresh database (TEST_DATABASE_URL, or a SQLite
    file: threads cannot share an in-memory one), filled by ``populate(app)`` inside an app
    context, served on 127.0.0.1; ``PUBLIC_BASE_URL`` is the server's own address."""
    from config import TestConfig
    from quizbot import create_app
    from quizbot.bank import load_bank
    from quizbot.extensions import db
    from quizbot.services import bank as bank_service
    from quizbot.services import integrity

    db_url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_dir / 'live.sqlite3'}"

    class LiveConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = db_url.replace("postgresql://", "postgresql+psycopg://")
        IMPORT_JOBS = "thread"  # as in production: the page polls a background job

    app = create_app(LiveConfig)
    # Playwright answers far faster than any resident: the too-fast rule is tested elsewhere.
    saved_min, integrity.MIN_SECONDS_PER_QUESTION = integrity.MIN_SECONDS_PER_QUESTION, 0.0
    try:
        with app.app_context():
            db.drop_all()
            db.create_all()
            bank_service.clear_cache()
            bank_service.import_bank(load_bank(ROOT / "question_bank"))
            populate(app)
        with LiveServer(app) as server:
            app.config["PUBLIC_BASE_URL"] = server.url
            yield server
    finally:
        integrity.MIN_SECONDS_PER_QUESTION = saved_min
        with app.app_context():
            db.session.remove()
            db.drop_all()
            db.engine.dispose()
        bank_service.clear_cache()
