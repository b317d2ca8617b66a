"""Prescription of the claim for payment.

* C. com. L110-4: 5 years for obligations born between merchants, or between merchants and
  non-merchants, in their trade (``debtor="business"``).
* C. conso L218-2 (ex-L137-2): 2 years for the action of a professional against a **consumer**
  for goods or services supplied (``debtor="consumer"``).
* Start: the day the creditor knew or should have known the facts enabling it to act, i.e. the
  completion of the works or of the service, not the invoice date (Cass. com. 26 Feb 2020,
  n° 18-25.036; Cass. 1re civ. 19 May 2021, n° 20-12.520; Cass. 3e civ. 1 March 2023,
  n° 21-23.176). *Choice*: ``performance_date`` if known, else the invoice date, else the due
  date (with a warning, the real deadline may be earlier).
* Interruption: the debtor’s acknowledgment, including a partial payment (C. civ. 2240), a claim
  in court (2241), a conservatory measure or act of forced execution (2244); it « efface le délai
  de prescription acquis » and starts a new period of the same length (2231).
* A formal notice does **not** interrupt (Cass. com. 18 May 2022, n° 20-23.204); nor does the
  request for an injonction de payer alone (only the service of the order does).
* End: « La prescription est acquise lorsque le dernier jour du terme est accompli » (C. civ.
  2229); the deadline is the day bearing the same number N years later (28 February for 29
  February). *Simplification*: a court claim is counted as a restart on the date given; its
  effect lasting until the end of the proceedings (2242) and suspensions (2238) are not modelled.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal

from ..formatting import short_date
from ._accrual import check_date
from ._dates import add_months, add_years
from .errors import LawInputError

PERIOD_YEARS = {"business": 5, "consumer": 2}
LEGAL_BASIS = {
    "business": ("C. com. L110-4", "C. civ. 2231", "C. civ. 2240", "C. civ. 2241"),
    "consumer": ("C. conso L218-2", "C. civ. 2231", "C. civ. 2240", "C. civ. 2241"),
}

InterruptionKind = Literal["acknowledgment", "partial_payment", "court_action", "enforcement", "ip_order_served",
                           "formal_notice", "reminder", "ip_request"]
INTERRUPTING: frozenset[str] = frozenset({"acknowledgment", "partial_payment", "court_action", "enforcement",
                                          "ip_order_served"})
NOT_INTERRUPTING: dict[str, str] = {
    "formal_notice": "une mise en demeure n’interrompt pas la prescription (Cass. com. 18 mai 2022, n° 20-23.204)",
    "reminder": "une relance n’interrompt pas la prescription",
    "ip_request": ("la requête en injonction de payer n’interrompt pas la prescription ; seule la signification de "
                   "l’ordonnance l’interrompt"),
}


@dataclass(frozen=True)
class Interruption:
    """An act with its date: ``kind`` in ``INTERRUPTING`` restarts the period (C. civ. 2231, 2240,
    2241, 2244); a kind in ``NOT_INTERRUPTING`` (formal notice, reminder, injonction request) does not."""

    day: date
    kind: InterruptionKind = "acknowledgment"


@dataclass(frozen=True)
class PrescriptionResult:
    """The prescription deadline (the last day to act, included) as of ``as_of``.

    ``alert`` is ``None``, ``"6_months"`` (6 months or less left), ``"1_month"`` or ``"expired"``.
    """

    start: date
    years: int
    deadline: date
    days_left: int
    expired: bool
    alert: str | None
    warn_6_months_from: date
    warn_1_month_from: date
    restarted_on: date | None
    warnings: tuple[str, ...]
    legal_basis: tuple[str, ...]


def prescription(due_date: date, debtor: str, performance_date: date | None = None,
                 interruptions: Iterable[date | Interruption] = (), as_of: date | None = None,
                 issue_date: date | None = None) -> PrescriptionResult:
    """The prescription deadline of an invoice’s claim, and the alerts 6 months and 1 month before.

    ``interruptions``: dates of acknowledgments and court actions (plain dates), or
    ``Interruption`` items; those of a non-interrupting kind are ignored with a warning, as are
    acts after the deadline (an acquired prescription is not revived). ``as_of`` is required.
    """
    due = check_date(due_date, "date d’échéance")
    if as_of is None:
        raise LawInputError("date de calcul (as_of) manquante")
    today = check_date(as_of, "date de calcul")
    if debtor not in PERIOD_YEARS:
        raise LawInputError(f"type de débiteur inconnu : {debtor!r} (« business » ou « consumer »)")
    years = PERIOD_YEARS[debtor]
    warnings: list[str] = []
    if performance_date is not None:
        start = check_date(performance_date, "date de livraison ou d’exécution")
    elif issue_date is not None:
        start = check_date(issue_date, "date de la facture")
        warnings.append("Date de livraison ou d’exécution inconnue : le délai est compté depuis la date de la facture.")
    else:
        start = due
        warnings.append("Date de livraison ou d’exécution inconnue : le délai est compté depuis l’échéance ; la "
                        "prescription peut être acquise plus tôt (elle court en principe de l’exécution de la "
                        "prestation).")
    deadline = add_years(start, years)
    restarted = None
    acts = [i if isinstance(i, Interruption) else Interruption(check_date(i, "date d’interruption")) for i in interruptions]
    for act in sorted(acts, key=lambda a: a.day):
        if act.kind in NOT_INTERRUPTING:
            warnings.append(f"Acte du {short_date(act.day)} ignoré : {NOT_INTERRUPTING[act.kind]}.")
            continue
        if act.kind not in INTERRUPTING:
            raise LawInputError(f"type d’acte inconnu : {act.kind!r}")
        if act.day < start:
            warnings.append(f"Acte du {short_date(act.day)} antérieur au point de départ : ignoré.")
            continue
        if act.day > deadline:
            warnings.append(f"Acte du {short_date(act.day)} postérieur à l’expiration du délai ({short_date(deadline)}) : "
                            f"il n’interrompt plus une prescription déjà acquise.")
            continue
        restarted = act.day
        deadline = add_years(act.day, years)  # C. civ. 2231: a new period of the same length
    warn_6 = add_months(deadline, -6)
    warn_1 = add_months(deadline, -1)
    days_left = (deadline - today).days
    expired = today > deadline
    if expired:
        alert: str | None = "expired"
        warnings.append(f"Prescription acquise depuis le {short_date(deadline)} : la créance ne peut plus être "
                        f"réclamée en justice.")
    elif today >= warn_1:
        alert = "1_month"
        warnings.append(f"Prescription le {short_date(deadline)} : moins d’un mois pour agir (reconnaissance de dette, "
                        f"action en justice, injonction de payer signifiée).")
    elif today >= warn_6:
        alert = "6_months"
        warnings.append(f"Prescription le {short_date(deadline)} : moins de six mois pour agir.")
    else:
        alert = None
    return PrescriptionResult(start, years, deadline, days_left, expired, alert, warn_6, warn_1, restarted,
                              tuple(warnings), LEGAL_BASIS[debtor])
