"""Safety first: emergencies, official warnings and secret family emergencies, whatever the scores."""

from __future__ import annotations

import pytest

MOVED = [
    "我已经转了3万块给对方了怎么办",
    "刚转了五千给那个客服，他又让我再转",
    "我银行卡里的钱刚被人转走了",
    "已经把六万转给投资导师，现在说要交税才能提",
    "前后充进去四万多，现在平台说我操作违规提不出来",
    "我妈刚把养老钱汇过去了，对方电话现在打不通",
    # session 5, in our own words: an amount paid with no "已经" before it, a loss with no "我"
    # and a question after it, money gone from the account without the resident's doing, and
    # money sent to a stranger or an impostor
    "昨天按照那个老师说的往平台充了两万，现在提不出来了",
    "交了三千的解冻费，还是提不了现，客服说还要交",
    "被骗了八千块钱怎么办",
    "我已经转了五千块，是不是被骗了？",
    "手机银行显示我卡里少了五万，我没操作过",
    "我妈刚刚把养老钱三万块打给一个自称公安的人了",
    "刚才给网上认识的男朋友汇了十二万，他说下周还我",
]


@pytest.mark.parametrize("text", MOVED)
def test_money_already_moved_leads_with_the_emergency_script(engine, text):
    v = engine.analyze(text)
    assert v.intent == "emergency" and v.risk == "high" and v.emergency
    first = v.reply.splitlines()
    assert first[0].startswith("🚨")
    head = "\n".join(first[:5])
    assert "停止转账" in head and "110" in head and "紧急止付" in head and "保留" in head
    assert "先不要转账" not in v.reply
    assert v.advice[:4] == [line.split(". ", 1)[1] for line in first[1:5]]


@pytest.mark.parametrize("text", [
    "月初给闺女打了一千五当伙食费，她回了个谢谢老妈",
    "已经给妈妈转了两千块，她说收到了",
    "刚交了三千块房租，这个月又要吃土了",
    "如果已经转了钱该怎么办？",
    "我担心我妈会被骗，怎么提醒她",
    "万一我被骗了钱，第一时间该怎么办？",
    "今天交了三千块学费，收据在这",
    "上个月借了同事两千块，这周发工资就还他",
])
def test_everyday_transfers_and_hypotheticals_are_not_emergencies(engine, text):
    v = engine.analyze(text)
    assert v.intent != "emergency" and not v.emergency


@pytest.mark.parametrize("text", [
    "刚才96110给我打电话，说我可能遇到诈骗了",
    "【12381】您好，您可能正在遭遇诈骗，请勿向陌生账户转账",
    "国家反诈中心App弹出预警，说我刚下载的软件是诈骗软件",
])
def test_official_warnings_are_genuine(engine, text):
    v = engine.analyze(text)
    assert v.intent == "official"
    assert "真实" in v.reply and "96110" in v.reply
    assert "从不" in v.reply  # how to tell a real 96110 call
    for doubt in ("不代表对方一定可信", "冒充", "可能是假的", "诈骗风险"):
        assert doubt not in v.reply


def test_what_is_96110_gets_a_plain_answer(engine):
    v = engine.analyze("96110是什么电话？")
    assert v.intent == "official" and "反诈预警劝阻专线" in v.reply and "从不" in v.reply


def test_someone_claiming_to_be_96110_who_wants_money_is_high(engine):
    v = engine.analyze("对方说他是96110的，说我的账户涉嫌洗钱，要把钱转到安全账户核查")
    assert v.risk == "high" and "从不" in v.reply


@pytest.mark.parametrize("text,kind", [
    ("孙子打视频来说他出车祸了要赔钱，让我赶紧转五万，千万别告诉他爸", "ai_deepfake"),
    ("女儿语音说她在外地住院要交手术费，声音一模一样，让我别跟单位的人说，先转两万", "ai_deepfake"),
    ("我儿子打电话说在派出所被拘留了，要两万保释金，别告诉他妈", "impersonate_acquaintance"),
    ("侄子说他打架被抓了要交钱取保，叫我不要跟他奶奶讲，把钱打给他朋友", "impersonate_acquaintance"),
])
def test_relative_in_secret_trouble_is_high(engine, text, kind):
    v = engine.analyze(text)
    assert v.risk == "high" and v.scam_types and v.scam_types[0].id == kind, v


def test_secrecy_is_one_pattern_over_any_kin_word(engine):
    from quizbot.chatbot.signals import SECRECY

    for kin in ("儿子", "孙女", "你爸", "单位", "老公", "同事", "家里人", "银行"):
        assert SECRECY.search(f"千万别告诉{kin}"), kin
        assert SECRECY.search(f"不要跟{kin}说"), kin
    assert not SECRECY.search("别人说这个挺好")
    assert not SECRECY.search("我告诉儿子了")


def test_advice_fits_the_person(engine):
    grandma = engine.analyze("有个人冒充我孙子，打电话说换了新号，急需用钱让我转一万，别告诉他爸妈")
    assert grandma.risk != "low"
    assert not any("财务" in step or "审批" in step for step in grandma.advice)
    finance = engine.analyze("老板在微信上说在开会不方便接电话，让我这个财务先给供应商账户打款")
    assert finance.risk != "low"
    assert any("财务" in step or "审批" in step for step in finance.advice)
    assert finance.advice[-1].startswith("拿不准就拨打 96110")
