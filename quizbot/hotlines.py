"""What every resident-facing text says the same way: the hotlines and the three rules.

Plain strings, no imports, so the chatbot engine (no Flask), the quiz service, WeChat and the
resident pages can all use them. Change the wording here, once.
"""

from __future__ import annotations

ANTI_FRAUD_LINE = "96110"  # 全国公安机关反诈预警劝阻专线
POLICE_LINE = "110"
THREE_NOS = "不轻信、不透露、不转账"

# The sentence that closes a reply: where to ask, where to report.
HOTLINES = f"拿不准就拨打 {ANTI_FRAUD_LINE} 反诈专线咨询；已经被骗请立即拨打 {POLICE_LINE} 报警。"
# The rules, with what "不透露" means in practice.
RULES = "记住“三不”：不轻信、不透露（验证码、密码）、不转账。"
# The last piece of advice under every quiz result.
GENERAL_ADVICE = f"牢记“{THREE_NOS}”；{HOTLINES}"
