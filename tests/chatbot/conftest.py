"""The chatbot is tested without a Flask app: one engine for the whole session."""

from __future__ import annotations

import pytest

from quizbot.chatbot import ChatEngine
from tests.conftest import REAL_BANK_DIR


@pytest.fixture(scope="session")
def engine() -> ChatEngine:
    return ChatEngine.from_bank_dir(REAL_BANK_DIR)
