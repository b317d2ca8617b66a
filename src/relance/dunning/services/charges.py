"""What a late invoice costs its debtor to date, by French law (see docs/law.md):

* a business debtor owes late-payment penalties (C. com. L441-10 II) from the day after
  the due date, and a 40 € recovery indemnity per invoice (D441-5);
* a consumer owes interest at the legal rate only from the formal notice (C. civ. 1231-6,
  1344-1), at the rate of the creditor's category (CMF L313-2); never penalties and the
  indemnity, and never both for the same days.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import prefetch_related_objects

from relance.core.law import (
    LegalInterestResult,
    MissingRate,
    PenaltyResult,
    RateTables,
    compute_legal_interest,
    compute_penalties,
)
from relance.core.money import ZERO
from relance.ledger.models import Allocation, Invoice, Organisation

L441_BASIS = "art. L441-10 II et D441-5 du Code de commerce"
CIVIL_BASIS = "art. 1231-6 et 1344-1 du Code civil, L313-2 du Code monétaire et financier"


@dataclass
class InvoiceCharges:
    invoice: Invoice
    as_of: date
    days_late: int
    penalties: PenaltyResult | None = None
    interest: LegalInterestResult | None = None
    indemnity: Decimal = ZERO
    missing: MissingRate | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def late_charge(self) -> Decimal:
        if self.penalties is not None:
            return self.penalties.total
        if self.interest is not None:
            return self.interest.total
        return ZERO

    @property
    def rates(self) -> list[Decimal]:
        result = self.penalties or self.interest
        seen: list[Decimal] = []
        for period in result.periods if result else []:
            if period.rate not in seen:
                seen.append(period.rate)
        return seen


def _paid_by(invoice: Invoice, as_of: date) -> list[tuple[date, Decimal]]:
    rows = Allocation.objects.filter(invoice=invoice, date__lte=as_of).order_by("date").values_list("date", "amount")
    return [(d, a) for d, a in rows]


def charge_end(invoice: Invoice, as_of: date) -> date:
    """The last day a late charge runs: the settlement date, or ``as_of`` while unpaid."""
    return invoice.settled_on if invoice.settled_on and invoice.settled_on <= as_of else as_of


def invoice_charges(organisation: Organisation, invoice: Invoice, as_of: date, tables: RateTables,
                    formal_notice_on: date | None = None,
                    payments: list[tuple[date, Decimal]] | None = None) -> InvoiceCharges:
    """``payments`` (date, amount) up to the end may be given by a caller that loaded them in bulk."""
    end = charge_end(invoice, as_of)
    result = InvoiceCharges(invoice, as_of, max(0, (end - invoice.due_date).days))
    if result.days_late == 0:
        return result
    if payments is None:
        payments = _paid_by(invoice, end)
    try:
        if invoice.customer.is_business:
            result.penalties = compute_penalties(
                invoice.amount_incl_tax, invoice.due_date, end, payments, organisation.penalty_rate, tables,
                "business", issue_date=invoice.issue_date,
            )
            result.indemnity = organisation.recovery_costs or result.penalties.indemnity
            result.warnings += result.penalties.warnings
        elif formal_notice_on is not None and formal_notice_on < end:
            before = sum((a for d, a in payments if d <= formal_notice_on), ZERO)
            result.interest = compute_legal_interest(
                invoice.amount_incl_tax - before, formal_notice_on, end,
                "individual" if organisation.creditor_is_individual else "business", None, tables,
                [(d, a) for d, a in payments if d > formal_notice_on],
            )
            result.warnings += result.interest.warnings
    except MissingRate as exc:
        result.missing = exc
        result.penalties = result.interest = None
    return result


def charges_of_invoices(
    organisation: Organisation, invoices: Iterable[Invoice], as_of: date, tables: RateTables
) -> dict[int, InvoiceCharges]:
    """The late charges to ``as_of`` of several invoices, by invoice id: computed by
    :func:`invoice_charges` with the allocations of all the invoices read at once: two queries
    at most whatever the number of invoices (their customers, if not loaded, and their allocations).
    """
    invoices = list(invoices)
    prefetch_related_objects(invoices, "customer")
    ends = {i.pk: charge_end(i, as_of) for i in invoices}
    late = [i for i in invoices if ends[i.pk] > i.due_date]
    paid: dict[int, list[tuple[date, Decimal]]] = {i.pk: [] for i in late}
    if late:
        rows = (
            Allocation.objects.filter(organisation=organisation, invoice__in=[i.pk for i in late], date__lte=as_of)
            .order_by("date", "pk")
            .values_list("invoice_id", "date", "amount")
        )
        for invoice_id, day, amount in rows:
            if day <= ends[invoice_id]:
                paid[invoice_id].append((day, amount))
    return {i.pk: invoice_charges(organisation, i, as_of, tables, payments=paid.get(i.pk, [])) for i in invoices}
