"""The due date of an e-invoice: BT-9 when given, else derived from the payment terms text
(BT-20: « 30 jours net », « 45 jours fin de mois », « à réception », « Net 30 »,
« Zahlbar innerhalb 14 Tagen netto »), else the creditor's default term, with a warning."""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from ...formatting import short_date

EomConvention = Literal["eom_after", "eom_before"]

_DAYS = r"(?:jours?|j\b|jrs?\b|days?|tagen?|tage|dias|giorni|dagen)"
_AFTER_NET = re.compile(rf"(\d{{1,3}})\s*{_DAYS}\s*(?:date\s+de\s+facture\s+)?(?:net|netto|nets?)\b")
_NET_BEFORE = re.compile(rf"\b(?:net|netto)\s*:?\s*(\d{{1,3}})\b(?:\s*{_DAYS})?")
_ANY = re.compile(rf"(\d{{1,3}})\s*{_DAYS}")
_EOM = re.compile(r"fin\s+de\s+mois|\bfdm\b|end\s+of\s+(?:the\s+)?month|\beom\b|monatsende")
_IMMEDIATE = re.compile(
    r"(?:a|des|dès|sur)\s+reception|comptant|immediat|upon\s+receipt|on\s+receipt|due\s+on\s+receipt|sofort"
)


@dataclass(frozen=True)
class PaymentTerms:
    days: int
    end_of_month: bool
    text: str

    def describe(self) -> str:
        if self.days == 0 and not self.end_of_month:
            return "paiement à réception"
        return f"{self.days} jours" + (" fin de mois" if self.end_of_month else "")


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def parse_payment_terms(text: str) -> PaymentTerms | None:
    """The term in days (and whether it runs to the end of the month) stated by ``text``, or None
    when the text states none or several incompatible ones (a discount term beside the net term
    is not a conflict: the net one wins)."""
    plain = " ".join(_plain(text).split())
    if not plain:
        return None
    eom = bool(_EOM.search(plain))
    for pattern in (_AFTER_NET, _NET_BEFORE):
        found = {int(m.group(1)) for m in pattern.finditer(plain)}
        if len(found) == 1:
            return PaymentTerms(found.pop(), eom, text.strip())
        if len(found) > 1:
            return None
    found = {int(m.group(1)) for m in _ANY.finditer(plain)}
    if len(found) == 1:
        return PaymentTerms(found.pop(), eom, text.strip())
    if len(found) > 1:
        return None
    if _IMMEDIATE.search(plain):
        return PaymentTerms(0, False, text.strip())
    return None


def _end_of_month(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def due_from_terms(issue_date: date, terms: PaymentTerms, convention: EomConvention = "eom_before") -> date:
    """Issue date + days; « fin de mois » counted as the creditor counts it (DGCCRF accepts both):
    ``eom_after`` days then end of month, ``eom_before`` end of month then days."""
    if not terms.end_of_month:
        return issue_date + timedelta(days=terms.days)
    if convention == "eom_after":
        return _end_of_month(issue_date + timedelta(days=terms.days))
    return _end_of_month(issue_date) + timedelta(days=terms.days)


@dataclass(frozen=True)
class DueDate:
    value: date
    how: Literal["document", "terms", "default"]
    warning: str | None = None


def resolve_due_date(
    issue_date: date, due_date: date | None, terms_text: str, default_days: int,
    convention: EomConvention = "eom_before", default_label: str = "délai par défaut de l’organisation",
) -> DueDate:
    if due_date is not None:
        return DueDate(due_date, "document")
    terms = parse_payment_terms(terms_text) if terms_text else None
    if terms is not None:
        value = due_from_terms(issue_date, terms, convention)
        how = "" if _plain(terms.text) == _plain(terms.describe()) else f" ({terms.describe()})"
        return DueDate(value, "terms", (
            f"échéance absente (BT-9) : calculée d’après les conditions de paiement « {terms.text[:80]} »{how}, "
            f"soit le {short_date(value)}"))
    value = issue_date + timedelta(days=default_days)
    reason = (f"échéance absente (BT-9) et conditions de paiement « {terms_text[:80]} » sans délai lisible"
              if terms_text else "échéance (BT-9) et conditions de paiement (BT-20) absentes")
    return DueDate(value, "default", (
        f"{reason} : échéance fixée à {default_days} jours après la date de facture ({default_label}), "
        f"soit le {short_date(value)}"))
