"""The production entry point for gunicorn: ``gunicorn quizbot.wsgi:app``.

Unlike ``create_app`` (which only wires things), this also warms the chatbot engine so the
first resident of each worker does not wait for the tokenizer to load.
"""

from __future__ import annotations

from . import create_app
from .chatbot import get_engine

app = create_app()
get_engine(app.config["QUESTION_BANK_DIR"])
