"""The rules of the writing check that no dictionary can see, in pure Python: the domain tokens set
aside, French (or English) typography, agreement slips of collection letters, repeated words and
tone. ``relance.writing`` adds the dictionary (hunspell) and the organisation's words."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .agreement import agreement
from .problem import KINDS, Problem
from .repeats import repeated_words
from .spelling import misspelt
from .tokens import Tokens, tokenise, visible_text
from .tone import tone
from .typography import english, french

__all__ = ["KINDS", "Problem", "Tokens", "check_rules", "misspelt", "tokenise", "visible_text"]


def check_rules(tokens: Tokens, language: str = "fr", accepted: Iterable[str] = (),
                is_word: Callable[[str], bool] | None = None) -> list[Problem]:
    """Every problem but spelling, in the order of the text. ``is_word``, the dictionary when there is
    one, widens the agreement rules to every participle in « -é » (« calculées » → « calculer »)."""
    known = frozenset(w.lower() for w in accepted)
    found = repeated_words(tokens, language) + tone(tokens, language, known)
    if language == "fr":
        found += french(tokens) + agreement(tokens, is_word)
    else:
        found += english(tokens)
    return found
