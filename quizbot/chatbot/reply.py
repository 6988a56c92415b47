"""The words a resident reads. Plain Chinese, short lines for a phone screen.

Never says a message is safe: a low verdict says no clear sign was found and repeats the rules.
"""

from __future__ import annotations

import functools
import re

from ..bank import ScamTypeEntry
from ..hotlines import HOTLINES, RULES
from .verdict import TypeMatch, Verdict

TRUNCATED = "（内容较长，只读取了前 2000 字。）"
EMERGENCY_HEAD = "🚨 钱已经转出去了，请马上按下面做，越快越有机会追回："
EMERGENCY_STEPS = (
    "立刻停止转账，不要再按对方说的做，也不要再回复对方。",
    "马上拨打 110 报警，说明转账时间、金额和对方账户。",
    "同时打银行官方客服电话（银行卡背面）申请紧急止付、冻结。",
    "保留聊天记录、通话记录和转账凭证，不要删除。",
)
LOW_HEAD = "暂未发现明显的诈骗特征，但这不代表对方一定可信。"
LOW_CHECK = "凡是陌生人让你转账、报验证码、下载软件或共享屏幕，都要先停下来核实。"
GENERIC_STEP = "请立即停止与对方联系，不点链接、不下载软件、不转账。"
MAX_EVIDENCE = 6
MAX_STEPS = 4
# Steps written for one kind of person, shown only when the text is about them.
WORKPLACE_STEP = re.compile(r"企业|财务|审批|对公|公司")
WORKPLACE_CONTEXT = re.compile(r"公司|单位|财务|会计|出纳|老板|领导|经理|总监|董事|[王李张刘陈杨赵黄周吴]总|对公|客户|供应商|货款|合同")
STUDENT_STEP = re.compile(r"学生|校园|学校|辅导员")
STUDENT_CONTEXT = re.compile(r"学生|校园|学校|大学|辅导员|同学|学费|宿舍|班主任|老师")


OFFICIAL_GENUINE = (
    "96110 来电、12381 预警短信和国家反诈中心 App 的提醒都是公安机关真实的反诈预警，"
    "说明您可能正在被骗，请一定相信。"
)
OFFICIAL_TELL = "真正的 96110 只劝阻、提醒，从不让您转账、交钱，也从不索要验证码或密码。"
OFFICIAL_STEPS = (
    "立刻停止和对方联系，不转账、不汇款、不报验证码，也不要再点对方发的链接。",
    "接听 96110 来电，把对方怎么联系您、让您做了什么如实告诉民警，听从劝阻。",
    "漏接了可以直接回拨 96110 核实；已经转了钱，马上拨打 110 报警。",
    "把情况告诉家人，一起核实。",
)


def _tail(truncated: bool) -> str:
    return TRUNCATED if truncated else ""


def _evidence(matches: list[TypeMatch]) -> list[str]:
    """Every quoted phrase once, in the order the types rank them."""
    seen: list[str] = []
    for m in matches:
        for phrase in m.evidence:
            if phrase not in seen:
                seen.append(phrase)
    return seen[:MAX_EVIDENCE]


def _evidence_line(evidence: list[str], reasons: list[str]) -> str:
    parts = []
    if evidence:
        parts.append("、".join(f"“{p}”" for p in evidence))
    if reasons:
        parts.append("；".join(reasons[:3]))
    return "识别依据：" + "；".join(parts) + "。" if parts else ""


def fit_advice(steps: list[str], context: str) -> list[str]:
    """The type's steps that fit the person: workplace rules only when the text is about work,
    campus rules only for students. Never empty when ``steps`` is not."""
    kept = []
    for step in steps:
        workplace, student = _step_kind(step)
        if workplace and not WORKPLACE_CONTEXT.search(context):
            continue
        if student and not STUDENT_CONTEXT.search(context):
            continue
        kept.append(step)
    return kept or list(steps[:1])


@functools.lru_cache(maxsize=4096)
def _step_kind(step: str) -> tuple[bool, bool]:
    """Is ``step`` written for the workplace, for students? Steps come from the knowledge base,
    so each is asked once, not on every reply."""
    return WORKPLACE_STEP.search(step) is not None, STUDENT_STEP.search(step) is not None


def _advice(entries: list[ScamTypeEntry], context: str) -> list[str]:
    """Ordered steps: the top type's own (fitted to the person), then the hotlines."""
    steps = fit_advice(entries[0].advice, context)[:MAX_STEPS] if entries else [GENERIC_STEP]
    return [*steps, HOTLINES]


def _numbered(steps: list[str]) -> list[str]:
    return [f"{i}. {step}" for i, step in enumerate(steps, 1)]


def assessment(risk: str, risk_score: int, matches: list[TypeMatch], entries: list[ScamTypeEntry],
               reasons: list[str], truncated: bool, official: bool = False,
               context: str = "") -> Verdict:
    """The reply for a situation the resident described."""
    if risk == "low":
        advice = [RULES, LOW_CHECK, HOTLINES]
        text = "\n".join(filter(None, [LOW_HEAD, *advice, _tail(truncated)]))
        return Verdict("low", risk_score, [], text, "assess", truncated, reasons, advice=advice)
    names = "、".join(f"【{m.name}】" for m in matches) if matches else ""
    if risk == "high":
        head = f"⚠️ 高度疑似{names}诈骗！请马上停下来。" if names else "⚠️ 高度疑似诈骗！请马上停下来。"
    else:
        head = f"⚠️ 有诈骗风险，像是{names}的套路，请先核实。" if names else "⚠️ 有诈骗风险，请先核实，不要转账。"
    evidence = _evidence(matches)
    advice = _advice(entries, context)
    lines = [head, _evidence_line(evidence, reasons)]
    if official:
        lines += [OFFICIAL_GENUINE, OFFICIAL_TELL]
    if entries:
        lines.append(entries[0].warning)
    lines.append("现在请这样做：")
    lines += _numbered(advice[:-1])
    lines += [advice[-1], _tail(truncated)]
    return Verdict(risk, risk_score, matches, "\n".join(filter(None, lines)), "assess", truncated,
                   reasons, evidence=evidence, advice=advice)


def emergency(risk_score: int, matches: list[TypeMatch], entries: list[ScamTypeEntry],
              reasons: list[str], truncated: bool, official: bool = False,
              context: str = "") -> Verdict:
    """Money is already moving: the emergency script comes first, whatever the type."""
    names = "、".join(f"【{m.name}】" for m in matches)
    evidence = _evidence(matches)
    type_steps = [s for s in fit_advice(entries[0].advice, context) if "110" not in s][:2] if entries else []
    advice = [*EMERGENCY_STEPS, *type_steps, "反诈专线 96110 可以咨询后续怎么办。"]
    lines = [EMERGENCY_HEAD, *_numbered(EMERGENCY_STEPS)]
    if official:
        lines.append(OFFICIAL_GENUINE)
    if names:
        lines.append(f"这很可能是{names}诈骗。")
    lines.append(_evidence_line(evidence, reasons))
    if entries:
        lines.append(entries[0].warning)
    lines += type_steps
    lines += [advice[-1], _tail(truncated)]
    return Verdict("high", risk_score, matches, "\n".join(filter(None, lines)), "emergency",
                   truncated, reasons, emergency=True, evidence=evidence, advice=advice)


def official(truncated: bool, asked: bool) -> Verdict:
    """A warning from 96110 / 12381 / 国家反诈中心 App, or a question about them: they are genuine."""
    if asked:
        head = [
            "96110 是全国公安机关的反诈预警劝阻专线，12381 是工信部的涉诈预警短信号码，"
            "国家反诈中心 App 是公安部推出的官方 App，都是真的。",
            "接到它们的电话、短信或弹窗，说明您可能正遇到诈骗，请接听、听劝、马上停下。",
            OFFICIAL_TELL,
            "拿不准的时候，您也可以自己拨打 96110 咨询。",
        ]
        return Verdict("low", 0, [], "\n".join(filter(None, [*head, _tail(truncated)])),
                       "official", truncated)
    lines = [OFFICIAL_GENUINE, OFFICIAL_TELL, "现在请这样做：", *_numbered(list(OFFICIAL_STEPS)),
             _tail(truncated)]
    return Verdict("low", 0, [], "\n".join(filter(None, lines)), "official", truncated,
                   advice=list(OFFICIAL_STEPS))


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
