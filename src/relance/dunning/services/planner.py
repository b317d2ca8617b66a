"""The daily planner: set-based selection of the day's work, one message per customer and step.

1. Invoices that have no next action date yet (new, or whose due date changed) get one.
2. One query selects the open, active, not-held invoices with ``next_action_date <= today``
   (never an exact-date match: a day the planner did not run is caught up), of customers with
   no message pending and not contacted within the minimum gap.
3. The escalation rules (``relance.core.escalation``) decide each invoice's next step from the
   steps it received; the due ones are grouped per customer and step (``group_due``): one
   message per step, listing only the invoices whose own step it is — never an invoice pulled
   to a firmer step than its own. A hand-over to litigation opens a case
   (``dunning.signals.handover_due``, heard by ``relance.litigation``), never a message.
4. Reminders are created with a unique idempotency key (customer, step, day). The invoices'
   facts move when the message is *sent* (``escalation.record_received``, in the dispatcher's
   transaction): a cancelled, skipped or failed message leaves them where they were.

Before that, the holds are reviewed (``holds`` and ``plans``): pauses past their date expire,
promises are kept or broken (a broken one plans its « promesse non tenue » message, which
counts as the day's contact), payment plans are brought up to date (instalment reminders J−3,
notices J+3, broken plans). Invoices under an active hold — dispute, pause, stop, promise,
active plan — are not chaseable (``context.chaseable``), so they wait without being lost.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from relance.core.calendar import BusinessCalendar
from relance.core.escalation import Progress, Rules, Stage, group_due, next_step, stage
from relance.core.policy import Channel, NextAction, reminder_key
from relance.dunning.models import Reminder, ReminderLine, Step
from relance.dunning.signals import hand_over
from relance.events import kinds
from relance.events.services import record_many
from relance.holds.models import PaymentPlan, PlanInvoice, Promise
from relance.holds.services.holds import expire_pauses, review_promises
from relance.holds.services.plans import review_plans
from relance.ledger.business_calendar import calendar_for
from relance.ledger.models import Contact, Customer, Invoice, Organisation
from relance.locks import lock_invoices, lock_organisation

from .chaseable import chaseable
from .escalation import PROGRESS_FIELDS, progress_from
from .scenario_book import ScenarioBook

#: a customer with one of these is not planned again (a reminder awaiting approval included)
PENDING = (Reminder.Status.PLANNED, Reminder.Status.SENDING, Reminder.Status.UNCERTAIN,
           Reminder.Status.AWAITING_APPROVAL)
CHUNK = 500


@dataclass
class PlannedReminder:
    customer: str
    customer_name: str
    step: str
    channel: str
    invoices: list[str]
    total_due: Decimal
    kind: str = "reminder"
    awaiting_approval: bool = False  # planned « à valider »: goes only once a person approves it

    def as_dict(self) -> dict[str, Any]:
        out = {**self.__dict__, "total_due": f"{self.total_due:.2f}"}
        if not self.awaiting_approval:
            del out["awaiting_approval"]  # said only when it is so
        return out


@dataclass
class PlanReport:
    date: date
    dry_run: bool = False
    scheduled: int = 0
    reminders: list[PlannedReminder] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"date": self.date.isoformat(), "dry_run": self.dry_run, "scheduled": self.scheduled,
                "reminders": [r.as_dict() for r in self.reminders]}


def _initial_status(step: Step) -> str:
    """A step « à valider » plans its reminder as awaiting approval: the dispatcher only
    claims planned ones (``dunning.services.approvals`` approves, edits, skips, postpones)."""
    return Reminder.Status.AWAITING_APPROVAL if step.needs_approval else Reminder.Status.PLANNED


def _update_grouped(values: dict[int, tuple[Any, ...]], fields: tuple[str, ...]) -> None:
    """Write per-invoice values with one UPDATE per distinct value (chunked id lists)."""
    groups: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for invoice_id, value in values.items():
        groups[value].append(invoice_id)
    for value, ids in groups.items():
        for start in range(0, len(ids), CHUNK):
            Invoice.objects.filter(pk__in=ids[start:start + CHUNK]).update(**dict(zip(fields, value, strict=True)))


def schedule_new(organisation: Organisation, today: date, book: ScenarioBook | None = None) -> int:
    """Give a next action date to every active open invoice that has none."""
    book = book or ScenarioBook.load(organisation)
    calendar = calendar_for(organisation)
    rows = (Invoice.objects.filter(organisation=organisation, status=Invoice.Status.OPEN,
                                   dunning_state=Invoice.Dunning.ACTIVE, next_action_date__isnull=True)
            .values_list("id", "customer__scenario_id", "customer__last_contact_date", *PROGRESS_FIELDS))
    cache: dict[tuple[Any, ...], NextAction | None] = {}
    updates: dict[int, tuple[Any, ...]] = {}
    for invoice_id, scenario_id, last_contact, *facts in rows.iterator(chunk_size=5000):
        sid = book.scenario_of(scenario_id)
        key = (sid, last_contact, *facts)
        if key not in cache:
            cache[key] = _decide(book, sid, progress_from(facts), today, calendar, last_contact)
        action = cache[key]
        updates[invoice_id] = (action.on, Invoice.Dunning.ACTIVE) if action else (None, Invoice.Dunning.DONE)
    _update_grouped(updates, ("next_action_date", "dunning_state"))
    return len(updates)


def _decide(book: ScenarioBook, sid: int | None, progress: Progress, today: date, calendar: BusinessCalendar,
            last_contact: date | None) -> NextAction | None:
    if sid is None:
        return None
    return next_step(book.specs.get(sid, []), progress, today, calendar, book.rules.get(sid, Rules()), last_contact)


def plan_day(organisation: Organisation, today: date, *, dry_run: bool = False) -> PlanReport:
    report = PlanReport(today, dry_run)
    if not dry_run:
        # its own transaction, committed first: it locks the organisation row (events), which the
        # planning below must only take after updating invoices, as payments do (no deadlock)
        with transaction.atomic():
            _review_holds(organisation, today, report)
    with transaction.atomic():
        if not dry_run:  # (a dry run is rolled back, maybe inside a caller's transaction)
            # the lock order (relance/locks.py): the invoices this run may write, by id, before
            # the organisation row (events) and the customers — imports may run meanwhile
            lock_invoices(Invoice.objects.filter(organisation=organisation, status=Invoice.Status.OPEN).filter(
                Q(next_action_date__isnull=True) | Q(next_action_date__lte=today)).values_list("pk", flat=True))
        book = ScenarioBook.load(organisation)
        if dry_run:
            _review_holds(organisation, today, report)
        report.scheduled = schedule_new(organisation, today, book)
        _plan(organisation, today, book, report)
        if dry_run:
            transaction.set_rollback(True)
    return report


def _review_holds(organisation: Organisation, today: date, report: PlanReport) -> None:
    """Expire pauses, close kept or broken promises, follow payment plans; the messages they
    plan (promise broken, instalment reminders) join the day's report."""
    lock_invoices([*Invoice.objects.filter(holds__promise__organisation=organisation,
                                           holds__promise__state=Promise.State.ACTIVE).values_list("pk", flat=True),
                   *PlanInvoice.objects.filter(plan__organisation=organisation, plan__state=PaymentPlan.State.ACTIVE)
                   .values_list("invoice_id", flat=True)])  # invoices first, then the organisation: the ledger's order
    lock_organisation(organisation)
    expire_pauses(organisation, today)
    planned = review_promises(organisation, today) + review_plans(organisation, today)
    customers = {c.id: c for c in Customer.objects.filter(pk__in={r.customer_id for r in planned})}
    for reminder in planned:
        lines = list(reminder.lines.select_related("invoice").order_by("invoice__due_date", "invoice__number"))
        customer = customers[reminder.customer_id]
        report.reminders.append(PlannedReminder(
            customer.code, customer.legal_name, reminder.get_kind_display(), reminder.channel,
            [line.invoice.number for line in lines], sum((line.amount_due or Decimal(0) for line in lines), Decimal(0)),
            reminder.kind))


def _plan(organisation: Organisation, today: date, book: ScenarioBook, report: PlanReport) -> None:
    """One message per customer, step and day, listing the invoices whose own next step it is
    (``core.escalation.group_due``); a hand-over to litigation opens a case instead. The invoices'
    facts move when the message is sent (``escalation.record_received``), not here."""
    calendar = calendar_for(organisation)
    gap = organisation.min_gap_days
    pending = Reminder.objects.filter(customer_id=OuterRef("customer_id"), status__in=PENDING,
                                      kind=Reminder.Kind.REMINDER)
    due_rows = list(
        chaseable(organisation, today)
        .filter(next_action_date__lte=today)
        .exclude(Exists(pending))
        .filter(Q(customer__last_contact_date__isnull=True)
                | Q(customer__last_contact_date__lte=today - timedelta(days=gap)))
        .values_list("id", "customer_id", "customer__scenario_id", "customer__last_contact_date", "amount_due",
                     "number", *PROGRESS_FIELDS)
    )
    if not due_rows:
        return
    memo: dict[tuple[Any, ...], NextAction | None] = {}
    updates: dict[int, tuple[Any, ...]] = {}
    actions: dict[int, dict[int, NextAction | None]] = defaultdict(dict)
    amounts: dict[int, Decimal] = {}
    numbers: dict[int, str] = {}
    for invoice_id, customer_id, scenario_id, last_contact, amount, number, *facts in due_rows:
        sid = book.scenario_of(scenario_id)
        facts_key = (sid, last_contact, *facts)
        if facts_key not in memo:
            memo[facts_key] = _decide(book, sid, progress_from(facts), today, calendar, last_contact)
        action = memo[facts_key]
        if action is None:
            updates[invoice_id] = (None, Invoice.Dunning.DONE)
        elif action.on > today:
            updates[invoice_id] = (action.on, Invoice.Dunning.ACTIVE)
        else:
            actions[customer_id][invoice_id] = action
            amounts[invoice_id], numbers[invoice_id] = amount, number
    _update_grouped(updates, ("next_action_date", "dunning_state"))

    customers = {c.id: c for c in Customer.objects.filter(pk__in=actions).only(
        "id", "code", "legal_name", "scenario_id", "preferred_channel")}
    # an address returned for good (a permanent bounce) counts as none: the step goes as a letter
    with_email = set(Contact.objects.filter(customer_id__in=actions, email_bounced_at__isnull=True).exclude(email="")
                     .values_list("customer_id", flat=True))
    # a step whose message failed waits for a person (« Renvoyer »), or for the missing rate: it is
    # never planned a second time beside the failed one, which could then leave too
    failed = set(ReminderLine.objects.filter(invoice_id__in=list(amounts), reminder__status=Reminder.Status.FAILED,
                                             reminder__kind=Reminder.Kind.REMINDER)
                 .values_list("invoice_id", "reminder__step_id"))
    reminders: list[Reminder] = []
    lines: dict[str, list[tuple[int, int, Decimal]]] = {}
    handovers: dict[int, list[int]] = defaultdict(list)
    handover_label: dict[int, str] = {}
    for customer_id, by_invoice in actions.items():
        customer = customers[customer_id]
        sid = book.scenario_of(customer.scenario_id)
        if sid is None:
            continue  # no scenario at all: nothing to plan
        for group in group_due(by_invoice, today):
            chosen = book.steps[(sid, group.step.position)]
            group.keys = [k for k in group.keys if (k, chosen.pk) not in failed]
            if not group.keys:
                continue
            if stage(group.step) == Stage.LITIGATION:
                handovers[customer_id] += sorted(group.keys)
                handover_label[customer_id] = chosen.label
                continue
            channel = group.step.channel
            if channel == Channel.EMAIL and (customer.preferred_channel == "letter" or customer_id not in with_email):
                channel = Channel.LETTER
            key = reminder_key(organisation.id, customer_id, group.step.position, today)
            reminders.append(Reminder(organisation=organisation, customer_id=customer_id, step=chosen, channel=channel,
                                      status=_initial_status(chosen), planned_for=today, idempotency_key=key))
            lines[key] = [(i, group.step.position, amounts[i]) for i in sorted(group.keys)]

    Reminder.objects.bulk_create(reminders, batch_size=1000, ignore_conflicts=True)
    labels = {st.id: st.label for st in book.steps.values()}
    by_key = {key: (rid, customer_id, step_id, channel, kind, status)
              for key, rid, customer_id, step_id, channel, kind, status in
              Reminder.objects.filter(idempotency_key__in=list(lines)).values_list(
                  "idempotency_key", "id", "customer_id", "step_id", "channel", "kind", "status")}
    ReminderLine.objects.bulk_create(
        [ReminderLine(reminder_id=by_key[k][0], invoice_id=i, step_position=p, amount_due=a)
         for k, rows in lines.items() for i, p, a in rows],
        batch_size=2000, ignore_conflicts=True,
    )
    contacted = sorted({by_key[k][1] for k in lines})
    for start in range(0, len(contacted), CHUNK):
        Customer.objects.filter(pk__in=contacted[start:start + CHUNK]).update(last_contact_date=today)

    events = []
    for key, rows in lines.items():
        rid, customer_id, step_id, channel, kind, status = by_key[key]
        customer = customers[customer_id]
        awaiting = status == Reminder.Status.AWAITING_APPROVAL
        summary = PlannedReminder(customer.code, customer.legal_name, labels.get(step_id, ""), channel,
                                  [numbers[i] for i, _, _ in rows], sum((a for *_, a in rows), Decimal(0)), kind,
                                  awaiting)
        report.reminders.append(summary)
        events.append(kinds.reminder_planned(customer_id=customer_id, reminder_id=rid, key=key, step=summary.step,
                                             channel=channel, kind=kind, invoices=summary.invoices,
                                             total_due=summary.total_due, awaiting_approval=awaiting))
    record_many(organisation, events)

    if handovers:
        for case in hand_over(organisation, today, handovers):
            customer = customers[case.customer_id]
            ids = handovers[case.customer_id]
            report.reminders.append(PlannedReminder(
                customer.code, customer.legal_name, handover_label.get(case.customer_id, ""), Channel.LITIGATION,
                [numbers[i] for i in ids], sum((amounts[i] for i in ids), Decimal(0)), Reminder.Kind.LITIGATION))
