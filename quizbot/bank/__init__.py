"""Load and validate question_bank/ (plain Python: no Flask, no database)."""

from .loader import Bank, BankFormatError, QuestionEntry, ScamTypeEntry, load_bank
from .validate import Floors, count_table, naive_strategy_scores, validate_bank

__all__ = [
    "Bank",
    "BankFormatError",
    "Floors",
    "QuestionEntry",
    "ScamTypeEntry",
    "count_table",
    "load_bank",
    "naive_strategy_scores",
    "validate_bank",
]
