"""The writing check: finds, in a message before it leaves, the spelling mistakes (Debian's hunspell
dictionaries through pyenchant), the agreement slips of collection letters, the faults of French
typography and the tone a formal notice must not take — without crying wolf on the tokens of the
trade (legal references, invoice numbers, IBAN, amounts, dates, names).

Data flow: a text (or an HTML fragment, reduced to its visible text) → the pure rules of
``relance.core.writing`` → the words they leave to the dictionary → those it rejects, less the
organisation's accepted words and its customers' names (``vocabulary``) → a list of
:class:`Problem`, in the order of the text. The template editor, the approval queue and the
dispatcher call :func:`check_text`; ``relance writing check`` prints it as JSON."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from relance.core.writing import KINDS, Problem, check_rules, misspelt, tokenise, visible_text

from .dictionaries import SpellingUnavailable, dictionary, known, suggest

if TYPE_CHECKING:
    from relance.ledger.models import Organisation

__all__ = ["KINDS", "Problem", "SpellingUnavailable", "check_text", "dictionary", "spelling_problems",
           "visible_text"]


def check_text(text: str, *, language: str = "fr", organisation: Organisation | None = None,
               extra_words: Iterable[str] = (), html: bool = False) -> list[Problem]:
    """The problems of ``text``, in the order of the text.

    ``language``: "fr" (French dictionary and French typography) or "en" (British English
    dictionary; the only typography rule is no space before « : ; ! ? »). ``organisation``: its
    accepted words and names, its customers', contacts' and members' names are known words.
    ``extra_words``: more known words (a name the caller knows). ``html=True``: ``text`` is an
    HTML fragment; it is checked as :func:`visible_text` shows it (tags removed, ``<br>`` and block
    ends made line breaks, entities decoded) and **the offsets count in that visible text**, not in
    the HTML source. Template placeholders (``{{ … }}``, ``{% … %}``) are skipped, so a template's
    source can be checked as it is.

    Raises :class:`SpellingUnavailable` when the dictionary is not installed."""
    language = "en" if language == "en" else "fr"
    if html:
        text = visible_text(text)
    from .vocabulary import accepted_words, names_among

    accepted = accepted_words(organisation) | {w.lower() for w in extra_words}
    tokens = tokenise(text)
    dictionary(language)  # fails now, and clearly, if the dictionary is missing

    def is_known(word: str) -> bool:
        return known(language, word)

    spelling = misspelt(tokens, is_known, accepted, language=language)
    if spelling and organisation is not None:
        names = names_among(organisation, [p.text for p in spelling])
        if names:
            accepted |= names
            spelling = [p for p in spelling if p.text.lower() not in names]
    spelling = [Problem(p.text, p.offset, p.length, p.kind, p.message, suggest(language, p.text)) for p in spelling]
    found = spelling + check_rules(tokens, language, accepted, is_known if language == "fr" else None)
    return sorted(set(found), key=lambda p: (p.offset, p.length, p.kind, p.message))


def spelling_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Only the spelling mistakes: what makes a changed message wait « à valider »."""
    return [p for p in problems if p.kind == "orthographe"]
