"""Shared fixtures: the app on a fresh database, a client, a CLI runner and bank factories."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from config import TestConfig
from quizbot import create_app
from quizbot.extensions import db

ROOT = Path(__file__).resolve().parent.parent
REAL_BANK_DIR = ROOT / "question_bank"


@pytest.fixture
def app():
    """The app bound to an empty test database (SQLite in memory, or TEST_DATABASE_URL)."""
    yield from fresh_app(TestConfig)


def fresh_app(config):
    """Yield an app on ``config`` with empty tables and a clear bank cache; drop them after."""
    app = create_app(config)
    with app.app_context():
        db.drop_all()
        db.create_all()
    from quizbot.services import bank as bank_service

    bank_service.clear_cache()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()
    bank_service.clear_cache()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def make_scam_type(type_id: str, **overrides) -> dict:
    """A valid knowledge entry; override any field."""
    entry = {
        "id": type_id,
        "kind": "topic" if type_id in ("prevention_basics", "child_safety") else "scam",
        "name": f"类型{type_id}",
        "aliases": [f"别名{type_id}"],
        "summary": "骗子先取得信任，再以各种理由让你转账。",
        "red_flags": [{"phrase": f"信号{type_id}{i}", "weight": 2} for i in range(3)],
        "warning": "凡是让你先转账的都是诈骗。",
        "advice": ["立即挂断电话。", "拨打 96110 咨询。"],
        "sources": ["§15"],
    }
    entry.update(overrides)
    return entry


def make_question(qid: str, scam_type: str, **overrides) -> dict:
    """A valid single-choice question; override any field."""
    question = {
        "id": qid,
        "type": "single",
        "stem": f"关于{scam_type}的第{qid}道题：遇到陌生人让你转账，你应该怎么做？",
        "options": [{"key": "A", "text": "马上转账"}, {"key": "B", "text": "挂断并核实"},
                    {"key": "C", "text": "告诉对方验证码"}],
        "answer": ["B"],
        "explanation": "陌生人要求转账就是诈骗信号，先挂断，再通过官方渠道核实。",
        "scam_type": scam_type,
        "difficulty": 1,
        "audiences": ["general"],
    }
    question.update(overrides)
    return question


def write_bank(directory: Path, scam_types: list[dict], questions: list[dict],
               intentional: list | None = None) -> Path:
    """Write a bank directory in the real file layout."""
    (directory / "questions").mkdir(parents=True, exist_ok=True)
    (directory / "scam_types.yaml").write_text(
        yaml.safe_dump(scam_types, allow_unicode=True), encoding="utf-8")
    by_type: dict[str, list] = {}
    for q in questions:
        by_type.setdefault(q["scam_type"], []).append(q)
    for type_id, items in by_type.items():
        (directory / "questions" / f"{type_id}.yaml").write_text(
            yaml.safe_dump(items, allow_unicode=True), encoding="utf-8")
    if intentional is not None:
        (directory / "intentional_duplicates.yaml").write_text(
            yaml.safe_dump(intentional, allow_unicode=True), encoding="utf-8")
    return directory


MINI_TYPES = ("fake_authority", "shuadan_rebate", "fake_customer_service")
STEMS = [
    "接到自称{t}的电话，要你把钱转到指定账户，正确做法是？",
    "网上看到{t}相关广告，声称稳赚不赔，你会怎么判断？",
    "亲戚转发了一条{t}的链接，说点进去就能领钱，可信吗？",
    "陌生号码以{t}名义要求你下载会议软件并共享屏幕，该怎么办？",
    "有人声称是{t}工作人员，请你报出短信验证码，你应该？",
    "朋友说通过{t}赚了很多钱，劝你先交一笔保证金入门，你会？",
]


def mini_bank_content() -> tuple[list[dict], list[dict]]:
    """Three scam types, six questions each: every type, difficulty and some audiences."""
    types = [make_scam_type(t) for t in MINI_TYPES]
    questions = []
    for t in MINI_TYPES:
        for i, stem in enumerate(STEMS):
            qid = f"{t}-{i + 1:03d}"
            overrides = {"stem": stem.format(t=t), "difficulty": i % 3 + 1,
                         "audiences": ["general", "elderly"] if i % 2 else ["student"]}
            if i == 1:
                overrides.update(type="multiple", answer=["B", "C"],
                                 options=[{"key": k, "text": f"选项{k}"} for k in "ABCD"])
            if i == 2:
                overrides.update(type="judge", answer=["F"],
                                 options=[{"key": "T", "text": "正确"}, {"key": "F", "text": "错误"}])
            questions.append(make_question(qid, t, **overrides))
    return types, questions


@pytest.fixture
def mini_bank_dir(tmp_path) -> Path:
    types, questions = mini_bank_content()
    return write_bank(tmp_path / "bank", types, questions)


@pytest.fixture
def loaded_app(app, mini_bank_dir):
    """The app with the mini bank imported."""
    from quizbot.bank import load_bank
    from quizbot.services import bank as bank_service

    with app.app_context():
        bank_service.import_bank(load_bank(mini_bank_dir))
    return app


@pytest.fixture
def quiz_client(loaded_app):
    return loaded_app.test_client()
