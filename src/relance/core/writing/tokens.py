"""Cutting a text into words with their offsets, after setting aside the domain tokens that no
dictionary knows and no rule may touch: template placeholders, e-mail addresses, URLs, IBAN, BIC,
RF references, legal references (L441-10, D441-5, 1231-6), invoice numbers, dates, amounts,
SIREN/SIRET and any other token that carries a digit."""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import cached_property
from html import unescape

SPACES = " \t\u00a0\u202f\u2009"
NBSP = "\u00a0\u202f"  # no-break space and narrow no-break space: both accepted before « ; : ! ? »

# Countries whose BIC a French creditor meets (ISO 3166: the 5th and 6th letters of a BIC); a set
# rather than any two letters, so that an 8-letter word in capitals is not taken for a BIC.
_BIC_COUNTRIES = ("FR|BE|LU|CH|MC|DE|ES|IT|PT|NL|GB|IE|AT|DK|SE|FI|NO|PL|CZ|SK|HU|RO|BG|GR|CY|MT|EE|LV|LT|SI|HR|IS"
                  "|LI|US|CA|MA|TN|DZ|SN|CI|AD")

DOMAIN_PATTERNS: tuple[tuple[str, str], ...] = (
    ("gabarit", r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}"),
    ("url", r"(?:https?://|www\.)[^\s<>«»\"]+[^\s<>«»\".,;:!?)\]’']"),
    ("email", r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    ("iban", r"\b[A-Z]{2}\d{2}(?:[ \u00a0\u202f]?[A-Z0-9]{4}){2,7}(?:[ \u00a0\u202f]?[A-Z0-9]{1,3})?\b"),
    ("reference_rf", r"\bRF\d{2}(?:[ \u00a0\u202f]?[A-Z0-9]{1,4}){1,6}\b"),
    ("bic", rf"\b[A-Z]{{4}}(?:{_BIC_COUNTRIES})[A-Z0-9]{{2}}(?:[A-Z0-9]{{3}})?\b"),
    # L441-10, D. 441-5, R124-4, 1231-6, 1344-1, art. L. 441-10 II
    ("reference_legale", r"\b(?:[LRDA]\.?[ \u00a0]?)?\d+(?:-\d+)+\b"),
    # any token with a digit: invoice numbers (F-2026-0042, FA2026/001), dates (23/11/2026,
    # 2026-11-23), SIREN, amounts, times (14h30, 14:30), ordinals (1er, 2e)
    ("numero", r"[\w/.-]*\d[\w/.:-]*(?<![.:-])"),
)
_DOMAIN = re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern in DOMAIN_PATTERNS), re.DOTALL)

WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|['’-](?=[^\W\d_]))*")


@dataclass(frozen=True)
class Word:
    text: str
    start: int
    end: int


@dataclass(frozen=True, eq=False)
class Tokens:
    text: str
    domain: tuple[tuple[int, int, str], ...]  # (start, end, kind), in order
    words: tuple[Word, ...]

    def in_domain(self, start: int, end: int | None = None, exclude: str = "") -> bool:
        """Whether [start, end) meets a domain token (other than those of kind ``exclude``). The tokens
        are in order and do not overlap: a binary search finds the candidates."""
        end = start + 1 if end is None else end
        i = bisect_right(self._starts, start) - 1
        for s, e, kind in self.domain[max(i, 0):]:
            if s >= end:
                break
            if start < e and kind != exclude:
                return True
        return False

    @cached_property
    def _starts(self) -> list[int]:
        return [s for s, _, _ in self.domain]


def domain_spans(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.lastgroup or "") for m in _DOMAIN.finditer(text)]


def tokenise(text: str) -> Tokens:
    """The domain tokens, then the words found between them (a word never overlaps a domain token)."""
    spans = domain_spans(text)
    words: list[Word] = []
    position = 0
    for start, end, _ in [*spans, (len(text), len(text), "")]:
        for m in WORD.finditer(text, position, start):
            words.append(Word(m.group(), m.start(), m.end()))
        position = end
    return Tokens(text, tuple(spans), tuple(words))


_BLOCK_END = re.compile(r"(?i)<br\s*/?>|</(?:p|div|li|tr|h[1-6]|table|blockquote|ul|ol)\s*>")
_CELL_END = re.compile(r"(?i)</t[dh]\s*>")
_HIDDEN = re.compile(r"(?is)<(script|style)\b.*?</\1\s*>|<!--.*?-->")
_TAG = re.compile(r"<[^>]*>")


def visible_text(html: str) -> str:
    """The text a reader sees in an HTML fragment, which is what ``check_text(..., html=True)``
    checks and what its offsets count in: scripts, styles and comments dropped, ``<br>`` and the end
    of a paragraph, list item, table row or heading made a line break, the end of a table cell a
    tab, every other tag removed, then the entities decoded (``&nbsp;`` is U+00A0)."""
    html = _HIDDEN.sub("", html)
    html = _BLOCK_END.sub("\n", html)
    html = _CELL_END.sub("\t", html)
    return unescape(_TAG.sub("", html))
