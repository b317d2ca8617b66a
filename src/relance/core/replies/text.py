"""The text a reply is judged on: our own quoted reminder removed, then folded for matching
(lower case, accents and typographic apostrophes folded) with a map back to the text as written,
so the evidence is quoted exactly as the customer wrote it."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_CUT_MARKERS = [
    re.compile(r"^[ \t]*Le\b[^\n]{0,300}?(?:\n[^\n]{0,300}?)?\ba\s+[ée]crit\s*:", re.M | re.I),
    re.compile(r"^[ \t]*On\b[^\n]{0,300}?(?:\n[^\n]{0,300}?)?\bwrote\s*:", re.M | re.I),
    re.compile(r"^[ \t]*-{2,}\s*(?:Message d.origine|Original Message|Message transf[ée]r[ée]|"
               r"Forwarded message)\s*-{2,}", re.M | re.I),
    re.compile(r"^[ \t]*_{10,}\s*$", re.M),
    re.compile(r"^[ \t]*\*?(?:De|From)\s*:\*?[^\n]*\n[ \t]*\*?(?:Envoy[ée]|Sent|Date)\s*:", re.M | re.I),
    re.compile(r"^-- ?$", re.M),
    re.compile(r"^[ \t]*(?:Envoy[ée] (?:de|depuis) mon|Sent from my)\b", re.M | re.I),
]
_CLOSING = re.compile(
    r"^[ \t]*(?:(?:bien|tr[eè]s|tres) )?cordialement\b|^[ \t]*(?:sinc[eè]res )?salutations\b|"
    r"^[ \t]*bien [àa] (?:vous|toi)\b|^[ \t]*(?:best|kind|warm)? ?regards\b|^[ \t]*sincerely\b|"
    r"^[ \t]*bonne (?:journ[ée]e|soir[ée]e|fin de journ[ée]e)\b|^[ \t]*cdlt\b|^[ \t]*slts\b",
    re.M | re.I)


def own_words(body: str) -> str:
    """The customer's own words: everything from the first quoted-history marker (« Le … a
    écrit : », « On … wrote: », « -----Message d'origine----- », « De : … Envoyé : … », a
    signature separator) is cut, lines quoted with « > » are dropped, and the signature after a
    closing formula (« Cordialement », « Best regards »…) is cut."""
    text = body.replace("\r\n", "\n").replace("\r", "\n")
    cut = len(text)
    for marker in _CUT_MARKERS:
        found = marker.search(text)
        if found and found.start() < cut:
            cut = found.start()
    text = text[:cut]
    closing = _CLOSING.search(text)
    if closing and closing.start() > 0:
        text = text[:closing.start()]
    return "\n".join(line for line in text.split("\n") if not line.lstrip().startswith(">")).strip()


_SPECIAL = {"’": "'", "‘": "'", "`": "'", "«": '"', "»": '"', "œ": "oe", "æ": "ae", "ß": "ss",
            "\u00a0": " ", "\u202f": " ", "–": "-", "—": "-"}


@dataclass(frozen=True)
class Folded:
    """``text`` folded for matching; ``origin[i]`` is the index in ``original`` of ``text[i]``."""

    original: str
    text: str
    origin: tuple[int, ...]

    def quote(self, start: int, end: int) -> str:
        """The original words behind ``text[start:end]``."""
        if start >= end:
            return ""
        return self.original[self.origin[start]:self.origin[end - 1] + 1].strip()


def fold_char(char: str) -> str:
    lower = char.lower()
    if lower in _SPECIAL:
        return _SPECIAL[lower]
    base = "".join(c for c in unicodedata.normalize("NFD", lower) if not unicodedata.combining(c))
    return base or " "


def fold(original: str) -> Folded:
    parts: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(original):
        folded = fold_char(char)
        parts.append(folded)
        origin.extend([index] * len(folded))
    return Folded(original, "".join(parts), tuple(origin))
