"""Which words a dictionary must look at, and how a word is looked at: an elided article or pronoun
apart (« l’échéanse » is checked as « échéanse »), a hyphenated word whole or part by part, the
abbreviations and acronyms of the trade known, the organisation's words known. The dictionary
itself (hunspell through pyenchant) is given as a function: this module has no I/O."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from .problem import Problem, problem_at
from .tokens import Tokens

_ELISION = re.compile(r"(?i)^(l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu|quoiqu|presqu)['’]")

#: abbreviations and acronyms of collection letters that a general dictionary may not know
TRADE_WORDS = frozenset("""
mme mmes mlle mlles mm me réf cf art al com civ proc consom cass ttc ht lrar ar rar bce rib sepa cgv cgu sas sasu
sarl eurl sa sci snc scop selarl ei eirl siren siret rcs iban bic tva ape naf urssaf dgfip ficp cnil cpce cmf jorf
tj tgi eur pdf qr rf ecb vat llc ltd plc inc n° nº no cie etc fr be lu ch mc de es it gb uk eu factur-x chorus
""".split())


def misspelt(tokens: Tokens, known: Callable[[str], bool], accepted: Iterable[str] = (),
             suggest: Callable[[str], tuple[str, ...]] | None = None, language: str = "fr") -> list[Problem]:
    """Words ``known`` rejects, unless they are trade words or ``accepted`` (compared in lower case)."""
    ok = TRADE_WORDS | {w.lower() for w in accepted}
    text = tokens.text
    found: list[Problem] = []
    for word in tokens.words:
        start, body = word.start, word.text
        m = _ELISION.match(body) if language == "fr" else None
        if m:
            start, body = start + m.end(), body[m.end():]
        if len(body) < 2 or _good(body, known, ok):
            continue
        found.append(problem_at(text, start, start + len(body), "orthographe",
                                f"« {body} » est inconnu du dictionnaire" if language == "fr"
                                else f"« {body} » est inconnu du dictionnaire anglais",
                                suggest(body) if suggest else ()))
    return found


def _good(word: str, known: Callable[[str], bool], ok: frozenset[str]) -> bool:
    lower = word.lower()
    if lower in ok or lower.replace("’", "'") in ok or known(word):
        return True
    if "-" in word:  # « peut-être », « au-delà », « Saint-Étienne »: whole, else every part
        return all(not part or part.lower() in ok or known(part) for part in word.split("-"))
    return False
