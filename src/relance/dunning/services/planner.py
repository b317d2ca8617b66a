"""The daily planner: set-based selection of the day's work, one message per customer.

1. Invoices that have no next action date yet (new, or whose due date changed) get one.
2. One query selects the open, active, not-held invoices with ``next_action_date <= today``
   (never an exact-date match: a day the planner did not run is caught up).
3. The policy (``relance.core.policy``) decides each invoice's step; invoices are grouped
   per customer; the message takes the most advanced step and lists all the customer's
   overdue invoices; each listed invoice whose own next step is not beyond the message's
   step moves on to that step.
4. Reminders are created with a unique idempotency key (customer, step, day); invoice
   facts are written back with one UPDATE per distinct value, never one per invoice.

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

from relance.core.policy import Channel, InvoiceFacts, NextAction, StepSpec, next_action, reminder_key
from relance.dunning.models import PaymentPlan, PlanInvoice, Promise, Reminder, ReminderLine, Step
from relance.events.services import NewEvent, record_many
from relance.ledger.models import Contact, Customer, Invoice, Organisation

from .context import ScenarioBook, calendar_for, chaseable
from .holds import expire_pauses, lock_invoices, review_promises, serialise
from .plans import review_plans

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
            .values_list("id", "due_date", "last_step_position", "customer__scenario_id",
                         "customer__last_contact_date"))
    cache: dict[tuple[Any, ...], NextAction | None] = {}
    updates: dict[int, tuple[Any, ...]] = {}
    for invoice_id, due, last, scenario_id, last_contact in rows.iterator(chunk_size=5000):
        sid = book.scenario_of(scenario_id)
        key = (due, last, sid, last_contact)
        if key not in cache:
            cache[key] = next_action(book.specs.get(sid, []) if sid else [], InvoiceFacts(due, last), today,
                                     calendar, last_contact, organisation.min_gap_days)
        action = cache[key]
        updates[invoice_id] = (action.on, Invoice.Dunning.ACTIVE) if action else (None, Invoice.Dunning.DONE)
    _update_grouped(updates, ("next_action_date", "dunning_state"))
    return len(updates)


def plan_day(organisation: Organisation, today: date, *, dry_run: bool = False) -> PlanReport:
    report = PlanReport(today, dry_run)
    if not dry_run:
        # its own transaction, committed first: it locks the organisation row (events), which the
        # planning below must only take after updating invoices, as payments do (no deadlock)
        with transaction.atomic():
            _review_holds(organisation, today, report)
    with transaction.atomic():
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
    serialise(organisation)
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
        .values_list("id", "customer_id", "due_date", "last_step_position", "customer__scenario_id",
                     "customer__last_contact_date", "amount_due", "number")
    )
    if not due_rows:
        return
    memo: dict[tuple[Any, ...], NextAction | None] = {}

    def decide(sid: int | None, due: date, last: int, last_contact: date | None, gap: int = 0) -> NextAction | None:
        key = (sid, due, last, last_contact, gap)
        if key not in memo:
            memo[key] = next_action(book.specs.get(sid, []) if sid else [], InvoiceFacts(due, last), today, calendar,
                                    last_contact, gap)
        return memo[key]

    updates: dict[int, tuple[Any, ...]] = {}
    candidates: dict[int, list[tuple[int, StepSpec]]] = defaultdict(list)
    current: dict[int, int] = {}
    amounts: dict[int, Decimal] = {}
    numbers: dict[int, str] = {}
    due_of: dict[int, date] = {}
    for invoice_id, customer_id, due, last, scenario_id, last_contact, amount, number in due_rows:
        sid = book.scenario_of(scenario_id)
        action = decide(sid, due, last, last_contact, gap)
        if action is None:
            updates[invoice_id] = (last, None, Invoice.Dunning.DONE)
        elif action.on > today:
            updates[invoice_id] = (last, action.on, Invoice.Dunning.ACTIVE)
        else:
            candidates[customer_id].append((invoice_id, action.step))
            current[invoice_id] = last
            amounts[invoice_id], numbers[invoice_id], due_of[invoice_id] = amount, number, due

    customers = {c.id: c for c in Customer.objects.filter(pk__in=candidates).only(
        "id", "code", "legal_name", "scenario_id", "preferred_channel")}
    with_email = set(Contact.objects.filter(customer_id__in=candidates).exclude(email="")
                     .values_list("customer_id", flat=True))
    # every overdue, chaseable invoice of these customers may be listed in their message
    overdue: dict[int, list[tuple[int, date, int, Decimal, str]]] = defaultdict(list)
    for row in (chaseable(organisation, today).filter(customer_id__in=candidates, due_date__lt=today).order_by()
                .values_list("customer_id", "id", "due_date", "last_step_position", "amount_due", "number")):
        overdue[row[0]].append(row[1:])

    reminders: list[Reminder] = []
    lines: dict[str, list[tuple[int, int, Decimal]]] = {}
    contacted: list[int] = []
    advance: dict[int, int] = {}
    scenario_of_invoice: dict[int, int] = {}
    for customer_id, items in candidates.items():
        customer = customers[customer_id]
        sid = book.scenario_of(customer.scenario_id)
        if sid is None:
            continue  # no scenario at all: nothing to plan
        litigation = [(i, s) for i, s in items if s.channel == Channel.LITIGATION]
        messages = [(i, s) for i, s in items if s.channel != Channel.LITIGATION]
        for invoice_id, step in litigation:
            updates[invoice_id] = (step.position, None, Invoice.Dunning.LITIGATION)
        if litigation:
            step = litigation[0][1]
            key = reminder_key(organisation.id, customer_id, step.position, today)
            chosen = book.steps[(sid, step.position)]
            reminders.append(Reminder(organisation=organisation, customer_id=customer_id, kind=Reminder.Kind.LITIGATION,
                                      step=chosen, channel=Channel.LITIGATION, status=_initial_status(chosen),
                                      planned_for=today, idempotency_key=key))
            lines[key] = [(i, step.position, amounts[i]) for i, _ in litigation]
        if not messages:
            continue
        step = max((s for _, s in messages), key=lambda s: s.position)
        listed: dict[int, int] = {i: s.position for i, s in messages if s.before_due == step.before_due}
        for invoice_id, s in messages:
            if s.before_due != step.before_due:
                advance[invoice_id] = current[invoice_id]  # not yet due: waits for its own day
            scenario_of_invoice[invoice_id] = sid
        if not step.before_due:
            litigated = {i for i, _ in litigation}
            for invoice_id, due, last, _amount, _number in overdue.get(customer_id, []):
                if invoice_id in listed or invoice_id in litigated:
                    continue
                nxt = decide(sid, due, last, None)
                if nxt and nxt.step.position <= step.position and nxt.step.channel != Channel.LITIGATION:
                    listed[invoice_id] = nxt.step.position
                else:
                    listed[invoice_id] = last  # mentioned, but stays where it is
                amounts.setdefault(invoice_id, _amount)
                numbers.setdefault(invoice_id, _number)
                due_of.setdefault(invoice_id, due)
                scenario_of_invoice[invoice_id] = sid
        channel = step.channel
        if channel == Channel.EMAIL and (customer.preferred_channel == "letter" or customer_id not in with_email):
            channel = Channel.LETTER
        key = reminder_key(organisation.id, customer_id, step.position, today)
        chosen = book.steps[(sid, step.position)]
        reminders.append(Reminder(organisation=organisation, customer_id=customer_id, step=chosen, channel=channel,
                                  status=_initial_status(chosen), planned_for=today, idempotency_key=key))
        lines[key] = [(i, p, amounts[i]) for i, p in sorted(listed.items())]
        contacted.append(customer_id)
        advance.update(listed)

    # listed invoices move to their new step; their next date counts from today's contact
    # (their due date and scenario are already known: no need to read them again)
    for invoice_id, position in advance.items():
        action = decide(scenario_of_invoice[invoice_id], due_of[invoice_id], position, today, gap)
        updates[invoice_id] = (position, action.on if action else None,
                               Invoice.Dunning.ACTIVE if action else Invoice.Dunning.DONE)
    _update_grouped(updates, ("last_step_position", "next_action_date", "dunning_state"))

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
        data: dict[str, Any] = {"key": key, "step": summary.step, "channel": channel, "kind": kind,
                                "invoices": summary.invoices, "total_due": summary.total_due}
        if awaiting:
            data["awaiting_approval"] = True
        events.append(NewEvent("reminder.planned", customer_id=customer_id, reminder_id=rid, data=data))
    record_many(organisation, events)

