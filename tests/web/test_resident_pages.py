"""Resident pages through the Flask test client: the no-JavaScript flow, errors, headers."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from quizbot.extensions import db
from quizbot.models import ChatLog, Household, Member, QuizSession
from tests.web.conftest import csrf_from

FIELD_RE = re.compile(r'name="(q-[^"]+)" value="([A-Z])"')


def _start(client, app, member: str = "other"):
    code = app.config["H1_INVITE"]
    page = client.get(f"/q/{code}").get_data(as_text=True)
    response = client.post(f"/q/{code}/start", data={"csrf_token": csrf_from(page), "member": member})
    assert response.status_code == 303
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    session_id = re.search(r'data-session="([^"]+)"', html).group(1)
    return session_id, html


def _options(html: str) -> dict[str, list[str]]:
    options: dict[str, list[str]] = {}
    for name, key in FIELD_RE.findall(html):
        options.setdefault(name, []).append(key)
    return options


def _first_options(html: str) -> dict[str, str]:
    return {name: keys[0] for name, keys in _options(html).items()}


def _backdate(app, session_id: str, minutes: int = 5) -> None:
    with app.app_context():
        session = db.session.get(QuizSession, session_id)
        session.created_at -= timedelta(minutes=minutes)
        db.session.commit()


def _member_id(app, name: str) -> int:
    with app.app_context():
        return db.session.execute(sa.select(Member.id).where(Member.name == name)).scalar_one()


def test_landing_shows_place_and_masked_members_only(pclient, page_app):
    html = pclient.get(f"/q/{page_app.config['H1_INVITE']}").get_data(as_text=True)
    assert "甲村一组 · 第7户" in html
    assert "王*华" in html and "李*英" in html and "其他家人" in html
    for secret in ("王小华", "李秀英", "13812345678", "138****5678", "H1路1号"):
        assert secret not in html
    assert '<html lang="zh-CN"' in html and "<title>甲村一组 · 第7户" in html


def test_unknown_invite_is_a_friendly_404_page(pclient):
    response = pclient.get("/q/not-a-real-code")
    html = response.get_data(as_text=True)
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert "这个二维码无效或已失效" in html and "民警或网格员" in html and 'href="/quiz"' in html


def test_member_quiz_credits_household_and_member_once(pclient, page_app):
    member = _member_id(page_app, "王小华")
    session_id, html = _start(pclient, page_app, str(member))
    assert len(FIELD_RE.findall(html)) > 0
    _backdate(page_app, session_id)  # answered at a resident's pace, not held as too fast
    data = {"csrf_token": csrf_from(html), **_first_options(html)}
    first = pclient.post(f"/quiz/s/{session_id}/submit", data=data)
    assert first.status_code == 303 and first.headers["Location"].endswith("/result")
    # A reload of the submit (or a second tab) with other answers shows the first result.
    other = {name: keys[-1] for name, keys in _options(html).items()}
    again = pclient.post(f"/quiz/s/{session_id}/submit", data={"csrf_token": data["csrf_token"], **other})
    assert again.status_code == 303 and "again=1" in again.headers["Location"]
    result = pclient.get(again.headers["Location"]).get_data(as_text=True)
    assert "已经提交过" in result and "逐题解析" in result and 'href="tel:110"' in result
    with page_app.app_context():
        session = db.session.get(QuizSession, session_id)
        household = db.session.execute(sa.select(Household).filter_by(code="H1")).scalar_one()
        assert session.member_id == member and session.channel == "web" and session.credited
        assert household.quiz_count == 1 and household.members_quizzed == 1
        assert db.session.get(Member, member).quizzed_at is not None
        count = db.session.execute(sa.select(sa.func.count()).select_from(QuizSession)
                                   .where(QuizSession.submitted_at.is_not(None))).scalar_one()
        assert count == 1


def test_elderly_member_gets_the_elderly_draw(pclient, page_app):
    session_id, _ = _start(pclient, page_app, str(_member_id(page_app, "李秀英")))
    with page_app.app_context():
        assert db.session.get(QuizSession, session_id).audience == "elderly"


def test_member_of_another_household_is_refused(pclient, page_app):
    code = page_app.config["H1_INVITE"]
    page = pclient.get(f"/q/{code}").get_data(as_text=True)
    response = pclient.post(f"/q/{code}/start", data={"csrf_token": csrf_from(page), "member": "999999"})
    assert response.status_code == 422 and "请选择您是哪一位家庭成员" in response.get_data(as_text=True)


def test_unanswered_questions_are_named_not_scored(pclient, page_app):
    session_id, html = _start(pclient, page_app)
    answers = _first_options(html)
    skipped = next(iter(answers))
    answers.pop(skipped)
    response = pclient.post(f"/quiz/s/{session_id}/submit", data={"csrf_token": csrf_from(html), **answers})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "还有 1 道题没有作答" in page
    # What was already chosen stays checked on the page that comes back.
    assert page.count("checked") == len(answers)
    with page_app.app_context():
        assert db.session.get(QuizSession, session_id).submitted_at is None


def test_form_post_without_csrf_token_is_refused(pclient, page_app):
    response = pclient.post(f"/q/{page_app.config['H1_INVITE']}/start", data={"member": "other"})
    assert response.status_code == 400 and "页面已过期" in response.get_data(as_text=True)
    with page_app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(QuizSession)).scalar_one() == 0


def test_expired_session_gets_a_410_page(pclient, page_app):
    session_id, _ = _start(pclient, page_app)
    with page_app.app_context():
        session = db.session.get(QuizSession, session_id)
        session.expires_at = session.created_at - timedelta(seconds=1)
        db.session.commit()
    response = pclient.get(f"/quiz/s/{session_id}")
    assert response.status_code == 410 and "重新开始" in response.get_data(as_text=True)


def test_unknown_session_and_unrouted_pages_are_html_404(pclient):
    assert pclient.get("/quiz/s/nope").status_code == 404
    response = pclient.get("/no-such-page", headers={"Accept": "text/html"})
    assert response.status_code == 404 and response.mimetype == "text/html"
    api = pclient.get("/api/v1/no-such-thing", headers={"Accept": "text/html"})
    assert api.status_code == 404 and api.get_json()["error"]["code"] == "not_found"


def test_pages_carry_security_headers(pclient):
    response = pclient.get("/quiz")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]
    assert "HttpOnly" in response.headers.get("Set-Cookie", "") or response.headers.get("Set-Cookie") is None


def test_big_text_mode_persists_and_only_redirects_on_site(pclient):
    html = pclient.get("/quiz").get_data(as_text=True)
    token = csrf_from(html)
    response = pclient.post("/settings/text-size", data={"csrf_token": token, "big": "1", "next": "//evil.example/x"})
    assert response.status_code == 303 and response.headers["Location"] == "/quiz"
    assert '<html lang="zh-CN" class="big">' in pclient.get("/quiz").get_data(as_text=True)
    pclient.post("/settings/text-size", data={"csrf_token": token, "big": "0", "next": "/check"})
    assert 'class="big"' not in pclient.get("/quiz").get_data(as_text=True)


def test_general_quiz_starts_with_picked_audience_and_refuses_unknown(pclient, page_app):
    token = csrf_from(pclient.get("/quiz").get_data(as_text=True))
    ok = pclient.post("/quiz/start", data={"csrf_token": token, "audience": "student"})
    assert ok.status_code == 303
    bad = pclient.post("/quiz/start", data={"csrf_token": token, "audience": "martian"})
    assert bad.status_code == 422 and "请选择您的身份" in bad.get_data(as_text=True)
    with page_app.app_context():
        session = db.session.execute(sa.select(QuizSession)).scalar_one()
        assert session.audience == "student" and session.household_id is None


def _check(client, text: str, **extra):
    token = csrf_from(client.get("/check").get_data(as_text=True))
    return client.post("/check", data={"csrf_token": token, "text": text, **extra})


def test_check_money_moved_leads_with_emergency_and_110(pclient):
    html = _check(pclient, "他说是公安局的，说我涉嫌洗钱，我已经把五万转到他给的安全账户了").get_data(as_text=True)
    assert html.index("钱已经转出去了") < html.index("很可能是诈骗")
    assert 'href="tel:110"' in html and "<mark>安全账户</mark>" in html


def test_check_everyday_message_is_not_alarmed_or_called_safe(pclient):
    html = _check(pclient, "妈，这个月生活费收到了，周末回家吃饭").get_data(as_text=True)
    assert "很可能是诈骗" not in html and "钱已经转出去了" not in html
    assert "安全" not in html.split("<main", 1)[1].split("</main>", 1)[0].replace("安全账户", "")


def test_check_bad_input_and_privacy(pclient, page_app):
    assert _check(pclient, "   ").status_code == 422
    assert _check(pclient, "字" * 2001).status_code == 422
    response = _check(pclient, "有人让我下载会议软件共享屏幕", invite=page_app.config["H1_INVITE"])
    assert response.status_code == 200
    with page_app.app_context():
        log = db.session.execute(sa.select(ChatLog)).scalar_one()
        household = db.session.execute(sa.select(Household).filter_by(code="H1")).scalar_one()
        assert log.text is None and log.channel == "web" and log.region_id == household.region_id


def test_check_is_rate_limited_per_phone(pclient, page_app):
    page_app.config["CHAT_RATE_LIMIT"] = "2 per minute"
    codes = [_check(pclient, f"第{i}条：客服说要退款给我").status_code for i in range(3)]
    assert codes[:2] == [200, 200] and codes[2] == 429
    assert "操作得太快" in _check(pclient, "再试一次").get_data(as_text=True)
