"""What the planner and the dispatcher need to know about an organisation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Exists, OuterRef, Q, QuerySet

from relance.core.calendar import BusinessCalendar
from relance.core.escalation import Rules
from relance.core.policy import StepSpec
from relance.core.references import PaymentReferenceError, make_rf_lenient
from relance.documents.payment_block import PaymentBlock, make_payment_block
from relance.dunning.models import Hold, Scenario, Step
from relance.ledger.models import Customer, Invoice, Organisation
from relance.ledger.services.references import assign_references


def calendar_for(organisation: Organisation) -> BusinessCalendar:
    return BusinessCalendar("FR", organisation.holiday_subdivision or None)


def rules_of(organisation: Organisation, scenario: Scenario | None) -> Rules:
    """The escalation settings of a scenario (``core.escalation.Rules``)."""
    return Rules(min_gap_days=organisation.min_gap_days,
                 entry_position=scenario.late_entry_position if scenario is not None else None)


def active_holds(organisation: Organisation, today: date) -> QuerySet[Hold]:
    return Hold.objects.filter(organisation=organisation, state=Hold.State.ACTIVE).filter(
        Q(until__isnull=True) | Q(until__gte=today)
    )


def held_condition(organisation: Organisation, today: date, invoice_ref: str = "pk",
                   customer_ref: str = "customer_id") -> Exists:
    """``Exists`` of an active hold on the invoice itself or on its whole customer."""
    return Exists(active_holds(organisation, today).filter(
        Q(invoice_id=OuterRef(invoice_ref)) | Q(invoice__isnull=True, customer_id=OuterRef(customer_ref))
    ))


def chaseable(organisation: Organisation, today: date) -> QuerySet[Invoice]:
    """Open invoices under active dunning and not on hold."""
    return Invoice.objects.filter(
        organisation=organisation, status=Invoice.Status.OPEN, dunning_state=Invoice.Dunning.ACTIVE
    ).exclude(held_condition(organisation, today))


@dataclass
class ScenarioBook:
    default_id: int | None
    specs: dict[int, list[StepSpec]] = field(default_factory=dict)
    steps: dict[tuple[int, int], Step] = field(default_factory=dict)
    rules: dict[int, Rules] = field(default_factory=dict)

    @classmethod
    def load(cls, organisation: Organisation) -> ScenarioBook:
        scenarios = list(Scenario.objects.filter(organisation=organisation).prefetch_related("steps"))
        default = next((s for s in scenarios if s.is_default), scenarios[0] if scenarios else None)
        book = cls(default.id if default else None)
        for s in scenarios:
            steps = list(s.steps.all())
            book.specs[s.id] = [st.spec() for st in steps]
            book.rules[s.id] = rules_of(organisation, s)
            for st in steps:
                book.steps[(s.id, st.position)] = st
        return book

    def scenario_of(self, scenario_id: int | None) -> int | None:
        return scenario_id if scenario_id in self.specs else self.default_id


# --------------------------------------------------------------------------- payment block


def payment_reference_for(organisation: Organisation, customer: Customer, invoices: Sequence[Invoice]) -> str:
    """The reference the customer quotes on the transfer: the invoice's when the message is about one
    invoice, the customer's when it lists several (the bank matcher recognises both).

    Saved invoices or customers without a reference get one now (``assign_references``); unsaved
    objects (template previews) get one computed on the spot, never stored."""
    holder: Invoice | Customer = invoices[0] if len(invoices) == 1 else customer
    if not holder.payment_reference and holder.pk is not None:
        assign_references(organisation, [i.pk for i in invoices if i.pk is not None])
        holder.refresh_from_db(fields=["payment_reference"])
    if holder.payment_reference:
        return holder.payment_reference
    try:
        return make_rf_lenient(invoices[0].number if isinstance(holder, Invoice) else f"C{customer.code}")
    except PaymentReferenceError:
        return ""


def payment_block_for(organisation: Organisation, customer: Customer, invoices: Sequence[Invoice],
                      amount: Decimal | None = None) -> PaymentBlock:
    """The payment block of a reminder about ``invoices`` (QR code and transfer details), in the
    customer's language. The amount is what remains due on these invoices, unless the message asks
    for another one (``amount``: an instalment of a payment plan, say)."""
    currencies = {i.currency for i in invoices} or {"EUR"}
    contact = " — ".join(x for x in (organisation.phone, organisation.reply_to_email or organisation.sender_email) if x)
    return make_payment_block(
        beneficiary=organisation.legal_name,
        iban=organisation.iban,
        bic=organisation.bic,
        amount=sum((i.amount_due for i in invoices), Decimal(0)) if amount is None else amount,
        currency=currencies.pop() if len(currencies) == 1 else "",
        reference=payment_reference_for(organisation, customer, invoices),
        language=customer.language,
        contact=contact,
        invoice_numbers=[i.number for i in invoices],
    )
