"""Read-only queries on litigation cases, always scoped to one organisation (and, for a
restricted collector, to the customers assigned to them). The list costs a fixed number of
queries whatever the number of cases: the totals are annotated, the invoices and their formal
notices prefetched for the page's cases only."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Case, Count, IntegerField, Prefetch, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce

from relance.core import litigation as machine
from relance.dunning.models import Reminder
from relance.errors import InvalidInput, NotFound
from relance.events.models import Event
from relance.ledger.models import Invoice, Organisation
from relance.ledger.queries import ZERO, money_field, organisation_zone, visible

from .models import CaseInvoice, LitigationCase

#: Events shown on a case page at most (newest first).
TIMELINE_LIMIT = 200

CENT = Decimal("0.01")

STATES = tuple(s.value for s in machine.STATE_ORDER)


def cases(organisation: Organisation, state: str = "", collector_id: int | None = None) -> QuerySet[LitigationCase]:
    """The organisation's cases, open first, then filed, then closed (newest first within each),
    with ``total_due_now`` and ``total_at_opening`` annotated and their invoices and formal
    notices prefetched. ``state`` filters (one of :data:`STATES`, or empty for all)."""
    if state and state not in STATES:
        raise InvalidInput(f"état inconnu : « {state} » (attendu : {', '.join(STATES)})")
    qs = visible(LitigationCase.objects.filter(organisation=organisation), collector_id, "customer__")
    if state:
        qs = qs.filter(state=state)
    rank = Case(*(When(state=s, then=Value(n)) for n, s in enumerate(STATES)), default=Value(len(STATES)),
                output_field=IntegerField())
    lines = CaseInvoice.objects.select_related("invoice", "formal_notice").order_by(
        "invoice__due_date", "invoice__number")
    return (qs.select_related("customer")
            .annotate(rank=rank,
                      total_due_now=Coalesce(Sum("lines__invoice__amount_due"), Value(ZERO), output_field=money_field()),
                      total_at_opening=Coalesce(Sum("lines__amount_due_at_opening"), Value(ZERO),
                                                output_field=money_field()))
            .prefetch_related(Prefetch("lines", queryset=lines))
            .order_by("rank", "-opened_on", "-pk"))


def live_cases(invoices: Iterable[Invoice]) -> dict[int, int]:
    """For each of ``invoices`` in an opened or filed case, that case's id (one query)."""
    ids = [i.pk for i in invoices if i.dunning_state == Invoice.Dunning.LITIGATION]
    if not ids:
        return {}
    return dict(CaseInvoice.objects.filter(invoice_id__in=ids, case__state__in=machine.LIVE_STATES)
                .values_list("invoice_id", "case_id"))


def state_counts(organisation: Organisation, collector_id: int | None = None) -> dict[str, int]:
    """How many cases in each state (one query)."""
    qs = visible(LitigationCase.objects.filter(organisation=organisation), collector_id, "customer__")
    found = dict(qs.values_list("state").annotate(n=Count("pk")).values_list("state", "n"))
    return {s: found.get(s, 0) for s in STATES}


def case_for(organisation: Organisation, pk: int, collector_id: int | None = None) -> LitigationCase:
    """One case of the organisation, annotated and prefetched like the list's rows
    (:class:`~relance.errors.NotFound` for any other, or for a customer not assigned to a
    restricted collector)."""
    found = cases(organisation, collector_id=collector_id).filter(pk=pk).first()
    if found is None:
        raise NotFound(f"dossier de contentieux n° {pk} introuvable")
    return found


# ------------------------------------------------------------------------------------------
# Rows
# ------------------------------------------------------------------------------------------


@dataclass
class Notice:
    """A formal notice (registered letter) and its proof: the letter itself (PDF and hash),
    the tracking number, the date on the avis de réception."""

    reminder: Reminder
    sent_on: date
    numbers: list[str] = field(default_factory=list)

    @property
    def tracking_number(self) -> str:
        return self.reminder.tracking_number

    @property
    def received_on(self) -> date | None:
        return self.reminder.received_on

    @property
    def has_document(self) -> bool:
        return bool(self.reminder.document)

    @property
    def has_receipt_scan(self) -> bool:
        return bool(self.reminder.receipt_scan)

    def as_dict(self) -> dict[str, Any]:
        r = self.reminder
        return {"reminder": r.pk, "sent_on": self.sent_on, "tracking_number": r.tracking_number,
                "received_on": r.received_on, "document": r.document.name or None,
                "document_sha256": r.document_sha256 or None, "receipt_scan": r.receipt_scan.name or None,
                "invoices": self.numbers}


@dataclass
class Line:
    invoice: Invoice
    amount_due_at_opening: Decimal
    notice: Notice | None

    def as_dict(self) -> dict[str, Any]:
        i = self.invoice
        return {"invoice": i.pk, "number": i.number, "due_date": i.due_date, "amount_incl_tax": i.amount_incl_tax,
                "amount_due_at_opening": self.amount_due_at_opening, "amount_due": i.amount_due,
                "status": i.status, "dunning_state": i.dunning_state, "currency": i.currency,
                "formal_notice": self.notice.reminder.pk if self.notice else None}


@dataclass
class CaseRow:
    case: LitigationCase
    lines: list[Line]
    notices: list[Notice]

    @property
    def numbers(self) -> list[str]:
        return [line.invoice.number for line in self.lines]

    @property
    def total_due_now(self) -> Decimal:
        """What the case's invoices owe today (annotated by :func:`cases`)."""
        total = getattr(self.case, "total_due_now", None)
        return _cents(total if total is not None else sum((line.invoice.amount_due for line in self.lines), ZERO))

    @property
    def total_at_opening(self) -> Decimal:
        total = getattr(self.case, "total_at_opening", None)
        return _cents(total if total is not None else sum((line.amount_due_at_opening for line in self.lines), ZERO))

    @property
    def currency(self) -> str:
        return self.lines[0].invoice.currency if self.lines else "EUR"

    @property
    def without_notice(self) -> list[str]:
        """The invoices handed over without a formal notice sent about them."""
        return [line.invoice.number for line in self.lines if line.notice is None]

    @property
    def all_settled(self) -> bool:
        """Everything handed over is paid or credited (the case is left to close as « Payé »)."""
        return bool(self.lines) and all(line.invoice.status != Invoice.Status.OPEN for line in self.lines)

    @property
    def is_live(self) -> bool:
        return self.case.state in machine.LIVE_STATES

    def as_dict(self) -> dict[str, Any]:
        c = self.case
        return {
            "case": c.pk, "state": c.state, "customer": {"id": c.customer_id, "code": c.customer.code,
                                                         "name": c.customer.legal_name},
            "opened_on": c.opened_on, "filed_on": c.filed_on, "closed_on": c.closed_on, "outcome": c.outcome or None,
            "handled_by": c.handled_by, "note": c.note, "created_by": c.created_by, "currency": self.currency,
            "total_at_opening": self.total_at_opening, "total_due_now": self.total_due_now,
            "invoices": [line.as_dict() for line in self.lines],
            "formal_notices": [n.as_dict() for n in self.notices],
            "without_formal_notice": self.without_notice,
        }


def _cents(amount: Decimal) -> Decimal:
    """Sums come back from SQLite without their two decimals."""
    return Decimal(amount).quantize(CENT)


def _sent_on(reminder: Reminder, organisation: Organisation) -> date:
    if reminder.sent_at is None:
        return reminder.planned_for
    return reminder.sent_at.astimezone(organisation_zone(organisation)).date()


def rows(organisation: Organisation, found: Iterable[LitigationCase]) -> list[CaseRow]:
    """Rows of cases fetched by :func:`cases` (no further query)."""
    result = []
    for case in found:
        notices: dict[int, Notice] = {}
        lines = []
        for line in case.lines.all():
            notice = None
            if line.formal_notice is not None:
                notice = notices.get(line.formal_notice.pk)
                if notice is None:
                    notice = notices[line.formal_notice.pk] = Notice(line.formal_notice,
                                                                     _sent_on(line.formal_notice, organisation))
                notice.numbers.append(line.invoice.number)
            lines.append(Line(line.invoice, line.amount_due_at_opening, notice))
        result.append(CaseRow(case, lines, sorted(notices.values(), key=lambda n: (n.sent_on, n.reminder.pk))))
    return result


# ------------------------------------------------------------------------------------------
# One case
# ------------------------------------------------------------------------------------------


@dataclass
class CaseDetail:
    row: CaseRow
    events: list[Event]

    def as_dict(self) -> dict[str, Any]:
        return {**self.row.as_dict(), "events": [
            {"seq": e.seq, "kind": e.kind, "at": e.occurred_at, "actor": e.actor, "invoice": e.invoice_id_ref,
             "reminder": e.reminder_id_ref, "data": e.data} for e in self.events]}


def case_events(organisation: Organisation, row: CaseRow, limit: int = TIMELINE_LIMIT) -> list[Event]:
    """The case's own events, those of its formal notices (sent, tracking number, receipt), and
    those of its invoices since the case was opened (payments, credit notes…), newest first."""
    case = row.case
    own = Q(kind__startswith="litigation.", data__case=case.pk)
    about = Q(reminder_id_ref__in=[n.reminder.pk for n in row.notices]) | Q(
        invoice_id_ref__in=[line.invoice.pk for line in row.lines], occurred_at__gte=case.created_at)
    return list(Event.objects.filter(organisation=organisation, customer_id_ref=case.customer_id)
                .filter(own | about).order_by("-seq")[:limit])


def case_detail(organisation: Organisation, pk: int, collector_id: int | None = None) -> CaseDetail:
    case = case_for(organisation, pk, collector_id)
    (row,) = rows(organisation, [case])
    return CaseDetail(row, case_events(organisation, row))
