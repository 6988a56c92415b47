"""Resident journeys in a real browser (Debian chromium + Playwright), phone-sized with touch.

Screenshots of every page land in tests/artifacts/ (git-ignored); look at them.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from quizbot.extensions import db
from quizbot.models import Member, QuizSession
from tests.officers.conftest import PASSWORD, build_tree, make_household, make_user
from tests.web.browser import (
    PHONE,
    SIZES,
    assert_accessible,
    no_horizontal_overflow,
    serve_app,
    shot,
)

pytestmark = pytest.mark.browser
MEMBERS = {"HB1": ("王小华", "李秀英", "王明"), "HB2": ("赵大山",), "HB3": ("钱多多", "孙丽")}


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The app with the real question bank and three households, served on 127.0.0.1."""

    def populate(app):
        build_tree()
        make_user("officer", "officer", "V1")
        invites = {}
        for number, (code, names) in enumerate(MEMBERS.items(), 3):
            household = make_household(code, "G1", members=0, house_number=str(number))
            for name in names:
                tags = ["elderly"] if name == "李秀英" else []
                db.session.add(Member(household_id=household.id, name=name, tags=tags))
            household.member_count = len(names)
            db.session.commit()
            invites[code] = household.invite_code
        app.config["INVITES"] = invites

    with serve_app(tmp_path_factory.mktemp("live"), populate) as server:
        yield server


@pytest.fixture
def phone(browser):
    context = browser.new_context(**PHONE)
    yield context
    context.close()


def _answer_current(page, which: int = 0) -> None:
    page.locator(".question.current .choice").nth(which).click()


def _officer_view(app, code: str) -> dict:
    client = app.test_client()
    token = client.post("/api/v1/auth/login", json={"username": "officer", "password": PASSWORD}) \
        .get_json()["data"]["token"]
    response = client.get(f"/api/v1/households/{code}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]


def _submitted(app, session_id: str) -> int:
    with app.app_context():
        return db.session.execute(sa.select(sa.func.count()).select_from(QuizSession).where(
            QuizSession.id == session_id, QuizSession.submitted_at.is_not(None))).scalar_one()


def test_household_quiz_in_big_text_with_reload(live, phone):
    """Journey 1: scan, pick a member, 大字, answer 10, reload midway, submit, read explanations."""
    page = phone.new_page()
    page.goto(f"{live.url}/q/{live.app.config['INVITES']['HB1']}")
    assert page.locator("h1").inner_text() == "3 分钟反诈小测试"
    assert "甲村一组 · 第3户" in page.content() and "王小华" not in page.content()
    shot(page, "j1", "landing")
    assert_accessible(page)
    page.get_by_role("button", name="大字").click()
    page.wait_for_load_state()
    assert "big" in (page.locator("html").get_attribute("class") or "")
    page.get_by_label("王*华").check()
    shot(page, "j1", "landing-big")
    page.get_by_role("button", name="开始答题").click()
    page.wait_for_selector(".question.current")
    session_id = re.search(r"/quiz/s/([^/?#]+)", page.url).group(1)
    assert page.locator(".question.current .progress").inner_text() == "1 / 10"
    shot(page, "j1", "question-big")
    assert_accessible(page)
    # Touch targets are thumb-sized.
    heights = page.locator(".question.current .choice").evaluate_all("els => els.map(e => e.offsetHeight)")
    assert min(heights) >= 48
    for step in range(1, 6):
        _answer_current(page, step % 2)
        page.get_by_role("button", name="下一题").locator("visible=true").click()
    assert page.locator(".question.current .progress").inner_text() == "6 / 10"
    page.reload()
    page.wait_for_selector(".question.current")
    assert page.locator(".question.current .progress").inner_text() == "6 / 10"
    assert page.locator("input:checked").count() >= 5  # answers survived the reload
    page.get_by_role("button", name="上一题").locator("visible=true").click()
    assert page.locator(".question.current .progress").inner_text() == "5 / 10"
    page.get_by_role("button", name="下一题").locator("visible=true").click()
    for _ in range(6, 10):
        _answer_current(page)
        page.get_by_role("button", name="下一题").locator("visible=true").click()
    _answer_current(page)
    shot(page, "j1", "last-question-big")
    page.get_by_role("button", name="提交答案").click()
    page.wait_for_url(re.compile(r"/result"))
    assert "逐题解析" in page.content() and page.locator(".explain").count() == 10
    assert page.locator('a[href="tel:96110"]').count() >= 1 and page.locator('a[href="tel:110"]').count() >= 1
    assert no_horizontal_overflow(page)
    shot(page, "j1", "result-big")
    assert_accessible(page)
    data = _officer_view(live.app, "HB1")
    credited = [m for m in data["members"] if m["quizzed_at"]]
    assert data["quiz_count"] == 1 and len(credited) == 1 and credited[0]["name"] == "王小华"
    assert _submitted(live.app, session_id) == 1


def test_offline_midway_submits_once_when_back(live, phone):
    """Journey 2: the network drops mid-quiz; answers stay; submission goes through once."""
    page = phone.new_page()
    page.goto(f"{live.url}/q/{live.app.config['INVITES']['HB2']}")
    page.get_by_role("button", name="开始答题").click()
    page.wait_for_selector(".question.current")
    session_id = re.search(r"/quiz/s/([^/?#]+)", page.url).group(1)
    _answer_current(page)
    phone.set_offline(True)
    for _ in range(9):
        page.get_by_role("button", name="下一题").locator("visible=true").click()
        _answer_current(page)
    page.get_by_role("button", name="提交答案").click()
    page.wait_for_function("() => document.getElementById('quiz-status').textContent.includes('网络断开')")
    shot(page, "j2", "offline")
    assert _submitted(live.app, session_id) == 0
    phone.set_offline(False)
    page.wait_for_url(re.compile(r"/result"), timeout=15000)
    assert _submitted(live.app, session_id) == 1
    data = _officer_view(live.app, "HB2")
    assert data["quiz_count"] == 1


def test_bad_invite_code_shows_friendly_page(live, phone):
    """Journey 3."""
    page = phone.new_page()
    response = page.goto(f"{live.url}/q/no-such-code")
    assert response.status == 404
    assert "这个二维码无效或已失效" in page.content()
    shot(page, "j3", "bad-invite")
    assert_accessible(page)
    page.get_by_role("link", name="做一份通用反诈小测试").click()
    assert page.url.endswith("/quiz")


def test_check_page_emergency_and_everyday(live, phone):
    """Journey 4: fake police + money sent → high and emergency steps; everyday text is calm."""
    page = phone.new_page()
    page.goto(f"{live.url}/check")
    shot(page, "j4", "check-empty")
    assert_accessible(page)
    page.get_by_label("收到的内容或遇到的情况").fill(
        "一个自称公安局的人打电话说我的银行卡涉嫌洗钱，要配合调查，我已经把八万块转到他说的安全账户了")
    page.get_by_role("button", name="帮我看看").click()
    page.wait_for_selector(".verdict")
    emergency = page.locator(".emergency")
    assert emergency.is_visible() and emergency.locator('a[href="tel:110"]').count() == 1
    assert emergency.bounding_box()["y"] < page.locator(".verdict").bounding_box()["y"]
    assert "很可能是诈骗" in page.locator(".verdict h2").inner_text()
    assert page.locator("mark").count() >= 1
    shot(page, "j4", "check-emergency")
    assert_accessible(page)
    page.get_by_label("收到的内容或遇到的情况").fill("儿子，这个月的生活费给你转过去了，记得按时吃饭")
    page.get_by_role("button", name="帮我看看").click()
    page.wait_for_selector(".verdict")
    assert page.locator(".emergency").count() == 0
    assert "很可能是诈骗" not in page.locator(".verdict h2").inner_text()
    shot(page, "j4", "check-everyday")


def test_keyboard_only_quiz(live, browser):
    """Journey 5: Tab, arrows, Space and Enter get a resident through the quiz and submitted."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live.url}/q/{live.app.config['INVITES']['HB3']}")
    page.get_by_label("钱*多").focus()
    page.keyboard.press("Space")
    page.get_by_role("button", name="开始答题").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector(".question.current")
    for number in range(1, 11):
        page.locator(".question.current input").first.focus()
        page.keyboard.press("Space")
        if number < 10:
            page.keyboard.press("Tab")
            while page.evaluate("document.activeElement.classList.contains('js-next')") is False:
                page.keyboard.press("Tab")
            page.keyboard.press("Enter")
            # Focus moves to the new question so a screen reader reads it next.
            assert page.evaluate("document.activeElement.classList.contains('question')")
    while page.evaluate("document.activeElement.type") != "submit" or \
            page.evaluate("document.activeElement.textContent.trim()") != "提交答案":
        page.keyboard.press("Tab")
    shot(page, "j5", "keyboard-submit")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/result"))
    assert "逐题解析" in page.content()
    context.close()


@pytest.mark.parametrize("width", sorted(SIZES))
@pytest.mark.parametrize("big", [False, True])
def test_every_page_fits_phones(live, browser, width, big):
    """Screenshots of every resident page at 360 and 414 px, normal and 大字; nothing overflows."""
    context = browser.new_context(viewport=SIZES[width], has_touch=True, is_mobile=True, locale="zh-CN")
    if big:
        context.add_cookies([{"name": "qb_big", "value": "1", "url": live.url}])
    page = context.new_page()
    tag = "big" if big else "normal"
    for name, path in (("general", "/quiz"), ("landing", f"/q/{live.app.config['INVITES']['HB1']}"),
                       ("check", "/check"), ("error", "/q/nope")):
        page.goto(live.url + path)
        assert no_horizontal_overflow(page), name
        shot(page, "pages", f"{name}-{tag}")
    page.goto(live.url + "/quiz")
    page.get_by_role("button", name="开始答题").click()
    page.wait_for_selector(".question.current")
    assert no_horizontal_overflow(page)
    shot(page, "pages", f"question-{tag}")
    context.close()
