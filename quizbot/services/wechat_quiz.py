"""The quiz inside a chat: one question per message, checked as it comes, scored at the end.

The attempt itself is an ordinary quiz session (``services.quiz``), so it is stored, scored
and credited like any other; this module only keeps where each user is, per channel.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import timedelta
from types import SimpleNamespace

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..errors import APIError
from ..extensions import db
from ..models import WechatQuizState, utcnow
from . import quiz as quiz_service
from .bank import QuestionData

TYPE_LABELS = {"single": "单选", "multiple": "多选", "judge": "判断"}
TRUE_WORDS = {"对", "正确", "是", "√", "✓", "T", "Y", "YES", "TRUE", "1"}
FALSE_WORDS = {"错", "错误", "不对", "否", "×", "✗", "X", "F", "N", "NO", "FALSE", "0"}
STOP_WORDS = {"退出", "结束", "结束答题", "退出答题", "不答了"}
LETTERS_RE = re.compile(r"^[A-Fa-f](?:[\s,，、]*[A-Fa-f])*$")

QUIZ_UNAVAILABLE = "题库还没准备好，暂时不能答题，请稍后再试。"


def _state(channel: str, user_hash: str) -> WechatQuizState | None:
    return db.session.execute(
        sa.select(WechatQuizState).where(
            WechatQuizState.channel == channel, WechatQuizState.user_hash == user_hash)
    ).scalar_one_or_none()


def drop_state(channel: str, user_hash: str, *, commit: bool = True) -> None:
    """Forget the user's quiz in progress."""
    db.session.execute(sa.delete(WechatQuizState).where(
        WechatQuizState.channel == channel, WechatQuizState.user_hash == user_hash))
    if commit:
        db.session.commit()


def purge_idle(idle_seconds: int, *, commit: bool = True) -> None:
    """Drop every quiz left idle longer than ``idle_seconds``."""
    cutoff = utcnow() - timedelta(seconds=idle_seconds)
    db.session.execute(sa.delete(WechatQuizState).where(WechatQuizState.updated_at < cutoff))
    if commit:
        db.session.commit()


def start(channel: str, user_hash: str, *, invite_code: str | None, count: int = 5,
          idle_seconds: int = 1800) -> str:
    """Draw a new attempt (replacing any quiz in progress) and ask the first question."""
    try:
        session, questions = quiz_service.create_session(quiz_service.DrawOptions(
            count=count, channel=channel, client_id=user_hash, device_key=user_hash, invite_code=invite_code,
            ttl_seconds=max(idle_seconds * 2, 3600),
        ))
    except APIError:
        db.session.rollback()
        return QUIZ_UNAVAILABLE
    state = _state(channel, user_hash) or WechatQuizState(channel=channel, user_hash=user_hash)
    state.session_id = session.id
    state.position = 0
    state.answers = {}
    state.updated_at = utcnow()
    db.session.add(state)
    try:
        db.session.commit()
    except IntegrityError:  # two 答题 at once from the same user: keep the other one
        db.session.rollback()
        return "答题已经开始了，请回答上一条消息里的题目。"
    intro = f"答题开始！共 {len(questions)} 题，直接回复选项字母；判断题回复“对”或“错”。回复“退出”可随时结束。"
    if invite_code:
        intro += "\n成绩会计入您绑定的家庭。"
    return intro + "\n\n" + format_question(_questions(session)[0], 1, len(questions))


def _questions(session) -> list[SimpleNamespace]:
    """The attempt as this resident sees it (``quiz.client_questions``: options shuffled per
    attempt, display letters), with each answer for the feedback after every question."""
    return [SimpleNamespace(**q) for q in quiz_service.client_questions(session, reveal=True)]


def format_question(q: QuestionData, number: int, total: int) -> str:
    """One question as a chat message."""
    label = TYPE_LABELS.get(q.type, "单选")
    lines = [f"第 {number}/{total} 题（{label}）", q.stem]
    if q.type == "judge":
        lines.append("请回复“对”或“错”")
    else:
        lines += [f"{o['key']}. {o['text']}" for o in q.options]
        if q.type == "multiple":
            lines.append("（可多选，例如回复 AB）")
    return "\n".join(lines)


def parse_choice(text: str, question: QuestionData) -> list[str] | None:
    """The option keys a reply means, or None if it is not an answer to this question."""
    cleaned = unicodedata.normalize("NFKC", text).strip().rstrip("。.!！")
    keys = {o["key"].upper() for o in question.options}
    if question.type == "judge":
        upper = cleaned.upper()
        if upper in TRUE_WORDS and "T" in keys:
            return ["T"]
        if upper in FALSE_WORDS and "F" in keys:
            return ["F"]
        return None
    if not LETTERS_RE.match(cleaned):
        return None
    picked = sorted({c.upper() for c in cleaned if c.isalpha()})
    if any(k not in keys for k in picked):
        return None
    if question.type == "single" and len(picked) != 1:
        return None
    return picked


def _show_answer(question: QuestionData) -> str:
    if question.type == "judge":
        return "对" if question.answer == ["T"] else "错"
    return "".join(sorted(question.answer))


def answer(channel: str, user_hash: str, text: str, *, idle_seconds: int = 1800,
           on_other: Callable[[str], str | None] | None = None) -> str | None:
    """Check one answer and ask the next question; None if no quiz is running for the user.

    A message that is not an answer goes to ``on_other`` first (the chatbot): when it returns
    a reply (a warning or an emergency) that reply is sent and the quiz waits on its question.
    """
    state = _state(channel, user_hash)
    if state is None:
        return None
    if utcnow() - state.updated_at > timedelta(seconds=idle_seconds):
        drop_state(channel, user_hash)
        return None
    if text.strip() in STOP_WORDS:
        drop_state(channel, user_hash)
        return "已结束本轮答题。想再来就回复“答题”。"
    session = quiz_service.get_session(state.session_id)
    questions = _questions(session)
    if state.position >= len(questions):
        drop_state(channel, user_hash)
        return None
    question = questions[state.position]
    chosen = parse_choice(text, question)
    if chosen is None:
        other = on_other(text) if on_other is not None else None
        if other is not None:
            return other
        hint = "请回复“对”或“错”" if question.type == "judge" else "请回复选项字母，例如 A"
        return f"正在答题中。{hint}；回复“退出”结束答题。\n\n" + format_question(
            question, state.position + 1, len(questions))

    answers = dict(state.answers or {})
    answers[question.id] = chosen
    position = state.position + 1
    # Conditional update: a retried message cannot answer the same question twice.
    moved = db.session.execute(
        sa.update(WechatQuizState)
        .where(WechatQuizState.id == state.id, WechatQuizState.position == state.position)
        .values(position=position, answers=answers, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if moved != 1:
        return "这道题已经答过了，请看下一题。"

    correct = sorted(chosen) == sorted(question.answer)
    parts = ["✅ 回答正确！" if correct else f"❌ 回答错误，正确答案是 {_show_answer(question)}。"]
    if question.explanation:
        parts.append("解析：" + question.explanation)
    if position < len(questions):
        parts.append("")
        parts.append(format_question(questions[position], position + 1, len(questions)))
        return "\n".join(parts)

    drop_state(channel, user_hash)
    try:
        result = quiz_service.submit_answers(session.id, answers)
    except APIError:
        db.session.rollback()
        parts.append("\n这次答题已过期，成绩没有保存。回复“答题”重新开始。")
        return "\n".join(parts)
    parts.append("")
    parts.append(
        f"答题结束！答对 {result['correct_count']}/{result['total']} 题，得分 {result['score']} 分。"
    )
    if result.get("advice"):
        parts.append("提醒：" + result["advice"][0])
    parts.append("回复“答题”再来一轮。")
    return "\n".join(parts)
