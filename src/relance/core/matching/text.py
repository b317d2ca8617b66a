"""The words of a transfer and of a name, as the matcher compares them: folded (upper case, no
accent), letters and digits only; a name without its legal form, civility or article."""

from __future__ import annotations

import re
import unicodedata

_STOP_WORDS = frozenset(
    """SARL SAS SASU EURL SA SCI SNC SCP SCM SELARL SELAS EI EIRL GIE GMBH LTD INC BV NV AG
    STE SOCIETE ETS ETABLISSEMENTS CIE COMPAGNIE GROUPE LA LE LES DE DU DES D L ET AU AUX EN
    M MR MME MLLE MM MONSIEUR MADAME MLE VIR VIREMENT VIRT SEPA RECU EMIS DE PAR REF
    PRLV ORDRE DONNEUR INST INSTANTANE""".split()
)
_TOKEN = re.compile(r"[A-Z0-9]+")


def fold(text: str) -> str:
    """Upper case without accents: ``« Éclair »`` → ``« ECLAIR »``."""
    if not text:
        return ""
    if text.isascii():  # bank files mostly are
        return text.upper()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).upper()


def tokens(text: str) -> list[str]:
    """The runs of letters and digits of ``text``, folded."""
    return _TOKEN.findall(fold(text))


def compact(text: str) -> str:
    """Letters and digits only: ``F-2025/0042`` → ``F20250042``."""
    return "".join(tokens(text))


def name_tokens(name: str) -> frozenset[str]:
    """The significant words of a name (legal forms, civilities and articles dropped)."""
    return frozenset(t for t in tokens(name) if t not in _STOP_WORDS and not (len(t) == 1 and t.isalpha()))


def name_key(name: str) -> str:
    """A name as compared with the payer names learnt: its significant words, sorted."""
    return " ".join(sorted(name_tokens(name)))


def name_similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard similarity of two sets of name tokens (0 to 1)."""
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)
