"""The engine's verdicts on messages residents really send."""

from __future__ import annotations

import pytest

from quizbot.chatbot import RISK_LEVELS
from quizbot.chatbot.matcher import PhraseIndex

SAFE_WORDS = ("是安全的", "没有风险", "可以放心", "不是诈骗")


def test_the_jd_customer_service_example(engine):
    v = engine.analyze("刚才有个自称京东客服的打电话，说我买的东西有质量问题要给我理赔，让我下载一个会议软件共享屏幕")
    assert v.risk == "high" and v.intent == "assess"
    assert v.scam_types[0].id == "fake_customer_service"
    evidence = " ".join(v.scam_types[0].evidence)
    assert "理赔" in evidence or "客服" in evidence
    assert "96110" in v.reply and "110" in v.reply


def test_fake_police_safe_account(engine):
    v = engine.analyze("有个人说他是公安局的，说我涉嫌洗钱，要我把钱转到安全账户配合调查，还不让我告诉家里人")
    assert v.risk == "high"
    assert v.scam_types[0].id == "fake_authority"
    assert any("安全账户" in e for e in v.scam_types[0].evidence)


def test_typos_still_count(engine):
    v = engine.analyze("警察说我的卡涉嫌洗钱，让我转到安全帐户")
    assert v.risk != "low" and v.scam_types[0].id == "fake_authority"
    v = engine.analyze("网上找的兼职，刷单反利，先垫付三百块再返佣金")
    assert v.risk != "low" and v.scam_types[0].id == "shuadan_rebate"


def test_evidence_is_quoted_as_written(engine):
    text = "对方说是淘宝客服，要给我退款，叫我开屏幕共享"
    v = engine.analyze(text)
    for match in v.scam_types:
        for phrase in match.evidence:
            assert phrase in text.lower()


def test_scam_types_are_ranked_and_capped(engine):
    v = engine.analyze("网友带我投资虚拟货币稳赚不赔，后来又让我刷单做任务垫付，还说公安要查我让我转安全账户")
    assert 1 <= len(v.scam_types) <= 3
    scores = [m.score for m in v.scam_types]
    assert scores == sorted(scores, reverse=True)


def test_money_moved_leads_with_emergency_script(engine):
    v = engine.analyze("他说是公安局的，我已经转了3万到安全账户了，现在联系不上了怎么办")
    assert v.intent == "emergency" and v.risk == "high"
    first_lines = v.reply.splitlines()[:4]
    assert any("110" in line for line in first_lines)
    assert "紧急止付" in v.reply


def test_knowledge_question_is_not_an_alarm(engine):
    v = engine.analyze("怎么防范刷单诈骗？")
    assert v.intent == "knowledge" and v.risk == "low"
    assert "刷单" in v.reply


@pytest.mark.parametrize("text", [
    "我知道公安机关不会让转账到安全账户，所以直接挂了电话",
    "社区民警提醒大家：凡是让你共享屏幕的都是诈骗，不要下载陌生软件",
])
def test_negation_and_reminders_do_not_alarm(engine, text):
    assert engine.analyze(text).risk != "high"


@pytest.mark.parametrize("text", [
    "【美团】您的验证码是 482913，5分钟内有效，请勿泄露给他人。",
    "您的快递已到小区驿站，取件码 3-2-1108，请及时领取",
    "【工商银行】您尾号6623的账户11月28日收入工资8,520.00元，余额12,033.18元。",
    "妈，我周末回家吃饭，记得帮我把银行卡带上，我要去办个房贷",
    "房贷利率又降了，我们要不要提前还一部分贷款？",
    "超市今天鸡蛋打折，3块9一斤，早点去排队",
    "刚交了三千块房租和两百的物业费，这个月又要吃土了",
])
def test_everyday_messages_about_money_do_not_alarm(engine, text):
    v = engine.analyze(text)
    assert v.risk == "low", (text, v)


def test_greeting_gets_friendly_answer_offering_the_quiz(engine):
    for text in ("你好", "谢谢！", "帮助"):
        v = engine.analyze(text)
        assert v.intent == "smalltalk" and v.risk == "low"
        assert "答题" in v.reply


def test_vague_message_with_money_asks_one_question(engine):
    v = engine.analyze("有人打电话找我")
    assert v.intent == "clarify"
    assert v.reply.count("？") == 1


def test_low_verdict_never_calls_anything_safe(engine):
    v = engine.analyze("今天天气不错，我们去公园散步吧")
    assert v.risk == "low"
    assert not any(word in v.reply for word in SAFE_WORDS)
    assert "不轻信" in v.reply


def test_long_input_says_only_the_start_was_read(engine):
    v = engine.analyze("有人让我转账到安全账户。" + "啊" * 3000)
    assert v.truncated and "2000" in v.reply


@pytest.mark.parametrize("text", ["", "   ", "\x00\x01", "😀😀😀", "。。。"])
def test_empty_or_symbol_only_input(engine, text):
    v = engine.analyze(text)
    assert v.risk in RISK_LEVELS and v.reply


def test_verdict_fields_are_valid(engine):
    v = engine.analyze("中奖了，先交手续费才能领奖")
    assert v.risk in RISK_LEVELS and 0 <= v.risk_score <= 100
    record = v.classify_record("x1")
    assert set(record) == {"id", "risk", "risk_score", "scam_types"}
    for m in record["scam_types"]:
        assert set(m) == {"id", "score", "evidence"}


def test_word_boundaries_stop_accidental_two_character_hits(engine):
    index = PhraseIndex()
    index.add("中奖", "lottery_prize", 3)
    index.freeze()
    assert [h.phrase for h in index.find("集中奖励")] == ["中奖"]  # the raw index finds it…
    v = engine.analyze("公司年底集中奖励优秀员工")  # …but the tokenizer's boundaries drop it
    assert v.risk == "low"


def test_one_character_typo_matches_but_two_do_not():
    index = PhraseIndex()
    index.add("屏幕共享", "fake_customer_service", 3)
    index.freeze()
    assert [(h.phrase, h.fuzzy) for h in index.find("开个屏幕共亨吧")] == [("屏幕共享", True)]
    assert index.find("开个屏目共亨吧") == []
