"""The escalation facts of invoices (``core.escalation.Progress``) as the database keeps them.

The facts move when a step is *received*: the dispatcher calls :func:`record_received` in the
transaction that stores the sent message, so a reminder cancelled, skipped or failed leaves the
invoice where it was. :func:`reissue_formal_notice` is the one way to a second formal notice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Q

from relance.clock import today_for
from relance.core.escalation import Progress, Rules, Stage, next_step, passed_over, received, stage
from relance.core.policy import FORMAL_NOTICE_TEMPLATE, Channel, NextAction, StepSpec, reminder_key
from relance.core.profiles import carried_position
from relance.dunning.models import Reminder, ReminderLine, Step
from relance.errors import Conflict, InvalidInput
from relance.events import kinds
from relance.events.services import record_many
from relance.ledger.business_calendar import calendar_for
from relance.ledger.models import Customer, Invoice, Organisation

from .scenario_book import ScenarioBook

#: the kinds of reminder that are steps of the escalation (their invoices' facts move when sent)
ESCALATING = (Reminder.Kind.REMINDER, Reminder.Kind.FORMAL_NOTICE_AGAIN)



def formal_notice_q(prefix: str = "") -> Q:
    """The reminders that are a formal notice (*mise en demeure*, C. civ. 1344): the query twin of
    ``StepSpec.formal_notice`` — a registered letter, a step written with the formal notice's
    template, or a formal notice sent again at a person's request. ``prefix`` reaches the reminder
    through a relation (``"reminder__"``)."""
    return (Q(**{f"{prefix}channel": Channel.REGISTERED_LETTER})
            | Q(**{f"{prefix}step__template": FORMAL_NOTICE_TEMPLATE})
            | Q(**{f"{prefix}kind": Reminder.Kind.FORMAL_NOTICE_AGAIN}))


#: the Invoice columns :func:`progress_of` reads (``values_list`` of the planner)
PROGRESS_FIELDS = ("due_date", "last_step_position", "escalation_rank", "last_step_on", "reminders_received",
                   "formal_notice_on", "notice_received_on")


def progress_of(invoice: Invoice) -> Progress:
    return Progress(invoice.due_date, invoice.last_step_position, invoice.escalation_rank, invoice.last_step_on,
                    invoice.reminders_received, invoice.formal_notice_on, invoice.notice_received_on)


def progress_from(row: Sequence[Any]) -> Progress:
    """A :class:`Progress` from the :data:`PROGRESS_FIELDS` columns, in that order."""
    return Progress(*row)


def _write(invoice: Invoice, progress: Progress, action: NextAction | None) -> None:
    invoice.last_step_position = progress.last_position
    invoice.escalation_rank = progress.reached
    invoice.last_step_on = progress.last_step_on
    invoice.reminders_received = progress.reminders
    invoice.formal_notice_on = progress.formal_notice_on
    invoice.notice_received_on = progress.notice_received_on
    invoice.next_action_date = action.on if action else None
    if action is None and invoice.dunning_state == Invoice.Dunning.ACTIVE:
        invoice.dunning_state = Invoice.Dunning.DONE


FACT_FIELDS = ["last_step_position", "escalation_rank", "last_step_on", "reminders_received", "formal_notice_on",
               "notice_received_on", "next_action_date", "dunning_state"]


def _current_specs(organisation: Organisation, customer: Customer, book: ScenarioBook) -> tuple[int | None,
                                                                                             list[StepSpec], Rules]:
    sid = book.scenario_of(customer.scenario_id)
    return sid, (book.specs.get(sid, []) if sid else []), (book.rules.get(sid, Rules()) if sid else Rules())


def record_received(organisation: Organisation, reminder: Reminder, invoices: Iterable[Invoice], today: date,
                    *, skipped: bool = False, book: ScenarioBook | None = None) -> None:
    """The reminder's step was received by ``invoices`` (locked by the caller) on ``today`` — or,
    with ``skipped``, passed over by a person: each invoice's facts move on and its next step's
    date is computed from them, in the customer's current scenario."""
    step = reminder.step
    if step is None or reminder.kind not in ESCALATING:
        return
    book = book or ScenarioBook.load(organisation)
    customer = reminder.customer
    sid, specs, rules = _current_specs(organisation, customer, book)
    spec = step.spec()
    position = spec.position
    if sid is not None and step.scenario_id != sid:
        position = carried_position(book.specs.get(step.scenario_id, []), spec.position, specs)
    calendar = calendar_for(organisation)
    contacts = [d for d in (customer.last_contact_date, None if skipped else today) if d is not None]
    contact = max(contacts) if contacts else None
    changed = []
    for invoice in invoices:
        before = progress_of(invoice)
        after = passed_over(before, spec) if skipped else received(before, spec, today)
        after = replace(after, last_position=max(before.last_position, position))
        action = next_step(specs, after, today, calendar, rules, contact)
        _write(invoice, after, action)
        changed.append(invoice)
    Invoice.objects.bulk_update(changed, FACT_FIELDS)


def record_notice_receipt(organisation: Organisation, reminder: Reminder, sent_on: date, received_on: date) -> None:
    """The advice of delivery of a formal notice sent on ``sent_on`` was recorded: for the invoices
    whose formal notice it is, the deadline runs from ``received_on`` (their next date is computed
    again by the planner)."""
    ids = list(reminder.lines.values_list("invoice_id", flat=True))
    Invoice.objects.filter(pk__in=ids, organisation=organisation, formal_notice_on=sent_on).update(
        notice_received_on=received_on)
    Invoice.objects.filter(pk__in=ids, formal_notice_on=sent_on, dunning_state=Invoice.Dunning.ACTIVE).update(
        next_action_date=None)


def reissue_formal_notice(organisation: Organisation, invoice: Invoice, *, reason: str, actor: str,
                          today: date | None = None) -> Reminder:
    """A second formal notice for an invoice, at a person's explicit request (a changed address,
    a notice returned unclaimed…): planned today as a registered letter with the scenario's formal
    notice step, with a ``formal_notice.reissue_requested`` event naming who asked and why. The
    automatic sequence never sends a second one (``core.escalation``, rule 2)."""
    reason = " ".join(reason.split())
    if not reason:
        raise InvalidInput("indiquez pourquoi une nouvelle mise en demeure est nécessaire")
    today = today or today_for(organisation)
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk, organisation=organisation)
        if invoice.status != Invoice.Status.OPEN or invoice.amount_due <= 0:
            raise Conflict(f"la facture {invoice.number} n’est plus due")
        if invoice.formal_notice_on is None:
            raise Conflict(f"la facture {invoice.number} n’a pas encore reçu de mise en demeure : "
                           "le scénario l’enverra à son heure")
        customer = Customer.objects.get(pk=invoice.customer_id)
        book = ScenarioBook.load(organisation)
        sid, specs, _ = _current_specs(organisation, customer, book)
        notice = next((s for s in specs if stage(s) == Stage.FORMAL_NOTICE), None)
        if sid is None or notice is None:
            raise Conflict("le scénario du client n’a pas d’étape de mise en demeure")
        step: Step = book.steps[(sid, notice.position)]
        # its own idempotency key (one request per customer and day), apart from the scenario's steps
        key = reminder_key(organisation.id, customer.id, 1000 + notice.position, today)
        if Reminder.objects.filter(idempotency_key=key).exists():
            raise Conflict("une nouvelle mise en demeure est déjà prévue aujourd’hui pour ce client")
        reminder = Reminder.objects.create(organisation=organisation, customer=customer, step=step,
                                           channel=Channel.REGISTERED_LETTER, planned_for=today,
                                           idempotency_key=key, kind=Reminder.Kind.FORMAL_NOTICE_AGAIN)
        ReminderLine.objects.create(reminder=reminder, invoice=invoice, step_position=notice.position,
                                    amount_due=invoice.amount_due)
        record_many(organisation, [
            kinds.formal_notice_reissue_requested(customer_id=customer.id, invoice_id=invoice.id,
                                                  reminder_id=reminder.id, number=invoice.number, reason=reason,
                                                  previous=invoice.formal_notice_on, actor=actor),
            kinds.reminder_planned(customer_id=customer.id, reminder_id=reminder.id, key=key, step=step.label,
                                   channel=reminder.channel, kind=reminder.kind, invoices=[invoice.number],
                                   total_due=invoice.amount_due, actor=actor),
        ])
    return reminder
