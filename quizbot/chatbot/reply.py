"""The words a resident reads. Plain Chinese, short lines for a phone screen.

Never says a message is safe: a low verdict says no clear sign was found and repeats the rules.
"""

from __future__ import annotations

from ..bank import ScamTypeEntry
from .verdict import TypeMatch, Verdict

HOTLINES = "拿不准就拨打 96110 反诈专线咨询；已经被骗请立即拨打 110 报警。"
RULES = "记住“三不”：不轻信、不透露（验证码、密码）、不转账。"
TRUNCATED = "（内容较长，只读取了前 2000 字。）"
EMERGENCY_STEPS = (
    "1. 立刻停止转账，不要再按对方说的做，也不要再回复对方。",
    "2. 马上拨打 110 报警，说明转账时间、金额和对方账户。",
    "3. 同时打银行官方客服电话（银行卡背面）申请紧急止付、冻结。",
    "4. 保留聊天记录、通话记录和转账凭证，不要删除。",
)


def _tail(truncated: bool) -> str:
    return TRUNCATED if truncated else ""


def _evidence_line(matches: list[TypeMatch], reasons: list[str]) -> str:
    phrases = [p for m in matches for p in m.evidence][:6]
    parts = []
    if phrases:
        parts.append("、".join(f"“{p}”" for p in phrases))
    if reasons:
        parts.append("；".join(reasons[:3]))
    return "识别依据：" + "；".join(parts) + "。" if parts else ""


def _advice_lines(entries: list[ScamTypeEntry]) -> list[str]:
    if not entries:
        return ["请立即停止与对方联系，不点链接、不下载软件、不转账。"]
    return [f"{i}. {step}" for i, step in enumerate(entries[0].advice[:4], 1)]


def assessment(risk: str, risk_score: int, matches: list[TypeMatch], entries: list[ScamTypeEntry],
               reasons: list[str], truncated: bool) -> Verdict:
    """The reply for a situation the resident described."""
    if risk == "low":
        text = "\n".join(filter(None, [
            "暂未发现明显的诈骗特征，但这不代表对方一定可信。",
            RULES,
            "凡是陌生人让你转账、报验证码、下载软件或共享屏幕，都要先停下来核实。",
            HOTLINES,
            _tail(truncated),
        ]))
        return Verdict("low", risk_score, [], text, "assess", truncated, reasons)
    names = "、".join(f"【{m.name}】" for m in matches) if matches else ""
    if risk == "high":
        head = f"⚠️ 高度疑似{names}诈骗！请马上停下来。" if names else "⚠️ 高度疑似诈骗！请马上停下来。"
    else:
        head = f"⚠️ 有诈骗风险，像是{names}的套路，请先核实。" if names else "⚠️ 有诈骗风险，请先核实，不要转账。"
    lines = [head, _evidence_line(matches, reasons)]
    if entries:
        lines.append(entries[0].warning)
    lines.append("现在请这样做：")
    lines += _advice_lines(entries)
    lines += [HOTLINES, _tail(truncated)]
    return Verdict(risk, risk_score, matches, "\n".join(filter(None, lines)), "assess", truncated, reasons)


def emergency(risk_score: int, matches: list[TypeMatch], entries: list[ScamTypeEntry],
              reasons: list[str], truncated: bool) -> Verdict:
    """Money is already moving: the emergency script comes first."""
    names = "、".join(f"【{m.name}】" for m in matches)
    lines = ["🚨 如果已经转账，请马上按下面做，越快越有机会追回："]
    lines += EMERGENCY_STEPS
    if names:
        lines.append(f"这很可能是{names}诈骗。")
    lines.append(_evidence_line(matches, reasons))
    if entries:
        lines.append(entries[0].warning)
    lines.append("反诈专线 96110 可以咨询后续怎么办。")
    lines.append(_tail(truncated))
    return Verdict("high", risk_score, matches, "\n".join(filter(None, lines)), "emergency",
                   truncated, reasons)


def knowledge(entry: ScamTypeEntry, truncated: bool) -> Verdict:
    """A question about a scam type or topic, answered from the knowledge base."""
    lines = [f"【{entry.name}】", entry.summary, f"提醒：{entry.warning}", "防范要点："]
    lines += [f"{i}. {step}" for i, step in enumerate(entry.advice[:5], 1)]
    if entry.red_flags:
        lines.append("常见说法：" + "、".join(f"“{f.phrase}”" for f in entry.red_flags[:6]))
    lines += ["想检验一下？回复“答题”做 5 道防骗题。", _tail(truncated)]
    return Verdict("low", 0, [], "\n".join(filter(None, lines)), "knowledge", truncated)


def smalltalk(text: str, truncated: bool) -> Verdict:
    """Greetings, thanks and help."""
    if any(w in text for w in ("谢", "感谢")):
        first = "不客气！防骗路上我一直在。"
    elif any(w in text for w in ("再见", "拜拜")):
        first = "再见！遇到拿不准的事，随时来问我。"
    else:
        first = "您好！我是反诈小助手。"
    lines = [
        first,
        "• 把遇到的情况发给我（比如“有人自称客服要给我退款”），我帮您判断是不是诈骗；",
        "• 回复“答题”做 5 道防骗知识题；",
        "• 问我“怎么防范刷单诈骗”等防骗知识。",
        HOTLINES,
    ]
    return Verdict("low", 0, [], "\n".join(lines), "smalltalk", truncated)


def clarify(risk_score: int, reasons: list[str], truncated: bool) -> Verdict:
    """Too little to judge but money or a stranger is involved: ask one question."""
    text = "\n".join(filter(None, [
        "能说说对方是谁、怎么联系您的，有没有让您转账、报验证码、点链接或下载软件？",
        "在弄清楚之前，先不要转账，也不要把验证码告诉任何人。",
        HOTLINES,
        _tail(truncated),
    ]))
    return Verdict("low", risk_score, [], text, "clarify", truncated, reasons)


def empty() -> Verdict:
    """Nothing readable was sent."""
    return Verdict("low", 0, [], "请把您遇到的情况用文字发给我，我来帮您判断是不是诈骗。", "empty")
