"""Prescription watch of the open invoices: which claims can no longer be brought to court, or
soon can't, with the acts that moved their deadline.

* Period: 5 years between merchants, or a merchant and a non-merchant in its trade (C. com.
  L110-4); 2 years for a professional against a consumer (C. conso L218-2). It runs from the
  delivery or performance date, else the invoice date (``core.law.prescription``).
* Interruption, a new period of the same length from the act (C. civ. 2231): the debtor's
  acknowledgment, including a partial payment (2240); a claim in court (2241); an act of forced
  execution (2244). For an injonction de payer, the **service** of the order interrupts, never
  the request alone (Cass. 10 July 1990, n° 89-13.345): the ``served_on`` of the case holding
  the invoice counts, its ``request_filed_on`` does not. A formal notice never interrupts (Cass.
  com. 18 May 2022, n° 20-23.204).
* Not modelled (as in ``core.law.prescription``): an interruption by a court claim lasting
  until the end of the proceedings (2242), suspensions (2238).

Speed: an interruption only ever moves the deadline later, so no open invoice can end within
the window unless its start plus the period does; that bound is applied in SQL first (the
start is ``COALESCE(delivery_date, issue_date)``), then the exact deadline is computed for
the few invoices left, with their acts read in three more queries (events, partial payments,
service of an order). A million open invoices that are recent cost one filtered scan of the
organisation's open invoices and nothing else.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import DateField, Q, QuerySet
from django.db.models.functions import Coalesce

from relance.core import litigation as machine
from relance.core.law import Interruption, LawInputError, prescription
from relance.core.law._dates import add_years
from relance.core.law.prescription import INTERRUPTING, PERIOD_YEARS
from relance.events import kinds
from relance.events.models import Event
from relance.ledger.models import Allocation, Customer, Invoice, Organisation
from relance.ledger.queries import visible

from .models import CaseInvoice

#: Days ahead the watch looks by default.
DEFAULT_DAYS = 90

BASIS = {
    "business": "C. com. art. L110-4 : 5 ans entre commerçants (interruption : C. civ. art. 2231, 2240, 2241, 2244)",
    "consumer": "C. conso art. L218-2 : 2 ans contre un consommateur (interruption : C. civ. art. 2231, 2240, 2241, "
                "2244)",
}

#: French label of each interrupting act.
LABELS: dict[str, str] = {
    "acknowledgment": "reconnaissance de dette (C. civ. art. 2240)",
    "partial_payment": "paiement partiel (reconnaissance de dette, C. civ. art. 2240)",
    "court_action": "action en justice (C. civ. art. 2241)",
    "enforcement": "mesure d’exécution forcée (C. civ. art. 2244)",
    "ip_order_served": "signification de l’ordonnance d’injonction de payer",
}


@dataclass
class PrescriptionRow:
    invoice: Invoice
    customer: Customer
    ends_on: date
    days_left: int
    years: int
    basis: str
    interruptions: list[tuple[date, str]] = field(default_factory=list)
    case_id: int | None = None

    @property
    def expired(self) -> bool:
        return self.days_left < 0

    def as_dict(self) -> dict[str, Any]:
        i, c = self.invoice, self.customer
        return {"invoice": i.pk, "number": i.number, "customer": {"id": c.pk, "code": c.code, "name": c.legal_name,
                                                                   "is_business": c.is_business},
                "issue_date": i.issue_date, "delivery_date": i.delivery_date, "due_date": i.due_date,
                "amount_due": i.amount_due, "currency": i.currency, "ends_on": self.ends_on,
                "days_left": self.days_left, "expired": self.expired, "years": self.years, "basis": self.basis,
                "interruptions": [{"on": d, "label": label} for d, label in self.interruptions],
                "case": self.case_id}


def _cutoff(limit: date, years: int) -> date:
    """The latest start whose period, uninterrupted, could end by ``limit`` (one day of margin
    for 29 February, which ``add_years`` moves to the 28th)."""
    return add_years(limit, -years) + timedelta(days=1)


def candidates(organisation: Organisation, as_of: date, days: int = DEFAULT_DAYS,
               collector_id: int | None = None) -> QuerySet[Invoice]:
    """The open invoices whose *earliest possible* deadline (start + period, no interruption)
    falls by ``as_of + days``: a superset of the watch list, selected in SQL."""
    limit = as_of + timedelta(days=days)
    start = Coalesce("delivery_date", "issue_date", output_field=DateField())
    qs = visible(Invoice.objects.filter(organisation=organisation, status=Invoice.Status.OPEN), collector_id,
                 "customer__")
    return (qs.alias(prescription_start=start)
            .filter(Q(customer__is_business=True, prescription_start__lte=_cutoff(limit, PERIOD_YEARS["business"]))
                    | Q(customer__is_business=False,
                        prescription_start__lte=_cutoff(limit, PERIOD_YEARS["consumer"]))))


def _acts(organisation: Organisation, found: QuerySet[Invoice]) -> dict[int, set[tuple[date, str]]]:
    ids = found.values("pk")
    acts: dict[int, set[tuple[date, str]]] = defaultdict(set)
    events = Event.objects.filter(organisation=organisation, kind=kinds.PRESCRIPTION_INTERRUPTED,
                                  invoice_id_ref__in=ids)
    for event_invoice, data in events.values_list("invoice_id_ref", "data"):
        if event_invoice is None:
            continue
        try:
            acts[int(event_invoice)].add((date.fromisoformat(str(data["on"])), str(data["kind"])))
        except (KeyError, ValueError, TypeError):
            continue
    payments = Allocation.objects.filter(organisation=organisation, payment__isnull=False, invoice_id__in=ids)
    for invoice_id, day in payments.values_list("invoice_id", "date"):
        acts[invoice_id].add((day, "partial_payment"))
    served = CaseInvoice.objects.filter(invoice_id__in=ids, case__served_on__isnull=False)
    for invoice_id, served_on in served.values_list("invoice_id", "case__served_on"):
        if served_on is not None:
            # the steps service also records the service as a « court_action » event: one act, named
            acts[invoice_id].discard((served_on, "court_action"))
            acts[invoice_id].add((served_on, "ip_order_served"))
    return acts


def _effective(start: date, years: int, acts: set[tuple[date, str]]) -> list[tuple[date, str]]:
    """The acts that restarted the period, in order (the rule of ``core.law.prescription``: an
    act before the start, or after a deadline already reached, moves nothing)."""
    deadline = add_years(start, years)
    moved = []
    for day, kind in sorted(acts):
        if kind not in INTERRUPTING or day < start or day > deadline:
            continue
        moved.append((day, LABELS.get(kind, kind)))
        deadline = add_years(day, years)
    return moved


def watch(organisation: Organisation, as_of: date, *, days: int = DEFAULT_DAYS,
          collector_id: int | None = None) -> list[PrescriptionRow]:
    """Open invoices whose prescription ends within ``days`` days of ``as_of`` or has ended,
    soonest first (``days_left`` negative once expired), each with the acts that moved its
    deadline and the live litigation case holding it. Five queries whatever the ledger's size."""
    found = candidates(organisation, as_of, days, collector_id)
    invoices = list(found.select_related("customer").order_by("due_date", "number"))
    if not invoices:
        return []
    acts = _acts(organisation, found)
    live = dict(CaseInvoice.objects.filter(invoice_id__in=found.values("pk"), case__state__in=machine.LIVE_STATES)
                .values_list("invoice_id", "case_id"))
    limit = as_of + timedelta(days=days)
    rows = []
    for invoice in invoices:
        debtor = "business" if invoice.customer.is_business else "consumer"
        own = acts.get(invoice.pk, set())
        try:
            result = prescription(invoice.due_date, debtor, invoice.delivery_date,
                                  [Interruption(day, kind) for day, kind in own if kind in INTERRUPTING],  # type: ignore[arg-type]
                                  as_of, issue_date=invoice.issue_date)
        except LawInputError:
            continue
        if result.deadline > limit:
            continue
        rows.append(PrescriptionRow(invoice, invoice.customer, result.deadline, result.days_left, result.years,
                                    BASIS[debtor], _effective(result.start, result.years, own),
                                    live.get(invoice.pk)))
    rows.sort(key=lambda r: (r.ends_on, r.invoice.number))
    return rows
