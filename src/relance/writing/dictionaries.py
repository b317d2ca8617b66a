"""The dictionaries: Debian's hunspell-fr (Dicollecte) and hunspell-en-gb (British English, as the
English messages are written: « organisation », dates « 23 November 2026 »), through pyenchant and
libenchant, hunspell's provider first. Loaded once per process (~50 ms), then about 10 µs a word."""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

from relance.errors import RelanceError

TAGS = {"fr": ("fr_FR", "fr"), "en": ("en_GB", "en_US", "en")}
#: the Debian packages that bring them (the Makefile and .ci/run install them)
PACKAGES = "hunspell-fr hunspell-en-gb libenchant-2-2"
_lock = threading.Lock()


class SpellingUnavailable(RelanceError):
    """No dictionary for the language: the check cannot vouch for the spelling."""


@lru_cache(maxsize=4)
def dictionary(language: str) -> Any:
    """The enchant dictionary of ``language`` ("fr" or "en")."""
    try:
        import enchant
    except ImportError as exc:  # pyenchant missing, or libenchant-2 not installed
        raise SpellingUnavailable(f"vérification d’orthographe indisponible : pyenchant ou libenchant manquant "
                                  f"(apt-get install {PACKAGES}) — {exc}") from exc
    broker = enchant.Broker()
    broker.set_ordering("*", "hunspell,aspell,myspell,nuspell")
    for tag in TAGS.get(language, TAGS["fr"]):
        if broker.dict_exists(tag):
            return broker.request_dict(tag)
    raise SpellingUnavailable(f"vérification d’orthographe indisponible : aucun dictionnaire « {language} » "
                              f"(apt-get install {PACKAGES})")


def known(language: str, word: str) -> bool:
    d = dictionary(language)
    if language == "en":
        word = word.replace("’", "'")
    with _lock:  # an enchant dictionary is not documented as thread-safe: the web server has threads
        return bool(d.check(word))


_ALPHABET = {"fr": "abcdefghijklmnopqrstuvwxyzàâäçéèêëîïôöùûüÿœ", "en": "abcdefghijklmnopqrstuvwxyz"}


_ACCENTS = {"a": "àâä", "e": "éèêë", "i": "îï", "o": "ôö", "u": "ùûü", "c": "ç", "y": "ÿ"}
for _plain_letter, _variants in list(_ACCENTS.items()):
    for _variant in _variants:
        _ACCENTS[_variant] = _plain_letter + _variants.replace(_variant, "")


@lru_cache(maxsize=2048)
def suggest(language: str, word: str) -> tuple[str, ...]:
    """Up to five corrections, one edit away, from the first kind of edit that finds any: an accent
    (« réglement » → « règlement »), a letter left out (« facure » → « facture »), one too many
    (« Cordialemment »), two swapped, one wrong. A few milliseconds: hunspell's own suggestion takes
    200 ms in French, so it is asked only when no edit finds a word and the word is not capitalised
    (then mostly a name)."""
    d = dictionary(language)
    lower = word.lower()
    letters = _ALPHABET.get(language, _ALPHABET["fr"])
    splits = [(lower[:i], lower[i:]) for i in range(len(lower) + 1)]
    edits = (
        lambda: [a + c + b[1:] for a, b in splits if b for c in _ACCENTS.get(b[0], "")],
        lambda: [a + c + b for a, b in splits for c in letters],
        lambda: [a + b[1:] for a, b in splits if b],
        lambda: [a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1],
        lambda: [a + c + b[1:] for a, b in splits if b for c in letters if c != b[0]],
    )
    plausible = _trigrams(language)
    found: list[str] = []
    with _lock:
        for edit in edits:
            found = [c for c in dict.fromkeys(edit()) if c and c != lower and _fits(c, plausible) and d.check(c)]
            if found:
                break
        if not found and not word[:1].isupper():
            found = [s for s in d.suggest(word) if " " not in s and "-" not in s.strip("-")][:5]
    if word[:1].isupper():
        found = [c[:1].upper() + c[1:] for c in found]
    return tuple(dict.fromkeys(found))[:5]


DIC_DIR = Path("/usr/share/hunspell")


@lru_cache(maxsize=4)
def _trigrams(language: str) -> frozenset[str]:
    """The three-letter sequences of the dictionary's stems (read once, ~150 ms): a candidate with one
    that no stem has is not asked to hunspell, which makes a suggestion four times quicker. Empty (no
    filter) when the .dic file is not where Debian puts it."""
    for tag in TAGS.get(language, TAGS["fr"]):
        path = DIC_DIR / f"{tag}.dic"
        if path.exists():
            stems = [line.split("/", 1)[0].split("\t", 1)[0].lower()
                     for line in path.read_text(encoding="utf-8", errors="replace").splitlines()[1:]]
            return frozenset(w[i:i + 3] for w in stems for i in range(len(w) - 2))
    return frozenset()


def _fits(candidate: str, trigrams: frozenset[str]) -> bool:
    return not trigrams or all(candidate[i:i + 3] in trigrams for i in range(len(candidate) - 2))
