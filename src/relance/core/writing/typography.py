"""French typography of a sent text (Lexique des règles typographiques en usage à l’Imprimerie
nationale), and the one English rule: no space before « : ; ! ? ».

French: a no-break space — U+00A0, or the narrow U+202F — before « ; : ! ? » and inside « »,
after « n° », before « € », and between the thousands of an amount (« 1 234,56 € », decimal comma);
never a straight apostrophe ' in a sent text (’). A plain space there lets the line break leave
« : » or « € » alone at the start of a line. Domain tokens (times 14:30, URLs, placeholders) are
never looked at."""

from __future__ import annotations

import re

from .problem import Problem, problem_at
from .tokens import NBSP, Tokens

_HIGH = re.compile(r"[;:!?]+")
_AMOUNT = re.compile(r"(?<![\w,.])(\d{1,3}(?:[ \u00a0\u202f.,]\d{3})+|\d+)(?:([.,])(\d+))?([ \u00a0\u202f]?)(€|EUR\b)")
_EURO_FIRST = re.compile(r"(?<!\d[ \u00a0\u202f])(?<!\d)€[ \u00a0\u202f]?\d")
_NUMERO = re.compile(r"\b[nN]°([ \u00a0\u202f]?)")


def french(tokens: Tokens) -> list[Problem]:
    text = tokens.text
    found: list[Problem] = []
    for m in _HIGH.finditer(text):
        start = m.start()
        if tokens.in_domain(start) or start == 0 or text[start - 1] == "\n":
            continue
        before = text[start - 1]
        if before.isdigit() and m.group()[0] == ":" and text[m.end():m.end() + 1].isdigit():
            continue  # a ratio or a time outside a token
        if before in NBSP:
            continue
        if before in " \t":
            found.append(problem_at(text, start - 1, m.end(), "typographie",
                                    f"espace insécable attendue avant « {m.group()} » (pas une espace ordinaire)",
                                    ("\u00a0" + m.group(),)))
        elif before not in "(«[\"'’":
            found.append(problem_at(text, start, m.end(), "typographie",
                                    f"espace insécable attendue avant « {m.group()} »", ("\u00a0" + m.group(),)))
    for i, char in enumerate(text):
        if char == "«" and not tokens.in_domain(i):
            after = text[i + 1:i + 2]
            if after and after not in NBSP:
                end = i + 2 if after in " \t" else i + 1
                found.append(problem_at(text, i, end, "typographie", "espace insécable attendue après « « »",
                                        ("«\u00a0",)))
        elif char == "»" and not tokens.in_domain(i) and i > 0:
            before = text[i - 1]
            if before not in NBSP:
                start = i - 1 if before in " \t" else i
                found.append(problem_at(text, start, i + 1, "typographie", "espace insécable attendue avant « » »",
                                        ("\u00a0»",)))
        elif char == "'" and not tokens.in_domain(i):
            found.append(problem_at(text, i, i + 1, "typographie",
                                    "apostrophe droite : dans un texte envoyé, l’apostrophe typographique ’",
                                    ("’",)))
    for m in _NUMERO.finditer(text):
        if tokens.in_domain(m.start()) or (m.group(1) and m.group(1) in NBSP):
            continue
        found.append(problem_at(text, m.start(), m.end(), "typographie",
                                "espace insécable attendue après « n° »", (m.group()[:2] + "\u00a0",)))
    found += _amounts(tokens)
    found += _spacing(tokens)
    return found


_DOUBLE_SPACE = re.compile(r"(?<=[^\W\d_,;’])(?<!  )  (?! )(?=[^\W\d_])")
_SPACE_BEFORE_POINT = re.compile(r"(?<=[^\s.,])[ \u00a0\u202f\t]+([,.])(?![.\d])")
_STRAIGHT_QUOTES = re.compile(r"\"([^\"\n]{1,300})\"")
_PERCENT = re.compile(r"(?<=\d)([ \t]?)%")


def _spacing(tokens: Tokens) -> list[Problem]:
    """Spaces and signs inside a sentence: two spaces in a row between words, a space before « , » or
    « . », straight double quotes "…" (French quotes « … »), « % » without a no-break space before it
    (« 12,15 % »)."""
    text = tokens.text
    found: list[Problem] = []
    for m in _DOUBLE_SPACE.finditer(text):
        if not tokens.in_domain(m.start() - 1, m.end() + 1):
            found.append(problem_at(text, m.start(), m.end(), "typographie", "deux espaces de suite", (" ",)))
    for m in _SPACE_BEFORE_POINT.finditer(text):
        if not tokens.in_domain(m.start(1)):
            found.append(problem_at(text, m.start(), m.end(), "typographie",
                                    f"pas d’espace avant « {m.group(1)} »", (m.group(1),)))
    for m in _STRAIGHT_QUOTES.finditer(text):
        if not tokens.in_domain(m.start()) and not tokens.in_domain(m.end() - 1):
            found.append(problem_at(text, m.start(), m.end(), "typographie",
                                    "guillemets droits : en français, « … » avec des espaces insécables",
                                    (f"«\u00a0{m.group(1).strip()}\u00a0»",)))
    for m in _PERCENT.finditer(text):
        if tokens.in_domain(m.end() - 1, exclude="numero"):
            continue
        found.append(problem_at(text, m.start() - 1 if not m.group(1) else m.start(), m.end(), "typographie",
                                "espace insécable attendue avant « % »", ("\u00a0%",)))
    return found


def _amounts(tokens: Tokens) -> list[Problem]:
    text = tokens.text
    found: list[Problem] = []
    for m in _AMOUNT.finditer(text):
        if tokens.in_domain(m.start(), m.end(), exclude="numero"):
            continue
        whole, mark, decimals, space, unit = m.groups()
        wrong = []
        digits = re.sub(r"\D", "", whole)
        separators = set(re.sub(r"\d", "", whole))
        if separators & {" ", ".", ","}:
            wrong.append("les milliers se séparent par une espace fine insécable (1 234,56 €)")
        elif not separators and len(digits) > 4:
            wrong.append("les milliers se séparent par une espace fine insécable (12 345,67 €)")
        if mark == ".":
            wrong.append("la décimale se marque par une virgule (1 234,56 €)")
        if not space or space not in NBSP:
            wrong.append("espace insécable attendue avant « € »")
        if unit == "EUR" and not wrong:
            continue
        if wrong:
            found.append(problem_at(text, m.start(), m.end(), "typographie", "montant : " + " ; ".join(wrong),
                                    (_french_amount(digits, decimals),)))
    for m in _EURO_FIRST.finditer(text):
        if tokens.in_domain(m.start(), m.end(), exclude="numero"):
            continue
        found.append(problem_at(text, m.start(), m.end(), "typographie",
                                "montant : en français, le symbole € suit le nombre (1 234,56 €)"))
    return found


def _french_amount(digits: str, decimals: str | None) -> str:
    groups: list[str] = []
    while len(digits) > 3:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    groups.insert(0, digits)
    return "\u202f".join(groups) + (f",{decimals}" if decimals else "") + "\u00a0€"


def english(tokens: Tokens) -> list[Problem]:
    """English puts no space before « : ; ! ? »."""
    text = tokens.text
    found = []
    for m in re.finditer(r"[ \u00a0\u202f\t]+([;:!?])", text):
        if tokens.in_domain(m.start(1)):
            continue
        found.append(problem_at(text, m.start(), m.end(), "typographie",
                                f"en anglais, pas d’espace avant « {m.group(1)} »", (m.group(1),)))
    return found
