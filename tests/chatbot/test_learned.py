"""The learned scores (issue #10 section 3): the weights file, the safety floor under it, and
the failure categories the issue names. Every sentence here was written for this file."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from quizbot.bank import load_bank
from quizbot.chatbot import ChatEngine
from quizbot.chatbot.model import WEIGHTS_FILE, LearnedModel
from quizbot.chatbot.normalize import normalize
from tests.conftest import REAL_BANK_DIR, ROOT


@pytest.fixture(scope="module")
def model(engine) -> LearnedModel:
    assert engine.model is not None, "the real bank runs with the learned weights"
    return engine.model


def test_weights_file_is_small_versioned_and_for_this_bank(model):
    assert WEIGHTS_FILE.stat().st_size < 5_000_000
    data = json.loads(WEIGHTS_FILE.read_text(encoding="utf-8"))
    assert data["version"] == 2
    assert 0 < model.medium < model.high < 1
    assert model.bank_entries == sorted(e.id for e in load_bank(REAL_BANK_DIR).scam_types)


def test_another_bank_gets_the_rules_not_foreign_weights(mini_bank_dir):
    assert ChatEngine.from_bank_dir(mini_bank_dir).model is None


def test_run_time_needs_no_training_libraries():
    code = ("import sys; from quizbot.chatbot import ChatEngine; "
            "e = ChatEngine.from_bank_dir(sys.argv[1]); assert e.model is not None; "
            "e.analyze('有人自称客服要给我退款，让我共享屏幕'); "
            "print(sorted(m for m in ('sklearn', 'numpy', 'scipy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code, str(REAL_BANK_DIR)], cwd=ROOT,
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_learned_thresholds_land_on_the_published_scale(model):
    from quizbot.chatbot.engine import HIGH_AT, MEDIUM_AT

    assert model.risk_score(model.medium, MEDIUM_AT, HIGH_AT) == MEDIUM_AT
    assert model.risk_score(model.high, MEDIUM_AT, HIGH_AT) == HIGH_AT
    assert model.risk_score(model.medium - 1e-6, MEDIUM_AT, HIGH_AT) < MEDIUM_AT
    scores = [model.risk_score(p / 1000, MEDIUM_AT, HIGH_AT) for p in range(1001)]
    assert scores == sorted(scores) and scores[0] == 0 and scores[-1] == 100


class _Unconvinced:
    """A model that never believes anything is a scam: what is left is the safety floor."""

    def __init__(self, real: LearnedModel) -> None:
        self.real = real
        self.medium, self.high = real.medium, real.high
        self.moved_threshold = real.moved_threshold

    def scam_probability(self, feats) -> float:
        return 0.0

    def risk_score(self, p, medium_at, high_at):
        return self.real.risk_score(p, medium_at, high_at)

    def type_probabilities(self, feats):
        return self.real.type_probabilities(feats)

    def types_and_moved(self, feats):
        return self.real.type_probabilities(feats), 0.0


@pytest.mark.parametrize("text,risk", [
    ("我已经转了两万到对方说的安全账户，现在人联系不上了", "high"),  # money moved: emergency
    ("有人冒充公安让我转账到安全账户", "high"),  # strong rules on one short message
    ("奶奶，我是孙子，在外面撞了人被扣在派出所，急需两万，千万别告诉我爸", "high"),  # kin + secrecy
])
def test_the_safety_floor_holds_whatever_the_weights_say(engine, text, risk):
    real = engine.model
    engine.model = _Unconvinced(real)
    try:
        verdict = engine.analyze(text)
    finally:
        engine.model = real
    assert verdict.risk == risk


@pytest.mark.parametrize("text", [
    "【某商银行】您尾号5820的信用卡本月账单已出，应还1,364.20元，最后还款日12月9日，可登录手机银行查看。",
    "【某通信】尊敬的客户，您本月流量已用完85%，回复LL10可办理10元1GB流量包，当月有效。",
    pytest.param(
        "【某超市】会员周末生鲜8折，满99元再送鸡蛋一盒，详情点击 http://shop.example.cn/w8 回T退订",
        marks=pytest.mark.xfail(strict=False, reason=(
            "known miss: medium with the 14-writer weights (session 4), low with the 22-writer "
            "weights, medium again with the 26 (p=0.73 against 0.655). In the corpus 送鸡蛋 is "
            "mostly an elder-lecture lure, so a promotion giving eggs plus a link sits at the "
            "line; not tuned away by hand (docs/chatbot.md, 'Known misses')"))),
    "【某速运】您的包裹已放入东门快递柜，取件码40217，请于48小时内取件。",
])
def test_brand_notifications_and_marketing_are_not_warned(engine, text):
    assert engine.analyze(text).risk == "low"


@pytest.mark.parametrize("text", [
    "我是你表姐小芸，我换号了，这是我的新号码，加我一下新微信，有件事想请你帮个忙",
    "小刘，我是你们陈总，我换了个新QQ，你加一下，一会儿有事交代你办",
])
def test_first_contact_from_a_new_account_is_warned_before_money_is_named(engine, text):
    verdict = engine.analyze(text)
    assert verdict.risk != "low"
    assert verdict.scam_types[0].id == "impersonate_acquaintance"


def test_a_police_narrator_does_not_make_it_fake_authority(engine):
    verdict = engine.analyze(
        "民警提醒：近日辖区一位居民接到自称网店客服的电话，说她买的衣服有质量问题可以理赔，"
        "让她下载会议软件开屏幕共享，结果被骗走两万多元。")
    assert verdict.risk != "low"
    assert verdict.scam_types[0].id == "fake_customer_service"


def test_evidence_under_learned_scores_is_quoted_from_the_text(engine):
    text = "兼职群里说做任务日赚三百，先下载他们的APP注册，再垫付本金做连单，完成就返佣金"
    verdict = engine.analyze(text)
    assert verdict.risk != "low"
    for phrase in verdict.evidence:
        assert phrase in text


def test_thresholds_are_chosen_so_ordinary_texts_warned_stay_at_the_target():
    from scripts.train_chatbot import TARGET_WARNED, Item, choose_thresholds, warned

    items, probs = [], []
    for n in range(1000):  # ordinary texts spread over [0, 1), every 50th under a rules floor
        items.append(Item("w", False, None, {}, routed=False, floor=35 if n % 50 == 0 else 0))
        probs.append(n / 1000)
    medium, high = choose_thresholds(items, probs)
    share = sum(warned(i, p, medium) for i, p in zip(items, probs, strict=True)) / len(items)
    assert share <= TARGET_WARNED
    assert medium < high < 1


def test_leave_one_writer_out_gives_the_same_folds_in_parallel(tmp_path, capsys):
    # three small writers cut from the real corpus; the team's cases train in every fold
    from scripts.evaluate_chatbot import leave_one_writer_out

    corpus = ROOT / "tests" / "data" / "chat_corpus"
    for name in ("sms", "ask", "notice"):
        lines = (corpus / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
        (tmp_path / f"{name}.jsonl").write_text("\n".join(lines[::8]) + "\n", encoding="utf-8")
    serial = leave_one_writer_out(str(REAL_BANK_DIR), str(tmp_path), jobs=1)
    parallel = leave_one_writer_out(str(REAL_BANK_DIR), str(tmp_path), jobs=2)
    assert [w for w, *_ in serial] == ["ask", "notice", "sms"]
    for (w1, n1, learned1, _), (w2, n2, learned2, _) in zip(serial, parallel, strict=True):
        assert (w1, n1) == (w2, n2) and n1 > 50
        assert (learned1.recall, learned1.nonscam_warned, learned1.top1_accuracy) == (
            learned2.recall, learned2.nonscam_warned, learned2.top1_accuracy)
        assert learned1.recall > 0.5  # trained on the other two writers, it still finds scams
    assert "recall" in capsys.readouterr().out


def test_money_lost_lane_equals_its_regression_read_directly(engine, model):
    # the money-lost logit rides in the packed type sums: it must be the plain dot product
    import math

    from quizbot.chatbot.features import extract
    from quizbot.chatbot.normalize import normalize

    data = json.loads(WEIGHTS_FILE.read_text(encoding="utf-8"))["moved"]
    for text in ("我已经转了两万到对方说的安全账户", "交了三千的解冻费，还是提不了现", "周末一起吃饭吗",
                 "【京东】您的订单已发货，点击查看物流 回T退订"):
        feats = extract(engine.inspect(normalize(text))).as_dict()
        z = data["bias"] + sum(w * feats[name] for name, w in data["weights"].items() if name in feats)
        _, lost = model.types_and_moved(extract(engine.inspect(normalize(text))))
        assert lost == pytest.approx(1 / (1 + math.exp(-z)), abs=1e-3)


@pytest.mark.parametrize("text", [
    # money gone in wording the hand-written money-moved rules do not know (our own words)
    "对方说我交的保证金已经到账了，现在还要再付一笔解冻金才能提现",
    "按那个客服说的在网页上填了卡号密码和验证码，结果卡里的存款全被提走了",
])
def test_learned_money_lost_leads_with_the_emergency_script(engine, text):
    v = engine.analyze(text)
    assert v.intent == "emergency" and v.risk == "high"
    assert v.reply.startswith("🚨")


def test_learned_money_lost_needs_a_warning_first(engine):
    # an everyday payment is never turned into an emergency by the money-lost regression
    for text in ("今天交了三千块学费，收据在这", "给儿子转了八百块生活费", "刚在超市付了两百多块买菜"):
        assert engine.analyze(text).intent != "emergency"


@pytest.mark.parametrize("text", ["被骗了八千块钱怎么办", "钱被骗了，怎么追回", "我被骗了两万"])
def test_a_bare_loss_names_no_type_it_has_no_sign_of(engine, text):
    # the emergency script, and no guessed type (a grandmother's loss is not called 网络招嫖 on a
    # 0.25 guess), nor an everyday word such as 块钱 quoted as a red flag
    v = engine.analyze(text)
    assert v.intent == "emergency"
    assert v.scam_types == [] and "这很可能是" not in v.reply
    assert "块钱" not in v.evidence and "块钱" not in v.reply.split("识别依据")[-1][:20]


def test_another_types_combo_words_are_not_quoted_as_evidence(engine):
    # when the named type has no red flag of its own in the text, the strongest red flags found
    # are quoted, but never a word that only counts inside some combo (块钱, 截图): on its own
    # it is an everyday word
    assert {"块钱", "截图", "一单"} <= engine._combo_only
    for text in ("被骗了八千块钱怎么办", "我女儿是大学生，有人加她微信说能赚块钱"):
        for match in engine.analyze(text).scam_types:
            if not engine.inspect(normalize(text)).kept.get(match.id):
                assert not set(match.evidence) & engine._combo_only
