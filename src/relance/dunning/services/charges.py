"""What a late invoice costs its debtor to date, by French law (see docs/law.md):

* a business debtor owes late-payment penalties (C. com. L441-10 II) from the day after
  the due date, and a 40 € recovery indemnity per invoice (D441-5); the collection costs
  recorded for an invoice with their proof (``RecoveryCost``) are owed, on justification, for
  what exceeds its 40 € (L441-10 II), as a separate amount — never in place of the 40 €;
* a consumer owes interest at the legal rate only from the formal notice (C. civ. 1231-6,
  1344-1), at the rate of the creditor's category (CMF L313-2) — or, when the organisation's
  contracts stipulate one, the clause's rate (clause pénale, C. civ. 1231-5), also from the
  formal notice only; never penalties, the indemnity nor collection costs (CPCE L111-8), and
  never both for the same days. The formal notice's date is the invoice's ``formal_notice_on``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Sum, prefetch_related_objects

from relance.core.law import (
    LegalInterestResult,
    MissingRate,
    PenaltyResult,
    RateTables,
    compute_legal_interest,
    compute_penalties,
)
from relance.core.law.indemnity import recovery_indemnity
from relance.core.money import ZERO
from relance.ledger.models import Allocation, Invoice, Organisation, RecoveryCost

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
    #: a consumer's contractual late interest (clause pénale), from the formal notice
    clause: PenaltyResult | None = None
    #: the formal notice the consumer's interest (legal or contractual) runs from
    formal_notice_on: date | None = None
    #: collection costs recorded with their proof (business debtors), and the part of them above
    #: the invoice's 40 € indemnity: owed on justification, on top of the 40 € (L441-10 II)
    justified_costs: Decimal = ZERO
    complement: Decimal = ZERO

    @property
    def late_charge(self) -> Decimal:
        if self.penalties is not None:
            return self.penalties.total
        if self.clause is not None:
            return self.clause.total
        if self.interest is not None:
            return self.interest.total
        return ZERO

    @property
    def recovery_total(self) -> Decimal:
        """The 40 € indemnity and the justified complement."""
        return self.indemnity + self.complement

    @property
    def rates(self) -> list[Decimal]:
        result = self.penalties or self.clause or self.interest
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
                    payments: list[tuple[date, Decimal]] | None = None,
                    costs: Decimal | None = None) -> InvoiceCharges:
    """``payments`` (date, amount) up to the end and ``costs`` (the justified collection costs of
    the invoice) may be given by a caller that loaded them in bulk. ``formal_notice_on`` defaults
    to the invoice's own (the date its formal notice was sent)."""
    end = charge_end(invoice, as_of)
    result = InvoiceCharges(invoice, as_of, max(0, (end - invoice.due_date).days))
    if result.days_late == 0:
        return result
    if payments is None:
        payments = _paid_by(invoice, end)
    notice = formal_notice_on or invoice.formal_notice_on
    try:
        if invoice.customer.is_business:
            result.penalties = compute_penalties(
                invoice.amount_incl_tax, invoice.due_date, end, payments, organisation.penalty_rate, tables,
                "business", issue_date=invoice.issue_date,
            )
            if costs is None:
                costs = _costs_of([invoice.pk]).get(invoice.pk, ZERO)
            indemnity = recovery_indemnity(result.penalties.days_late, "business", costs or None)
            result.indemnity, result.complement = indemnity.flat_amount, indemnity.complement
            result.justified_costs = costs
            result.warnings += result.penalties.warnings
        elif notice is not None and notice < end:
            result.formal_notice_on = notice
            if organisation.consumer_penalty_rate is not None:
                result.clause = compute_penalties(
                    invoice.amount_incl_tax, invoice.due_date, end, payments, organisation.consumer_penalty_rate,
                    tables, "consumer", issue_date=invoice.issue_date, formal_notice_on=notice,
                )
                result.warnings += result.clause.warnings
            else:
                before = sum((a for d, a in payments if d <= notice), ZERO)
                result.interest = compute_legal_interest(
                    invoice.amount_incl_tax - before, notice, end,
                    "individual" if organisation.creditor_is_individual else "business", None, tables,
                    [(d, a) for d, a in payments if d > notice],
                )
                result.warnings += result.interest.warnings
    except MissingRate as exc:
        result.missing = exc
        result.penalties = result.interest = result.clause = None
    return result


def _costs_of(invoice_ids: list[int]) -> dict[int, Decimal]:
    """The justified collection costs recorded for each invoice (one query)."""
    if not invoice_ids:
        return {}
    rows = (RecoveryCost.objects.filter(invoice_id__in=invoice_ids).values("invoice_id")
            .annotate(total=Sum("amount")).values_list("invoice_id", "total"))
    return {invoice_id: total for invoice_id, total in rows}


def charges_of_invoices(
    organisation: Organisation, invoices: Iterable[Invoice], as_of: date, tables: RateTables
) -> dict[int, InvoiceCharges]:
    """The late charges to ``as_of`` of several invoices, by invoice id: computed by
    :func:`invoice_charges` with the allocations of all the invoices read at once: two queries
    at most whatever the number of invoices (their customers, if not loaded, their allocations and
    their justified collection costs).
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
    costs = _costs_of([i.pk for i in late if i.customer.is_business])
    return {i.pk: invoice_charges(organisation, i, as_of, tables, payments=paid.get(i.pk, []),
                                  costs=costs.get(i.pk, ZERO)) for i in invoices}
