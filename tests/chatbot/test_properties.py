"""Any string at all gives a valid verdict and no exception."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quizbot.chatbot import RISK_LEVELS

CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
SCAMMY = st.sampled_from(["安全账户", "验证码", "已经转了", "客服", "刷单", "http://x.cn", "怎么防范", "你好"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=10_000))
def test_any_text_gives_a_valid_verdict(engine, text):
    v = engine.analyze(text)
    assert v.risk in RISK_LEVELS and 0 <= v.risk_score <= 100
    assert isinstance(v.reply, str) and v.reply
    assert len(v.scam_types) <= 3


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.text(CJK, max_size=20), SCAMMY, st.text(max_size=5)), max_size=40))
def test_mixed_chinese_and_red_flags(engine, parts):
    v = engine.analyze("".join(parts))
    assert v.risk in RISK_LEVELS
    for m in v.scam_types:
        assert 0 <= m.score <= 1 and m.evidence is not None
