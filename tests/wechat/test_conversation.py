"""What residents get back: verdicts, retries, late answers, message types, the quiz, binding."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from quizbot.extensions import db
from quizbot.models import ChatLog, QuizSession, WechatBinding, WechatMessage, WechatQuizState
from quizbot.services import chat as chat_service

from .conftest import ACCOUNT, message_xml, unique

SCAM = "有人自称公安说我涉嫌洗钱，让我把钱转到安全账户，还要验证码"


def _count(app, model, *where):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def test_text_gets_a_phone_sized_verdict(wx, bot_calls):
    reply = wx.say(SCAM)
    assert bot_calls == [SCAM]
    assert reply.startswith("公检法不会通过电话办案")  # the engine's reply, as it wrote it
    assert "96110" in reply and "110 报警" in reply
    assert len(reply.encode("utf-8")) <= 1800


def test_text_with_the_real_engine(wx):
    """The real chatbot engine (on the mini bank) answers through WeChat too."""
    reply = wx.say(SCAM)
    assert "96110" in reply and len(reply.encode("utf-8")) <= 1800


def test_the_verdict_is_rendered_once(wx):
    """No second header on top of the engine's own verdict line."""
    reply = wx.say(SCAM)
    assert reply.startswith("⚠️ 高度疑似")
    assert reply.count("⚠️") == 1 and reply.count("识别依据") == 1
    assert "高风险：" not in reply and "类型：" not in reply


@pytest.mark.parametrize("text", [
    "我已经转了3万块给对方了怎么办",
    "刚转了五千给那个客服，他又让我再转",
    "我银行卡里的钱刚被人转走了",
    "被骗了八千块钱怎么办",  # session 5: no "我", a question: still an emergency, not knowledge
    "交了三千的解冻费，还是提不了现，客服说还要交",
])
def test_money_already_moved_gets_the_emergency_script_first(wx, text):
    reply = wx.say(text, user="oMoved01")
    first_lines = "\n".join(reply.splitlines()[:4])
    assert reply.startswith("🚨") and "110" in first_lines and "紧急止付" in reply
    assert "停止转账" in first_lines and "保留" in reply


def test_same_msgid_three_times_runs_the_bot_once(wx, wx_app, bot_calls):
    xml = message_xml("text", Content=SCAM, msg_id=unique())
    answers = [wx.reply_text(wx.post(xml)) for _ in range(3)]
    assert len(bot_calls) == 1
    assert answers[0] and answers[0] == answers[1] == answers[2]
    assert _count(wx_app, WechatMessage) == 1
    assert _count(wx_app, ChatLog) == 1


def test_same_msgid_encrypted_with_fresh_nonces(wx_aes, bot_calls):
    xml = message_xml("text", Content=SCAM, msg_id=unique())
    first, second = (wx_aes.reply_text(wx_aes.post(xml)) for _ in range(2))
    assert first == second and len(bot_calls) == 1


def test_retry_while_first_is_running_gets_success(wx, wx_app, monkeypatch, bot_calls):
    release, started = threading.Event(), threading.Event()
    real = chat_service.ask

    def slow(text, **kwargs):
        started.set()
        release.wait(5)
        return real(text, **kwargs)

    monkeypatch.setattr(chat_service, "ask", slow)
    xml = message_xml("text", Content=SCAM, msg_id=unique())
    results = {}
    first = threading.Thread(target=lambda: results.setdefault("first", wx.post(xml)))
    first.start()
    assert started.wait(5)
    retry = wx_app.test_client().post("/wechat", query_string=wx.args(), data=xml, content_type="text/xml")
    assert retry.get_data(as_text=True) == "success"
    release.set()
    first.join(10)
    assert "96110" in wx.reply_text(results["first"])
    # Once answered, a further retry gets the stored reply.
    assert wx.reply_text(wx.post(xml)) == wx.reply_text(results["first"])


@pytest.mark.parametrize("path", ["/wechat", "/wecom"])
def test_late_answer_goes_out_through_the_api(wx_app, fake_api, monkeypatch, path, wx, wecom, bot_calls):
    wx_app.config["WECHAT_REPLY_TIMEOUT_SECONDS"] = 0.2
    real = chat_service.ask

    def slow(text, **kwargs):
        time.sleep(0.6)
        return real(text, **kwargs)

    monkeypatch.setattr(chat_service, "ask", slow)
    client = wx if path == "/wechat" else wecom
    user = "oLateUser01"
    xml = message_xml("text", user=user, Content=SCAM, msg_id=unique())
    started = time.perf_counter()
    assert client.post(xml).get_data(as_text=True) == "success"
    assert time.perf_counter() - started < 0.5
    assert fake_api.sent.wait(5)
    (send_path, query, payload), = fake_api.posts()
    assert payload["touser"] == user
    assert payload["msgtype"] == "text" and "96110" in payload["text"]["content"]
    if path == "/wechat":
        assert send_path == "/cgi-bin/message/custom/send"
        assert fake_api.calls[0][1] == "/cgi-bin/token"
    else:
        assert send_path == "/cgi-bin/message/send"
        assert payload["agentid"] == 1000002
        assert fake_api.calls[0][1] == "/cgi-bin/gettoken"
    assert query["access_token"] == ["TOKEN1"]
    channel = path.strip("/")
    wx_app.extensions["wechat"].drain(5)
    assert _count(wx_app, WechatMessage, WechatMessage.status == "sent", WechatMessage.channel == channel) == 1
    # A retry after the late delivery does not send it twice.
    assert client.post(xml).get_data(as_text=True) == "success"


def test_sender_refreshes_an_expired_token(fake_api):
    from quizbot.wechat.sender import OfficialAccountSender

    fake_api.fail_first_send_with = 42001
    sender = OfficialAccountSender(fake_api.base, "wxapp", "secret")
    sender.send_text("oUser", "你好")
    paths = [c[1] for c in fake_api.calls]
    assert paths == ["/cgi-bin/token", "/cgi-bin/message/custom/send", "/cgi-bin/token",
                     "/cgi-bin/message/custom/send"]
    assert fake_api.posts()[-1][1]["access_token"] == ["TOKEN3"]


def test_sender_raises_on_refusal(fake_api):
    from quizbot.wechat.sender import SendError, WeComSender

    fake_api.fail_first_send_with = 45015  # 48 h window passed
    with pytest.raises(SendError):
        WeComSender(fake_api.base, "ww", "secret", 1).send_text("u", "你好")


@pytest.mark.parametrize("content", ["", "   \n\t  "])
def test_empty_and_whitespace_text(wx, bot_calls, content):
    reply = wx.say(content)
    assert "帮助" in reply and bot_calls == []


def test_long_emoji_and_control_character_text(wx, bot_calls):
    long_reply = wx.say("转账" * 5000)  # 10,000 characters
    assert long_reply and len(long_reply.encode("utf-8")) <= 1800
    assert wx.say("😀😀 有人让我刷单返利 🙏") and wx.say("刷\x02单\x1b返利\x08")
    assert len(bot_calls) == 3
    assert "\x02" not in bot_calls[2]


def test_reply_with_cdata_terminator_survives(wx, monkeypatch):
    from quizbot.chatbot import Verdict

    monkeypatch.setattr(chat_service, "ask", lambda text, **kw: Verdict(
        risk="low", risk_score=1, scam_types=[], reply="注意]]><xml>别上当" + "骗" * 1000,
        intent="smalltalk"))
    reply = wx.say("随便说点什么")
    assert reply.startswith("注意]]><xml>别上当")
    assert len(reply.encode("utf-8")) <= 1800


def test_voice_with_recognition_is_text(wx, bot_calls):
    reply = wx.reply_text(wx.post(message_xml("voice", MediaId="m1", Format="amr", Recognition=SCAM)))
    assert bot_calls == [SCAM] and "96110" in reply


def test_voice_without_recognition(wx, bot_calls):
    reply = wx.reply_text(wx.post(message_xml("voice", MediaId="m1", Format="amr")))
    assert "文字" in reply and bot_calls == []


@pytest.mark.parametrize("msg_type,fields,expect", [
    ("image", {"PicUrl": "http://x/y.jpg", "MediaId": "m"}, "图片"),
    ("video", {"MediaId": "m", "ThumbMediaId": "t"}, "视频"),
    ("shortvideo", {"MediaId": "m", "ThumbMediaId": "t"}, "视频"),
    ("location", {"Location_X": "23.1", "Location_Y": "113.3", "Scale": "20", "Label": "某地"}, "110"),
    ("link", {"Title": "领钱", "Description": "点我", "Url": "http://x"}, "链接"),
    ("miniprogrampage", {"Title": "t"}, "帮助"),
    ("weird_new_type", {}, "帮助"),
])
def test_other_message_types_get_short_help(wx, bot_calls, msg_type, fields, expect):
    reply = wx.reply_text(wx.post(message_xml(msg_type, **fields)))
    assert expect in reply and bot_calls == []
    assert len(reply) < 200


def test_subscribe_greeting_and_event_dedupe(wx, wx_app):
    create_time = int(time.time())
    xml = message_xml("event", user="oNewUser", create_time=create_time, Event="subscribe")
    first = wx.reply_text(wx.post(xml))
    assert "欢迎" in first and "答题" in first and "绑定" in first
    assert wx.reply_text(wx.post(xml)) == first
    assert _count(wx_app, WechatMessage) == 1
    qr = message_xml("event", user="oQrUser", Event="subscribe", EventKey="qrscene_123")
    assert "欢迎" in wx.reply_text(wx.post(qr))


def test_other_events_get_success(wx):
    assert wx.post(message_xml("event", Event="CLICK", EventKey="k")).get_data(as_text=True) == "success"


def test_help(wx):
    reply = wx.say("帮助")
    assert "答题" in reply and "绑定" in reply and "96110" in reply


def test_unsubscribe_deletes_the_users_data(wx, wx_app, bot_calls):
    user, other = "oLeaving01", "oStaying01"
    wx.say(SCAM, user=user)
    wx.say(SCAM, user=other)
    assert "第 1/5 题" in wx.say("答题", user=user)
    with wx_app.app_context():
        secret = wx_app.config["SECRET_KEY"]
        user_hash = chat_service.user_hash(user, secret)
        other_hash = chat_service.user_hash(other, secret)
    assert _count(wx_app, ChatLog, ChatLog.user_hash == user_hash) == 1
    assert _count(wx_app, WechatQuizState) == 1
    assert wx.post(message_xml("event", user=user, Event="unsubscribe")).get_data(as_text=True) == "success"
    assert _count(wx_app, ChatLog, ChatLog.user_hash == user_hash) == 0
    assert _count(wx_app, WechatQuizState) == 0
    # Only the unsubscribe event's own dedupe record is left (so its retries stay deduped).
    assert _count(wx_app, WechatMessage, WechatMessage.user_hash == user_hash) == 1
    assert _count(wx_app, WechatMessage, WechatMessage.user_hash == user_hash,
                  WechatMessage.reply != "") == 0
    assert _count(wx_app, QuizSession, QuizSession.client_id == user_hash) == 0
    assert _count(wx_app, ChatLog, ChatLog.user_hash == other_hash) == 1


# --- the quiz in chat -------------------------------------------------------------------


def _current_question(app, user):
    from quizbot.services import quiz as quiz_service

    with app.app_context():
        user_hash = chat_service.user_hash(user, app.config["SECRET_KEY"])
        state = db.session.execute(sa.select(WechatQuizState).where(
            WechatQuizState.user_hash == user_hash)).scalar_one_or_none()
        if state is None:
            return None
        session = quiz_service.get_session(state.session_id)
        return SimpleNamespace(**quiz_service.client_questions(session, reveal=True)[state.position])


def _reply_for(question, correct=True):
    answer = question.answer if correct else [
        next(o["key"] for o in question.options if [o["key"]] != question.answer and o["key"] not in question.answer)]
    if question.type == "judge":
        return "对" if answer == ["T"] else "错"
    return "".join(answer)


def test_quiz_from_start_to_score(wx, wx_app, bot_calls):
    user = "oQuizUser01"
    first = wx.say("答题", user=user)
    assert "共 5 题" in first and "第 1/5 题" in first
    assert "还没" not in first
    assert "正在答题中" in wx.say("随便", user=user)  # not an answer: asked again
    for number in range(1, 6):
        question = _current_question(wx_app, user)
        correct = number != 2
        reply = wx.say(_reply_for(question, correct), user=user)
        assert ("回答正确" in reply) == correct
        assert question.explanation in reply
        if number < 5:
            assert f"第 {number + 1}/5 题" in reply
    assert "答对 4/5 题" in reply and "得分 80 分" in reply
    assert bot_calls == []
    assert _count(wx_app, WechatQuizState) == 0
    with wx_app.app_context():
        session = db.session.execute(sa.select(QuizSession)).scalar_one()
        assert session.channel == "wechat" and session.score == 80 and session.submitted_at
        assert session.client_id == chat_service.user_hash(user, wx_app.config["SECRET_KEY"])
    # After the quiz, text goes to the chatbot again.
    wx.say(SCAM, user=user)
    assert bot_calls == [SCAM]


def test_an_emergency_during_the_quiz_is_answered_and_the_quiz_waits(wx, wx_app):
    user = "oQuizUser09"
    wx.say("答题", user=user)
    before = _current_question(wx_app, user)
    reply = wx.say("我刚才已经按他说的转了两万到安全账户", user=user)
    assert reply.startswith("🚨") and "110" in reply and "紧急止付" in reply
    assert "正在答题中" not in reply and "答题先暂停" in reply
    assert _current_question(wx_app, user).id == before.id  # the quiz waits on its question
    with wx_app.app_context():
        row = db.session.execute(sa.select(ChatLog)).scalar_one()
        assert row.intent == "emergency" and row.channel == "wechat"
    # an ordinary non-answer still just repeats the question
    assert "正在答题中" in wx.say("今天天气不错", user=user)
    reply = wx.say(_reply_for(before), user=user)
    assert "回答正确" in reply and "第 2/5 题" in reply


def test_a_warning_during_the_quiz_is_answered(wx, wx_app):
    user = "oQuizUser10"
    wx.say("答题", user=user)
    reply = wx.say("有人自称公安说我涉嫌洗钱，要我转到安全账户", user=user)
    assert reply.startswith("⚠️") and "答题先暂停" in reply


def test_quiz_answer_retry_does_not_answer_twice(wx, wx_app, bot_calls):
    user = "oQuizUser02"
    wx.say("答题", user=user)
    question = _current_question(wx_app, user)
    xml = message_xml("text", user=user, Content=_reply_for(question), msg_id=unique())
    first = wx.reply_text(wx.post(xml))
    assert wx.reply_text(wx.post(xml)) == first
    assert "第 2/5 题" in first


def test_quiz_stop_and_idle_expiry(wx, wx_app, bot_calls):
    user = "oQuizUser03"
    wx.say("答题", user=user)
    assert "已结束" in wx.say("退出", user=user)
    wx.say("答题", user=user)
    with wx_app.app_context():
        from datetime import timedelta

        from quizbot.models import utcnow

        db.session.execute(sa.update(WechatQuizState).values(updated_at=utcnow() - timedelta(minutes=31)))
        db.session.commit()
    wx.say("A", user=user)  # the quiz has expired: this goes to the chatbot
    assert bot_calls == ["A"]


def test_quiz_in_wecom_uses_the_wecom_channel(wecom, wx_app, bot_calls):
    assert "第 1/5 题" in wecom.say("答题", to="ww")
    with wx_app.app_context():
        assert db.session.execute(sa.select(QuizSession.channel)).scalar_one() == "wecom"


def test_quiz_without_a_bank(wx_app, app):
    from quizbot.services import bank as bank_service

    with wx_app.app_context():
        from quizbot.models import BankVersion, Question

        db.session.execute(sa.update(Question).values(active=False))
        db.session.execute(sa.delete(BankVersion))
        db.session.commit()
    bank_service.clear_cache()
    from .conftest import WxClient

    assert "题库" in WxClient(wx_app.test_client()).say("答题")


# --- binding to a household -------------------------------------------------------------


def _finish_quiz(wx, app, user):
    for _ in range(5):
        wx.say(_reply_for(_current_question(app, user)), user=user)


def test_bind_then_quiz_credits_the_household(wx, wx_app):
    """绑定 with a real household's invite code, then 答题: the attempt credits that household."""
    from tests.officers.conftest import age_session, build_tree, make_household

    with wx_app.app_context():
        build_tree()
        household = make_household("H-WX-1", "G1")
        code, household_id = household.invite_code, household.id
    user = "oBindUser01"
    assert "邀请码" in wx.say("绑定 NOPE", user=user)
    assert "绑定成功" in wx.say(f"绑定 {code}", user=user)
    assert "计入您绑定的家庭" in wx.say("答题", user=user)
    with wx_app.app_context():
        session_id = db.session.execute(sa.select(QuizSession.id)).scalar_one()
    age_session(wx_app, session_id)  # answered at a human pace, so not held as too fast
    _finish_quiz(wx, wx_app, user)
    with wx_app.app_context():
        session = db.session.get(QuizSession, session_id)
        assert session.submitted_at is not None and session.invite_code == code
        assert session.household_id == household_id and session.credited
        binding = db.session.execute(sa.select(WechatBinding)).scalar_one()
        assert binding.household_id == household_id


def test_chats_of_a_bound_user_count_for_the_household_region(wx, wx_app):
    """A bound user's question is logged under the household's region, so the officers'
    summary counts it (through the real report route)."""
    from tests.officers.conftest import auth, build_tree, login, make_household, make_user

    with wx_app.app_context():
        build_tree()
        make_user("wx_officer", "officer", "V1")
        code = make_household("H-WX-2", "G1").invite_code
    user = "oBindUser02"
    wx.say(SCAM, user=user)  # before binding: no region
    assert "绑定成功" in wx.say(f"绑定 {code}", user=user)
    wx.say(SCAM, user=user)
    client = wx_app.test_client()
    headers = auth(login(client, "wx_officer"))
    summary = _summary(client, headers, "V1")
    assert summary["chatbot_questions"] == 1
    assert _summary(client, headers, "V1", "T2")["chatbot_questions"] == 0  # another village


def _summary(client, headers, region, other=None):
    from quizbot.models import utcnow

    today = utcnow().date()
    response = client.get("/api/v1/reports/summary", headers=headers, query_string={
        "region": other or region, "from": (today - timedelta(days=1)).isoformat(),
        "to": (today + timedelta(days=1)).isoformat()})
    if other:
        return {"chatbot_questions": 0} if response.status_code == 404 else response.get_json()["data"]
    return response.get_json()["data"]


def test_bind_usage(wx):
    assert "例如" in wx.say("绑定")


def test_account_name_round_trip(wx):
    response = wx.post(message_xml("text", Content="帮助"))
    from wechatpy.replies import deserialize_reply

    reply = deserialize_reply(response.get_data(as_text=True))
    assert reply.source == ACCOUNT and reply.target == "oUser0001"
