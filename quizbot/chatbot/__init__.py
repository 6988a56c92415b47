"""Scam-check chatbot: normalize → inspect → route → score → rank → reply. Imports nothing from Flask.

Use ``get_engine(bank_dir).analyze(text)`` from anywhere (CLI, tests, HTTP, WeChat).
"""

from .engine import ChatEngine, get_engine
from .verdict import RISK_LEVELS, TypeMatch, Verdict

__all__ = ["RISK_LEVELS", "ChatEngine", "TypeMatch", "Verdict", "get_engine"]
