"""Payment terms between professionals (C. com. L441-10 I, ordonnance 2019-359).

* Default term, when nothing is stipulated: « le délai de règlement des sommes dues est fixé au
  trentième jour suivant la date de réception des marchandises ou d’exécution de la prestation
  demandée » (from delivery / performance, not from the invoice date).
* Agreed term: « Le délai convenu entre les parties pour régler les sommes dues ne peut dépasser
  soixante jours après la date d’émission de la facture. Par dérogation, un délai maximal de
  quarante-cinq jours fin de mois après la date d’émission de la facture peut être convenu entre
  les parties, sous réserve que ce délai soit expressément stipulé par contrat et qu’il ne
  constitue pas un abus manifeste à l’égard du créancier. »
* The DGCCRF accepts two ways of counting « 45 jours fin de mois »: invoice date + 45 days, then
  to the end of that month (``"eom_after"``); or end of the invoice month, then + 45 days
  (``"eom_before"``). Example: invoice of 15 January -> 31 March / 17 March (16 March in a leap
  year). ``"shortest"`` (default) takes the earlier of the two, the safe choice when unsure.
* Exceeding the maximum: administrative fine up to 75 000 € (natural person) or 2 000 000 €
  (legal person). Sector exceptions (L441-11) and periodic invoices (CGI 289 I-3: 45 days) are
  not handled here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from ..formatting import short_date
from ._accrual import check_date
from ._dates import end_of_month
from .errors import LawInputError

Convention = Literal["eom_after", "eom_before", "shortest"]
CONVENTIONS: tuple[Convention, ...] = ("eom_after", "eom_before", "shortest")

DEFAULT_TERM_DAYS = 30
MAX_TERM_DAYS = 60
EOM_TERM_DAYS = 45
LEGAL_BASIS = ("C. com. L441-10 I",)


@dataclass(frozen=True)
class TermsCheck:
    """The legal maximum due date(s) of an invoice and whether its due date exceeds them.

    ``legal_max`` is the latest due date the law allows (the later of ``max_60_days`` and
    ``max_45_eom`` for an agreed term; ``default_due`` when no term was agreed); ``days_over`` the
    days beyond it (0 if within).
    """

    issue_date: date
    due_date: date
    max_60_days: date
    max_45_eom: date
    convention: str
    legal_max: date
    exceeds: bool
    days_over: int
    warning: str | None
    default_due: date | None = None
    notes: tuple[str, ...] = ()
    legal_basis: tuple[str, ...] = LEGAL_BASIS


def default_due_date(delivery_date: date) -> date:
    """C. com. L441-10 I: 30 days after receipt of the goods or performance of the service."""
    return delivery_date + timedelta(days=DEFAULT_TERM_DAYS)


def max_60_days(issue_date: date) -> date:
    """60 days after the invoice date (C. com. L441-10 I)."""
    return issue_date + timedelta(days=MAX_TERM_DAYS)


def max_45_days_end_of_month(issue_date: date, convention: Convention = "shortest") -> date:
    """45 days end of month after the invoice date, counted per ``convention`` (DGCCRF)."""
    after = end_of_month(issue_date + timedelta(days=EOM_TERM_DAYS))
    before = end_of_month(issue_date) + timedelta(days=EOM_TERM_DAYS)
    if convention == "eom_after":
        return after
    if convention == "eom_before":
        return before
    if convention == "shortest":
        return min(after, before)
    raise LawInputError(f"convention de calcul inconnue : {convention!r} (« eom_after », « eom_before » ou « shortest »)")


_FINE = ("Le dépassement des délais de paiement est passible d’une amende administrative jusqu’à 75 000 € pour une "
         "personne physique et 2 000 000 € pour une personne morale.")


def check_terms(issue_date: date, due_date: date, delivery_date: date | None = None,
                convention: Convention = "shortest", agreed: bool = True) -> TermsCheck:
    """Check ``due_date`` against the maximum terms of C. com. L441-10 I.

    ``agreed=True`` (a term was stipulated): the maximum is 60 days after the invoice date or 45
    days end of month; a due date between the two is flagged as allowed only if the 45-days-end-of-
    month term is expressly stipulated. ``agreed=False``: the default term, 30 days after
    ``delivery_date`` (the invoice date if the delivery date is unknown, with a note).
    """
    issued = check_date(issue_date, "date de la facture")
    due = check_date(due_date, "date d’échéance")
    delivered = None if delivery_date is None else check_date(delivery_date, "date de livraison")
    if convention not in CONVENTIONS:
        raise LawInputError(f"convention de calcul inconnue : {convention!r} (« eom_after », « eom_before » ou "
                            f"« shortest »)")
    m60 = max_60_days(issued)
    m45 = max_45_days_end_of_month(issued, convention)
    notes: list[str] = []
    default_due = default_due_date(delivered) if delivered is not None else None
    if agreed:
        legal_max = max(m60, m45)
        if m60 < due <= m45:
            notes.append(
                f"L’échéance dépasse 60 jours après la facture ({short_date(m60)}) : elle n’est admise que si un délai "
                f"de 45 jours fin de mois est expressément stipulé au contrat et n’est pas manifestement abusif."
            )
        limits = f"60 jours après la date de facture ({short_date(m60)}) ou 45 jours fin de mois ({short_date(m45)})"
    else:
        if default_due is None:
            default_due = default_due_date(issued)
            notes.append("Date de livraison ou d’exécution inconnue : le délai supplétif de 30 jours est compté depuis "
                         "la date de la facture.")
        legal_max = default_due
        limits = f"délai supplétif de 30 jours après la livraison ou l’exécution ({short_date(default_due)})"
    days_over = max(0, (due - legal_max).days)
    warning = None
    if days_over:
        warning = (f"L’échéance du {short_date(due)} dépasse le délai maximal de paiement (C. com. L441-10 I) : "
                   f"{limits} ; dépassement de {days_over} jour{'s' if days_over > 1 else ''}. {_FINE}")
    return TermsCheck(issued, due, m60, m45, convention, legal_max, days_over > 0, days_over, warning, default_due,
                      tuple(notes))
