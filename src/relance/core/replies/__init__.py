"""Reading a customer's reply to a reminder: its category with the words that decided, and the
date it promises or returns on (pure Python, no Django: the worker and the CLI share it)."""

from .classifier import Classification, classify
from .rules import CATEGORIES

__all__ = ["CATEGORIES", "Classification", "classify"]
