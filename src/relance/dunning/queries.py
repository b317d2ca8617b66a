"""Read-only queries on reminders, holds, call tasks and scenarios, always scoped to
one organisation. Lists are fetched with ``select_related``/``annotate``: a constant
number of queries whatever the number of rows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from relance.core.calendar import BusinessCalendar
from relance.core.policy import POSTAL_CHANNELS, InvoiceFacts, next_action
from relance.ledger.models import Customer, Invoice, Organisation
from relance.ledger.queries import ZERO, day_bounds, money_field, visible

from .models import CallTask, Hold, Reminder, ReminderLine, Scenario, Step
from .services.charges import InvoiceCharges, charges_of_invoices  # noqa: F401  (used by the web views)

S = Reminder.Status

#: Reminders that still need someone's attention (or the dispatcher's).
PENDING = (S.PLANNED, S.SENDING, S.UNCERTAIN, S.FAILED)

#: The order of the groups on the day's page: problems first.
STATUS_ORDER = (S.FAILED, S.UNCERTAIN, S.SENDING, S.PLANNED, S.SENT, S.CANCELLED)

POSTAL = tuple(c.value for c in POSTAL_CHANNELS)


def _with_totals(qs: QuerySet[Reminder]) -> QuerySet[Reminder]:
    """Annotate ``n_invoices`` and ``total`` (the amount due recorded on each line at
    sending time, else the invoice's current amount due)."""
    return qs.select_related("customer", "step").annotate(
        n_invoices=Count("lines"),
        total=Coalesce(
            Sum(Coalesce("lines__amount_due", "lines__invoice__amount_due")),
            Value(ZERO),
            output_field=money_field(),
        ),
    )


def reminders_for_day(organisation: Organisation, day: date, collector_id: int | None = None) -> list[Reminder]:
    """Reminders planned for ``day``, plus those planned earlier and still pending."""
    qs = visible(Reminder.objects.filter(organisation=organisation), collector_id, "customer__").filter(
        Q(planned_for=day) | Q(planned_for__lt=day, status__in=PENDING)
    )
    return list(_with_totals(qs).order_by("planned_for", "customer__legal_name", "pk"))


@dataclass
class StatusGroup:
    status: str
    label: str
    reminders: list[Reminder] = field(default_factory=list)


def group_by_status(reminders: Iterable[Reminder]) -> list[StatusGroup]:
    """Non-empty groups, failures first."""
    groups = {s.value: StatusGroup(s.value, str(s.label)) for s in STATUS_ORDER}
    for reminder in reminders:
        groups.setdefault(reminder.status, StatusGroup(reminder.status, reminder.status)).reminders.append(reminder)
    return [g for g in groups.values() if g.reminders]


def letters_to_print(organisation: Organisation, day: date, collector_id: int | None = None) -> list[Reminder]:
    """Letters (simple or registered) sent on ``day`` in the organisation's time zone."""
    start, end = day_bounds(organisation, day)
    qs = visible(Reminder.objects.filter(organisation=organisation, channel__in=POSTAL, status=S.SENT),
                 collector_id, "customer__").filter(
        Q(sent_at__gte=start, sent_at__lt=end) | Q(sent_at__isnull=True, planned_for=day)
    )
    return list(_with_totals(qs).order_by("customer__legal_name", "pk"))


def open_call_tasks(organisation: Organisation, day: date, collector_id: int | None = None) -> list[CallTask]:
    """Calls still to make, due on or before ``day``."""
    return list(
        visible(CallTask.objects.filter(organisation=organisation, status=CallTask.Status.OPEN, due_on__lte=day),
                collector_id, "customer__")
        .select_related("customer", "reminder", "reminder__step")
        .prefetch_related("customer__contacts")
        .order_by("due_on", "customer__legal_name", "pk")
    )


def customer_reminders(organisation: Organisation, customer: Customer) -> list[Reminder]:
    """Every reminder of a customer, most recent first."""
    qs = Reminder.objects.filter(organisation=organisation, customer=customer)
    return list(_with_totals(qs).order_by("-planned_for", "-pk"))


def active_holds(organisation: Organisation, customer: Customer) -> list[Hold]:
    return list(
        Hold.objects.filter(organisation=organisation, customer=customer, state=Hold.State.ACTIVE)
        .select_related("invoice")
        .order_by("-created_at", "-pk")
    )


def reminder_for(organisation: Organisation, pk: int, collector_id: int | None = None) -> Reminder:
    """One reminder of the organisation (404 for any other, or for a customer not assigned
    to a restricted collector)."""
    return get_object_or_404(
        visible(Reminder.objects.select_related("customer", "step"), collector_id, "customer__"),
        organisation=organisation,
        pk=pk,
    )


def reminder_lines(reminder: Reminder) -> list[ReminderLine]:
    return list(reminder.lines.select_related("invoice").order_by("invoice__due_date", "invoice__number"))


def scenario_for(organisation: Organisation, customer: Customer) -> Scenario | None:
    """The customer's own scenario, else the organisation's default one."""
    if customer.scenario_id is not None and customer.scenario is not None:
        if customer.scenario.organisation_id == organisation.pk:
            return customer.scenario
    return Scenario.objects.filter(organisation=organisation, is_default=True).first()


def next_steps(
    organisation: Organisation, customer: Customer, invoices: Iterable[Invoice], on: date
) -> dict[int, Step]:
    """For each open invoice still under active dunning, the step that will come next
    according to the dunning policy (``relance.core.policy.next_action``): the first
    step after ``last_step_position`` — ``last_step_position + 1`` when positions are
    contiguous — skipping the "before the due date" steps that no longer make sense.
    Two queries at most, whatever the number of invoices."""
    scenario = scenario_for(organisation, customer)
    if scenario is None:
        return {}
    steps = {s.position: s for s in scenario.steps.all()}
    specs = [s.spec() for s in steps.values()]
    calendar = BusinessCalendar(subdiv=organisation.holiday_subdivision or None)
    result: dict[int, Step] = {}
    for invoice in invoices:
        if invoice.status != Invoice.Status.OPEN or invoice.dunning_state != Invoice.Dunning.ACTIVE:
            continue
        action = next_action(
            specs,
            InvoiceFacts(invoice.due_date, invoice.last_step_position),
            on,
            calendar,
            last_contact=customer.last_contact_date,
            min_gap_days=organisation.min_gap_days,
        )
        if action is not None:
            result[invoice.pk] = steps[action.step.position]
    return result




@dataclass(frozen=True)
class DayCounts:
    planned: int
    sent: int
    pending: int
    failed: int
    calls: int
    letters: int


def day_counts(organisation: Organisation, day: date, collector_id: int | None = None) -> DayCounts:
    """Today's figures for the dashboard — two queries."""
    start, end = day_bounds(organisation, day)
    qs = visible(Reminder.objects.filter(organisation=organisation), collector_id, "customer__")
    row = qs.aggregate(
        planned=Count("pk", filter=Q(planned_for=day)),
        sent=Count("pk", filter=Q(status=S.SENT, sent_at__gte=start, sent_at__lt=end)),
        pending=Count("pk", filter=Q(status__in=PENDING, planned_for__lte=day)),
        failed=Count("pk", filter=Q(status=S.FAILED)),
        letters=Count("pk", filter=Q(status=S.SENT, channel__in=POSTAL, sent_at__gte=start, sent_at__lt=end)),
    )
    calls = visible(CallTask.objects.filter(organisation=organisation, status=CallTask.Status.OPEN, due_on__lte=day),
                    collector_id, "customer__").count()
    return DayCounts(row["planned"], row["sent"], row["pending"], row["failed"], calls, row["letters"])


def invoice_reminders(organisation: Organisation, invoice: Invoice) -> list[Reminder]:
    """The reminders that listed the invoice, most recent first."""
    qs = Reminder.objects.filter(organisation=organisation, lines__invoice=invoice)
    return list(_with_totals(qs).order_by("-planned_for", "-pk"))


def invoice_holds(organisation: Organisation, invoice: Invoice) -> list[Hold]:
    """Holds on the invoice itself or on its whole customer, active first."""
    return list(
        Hold.objects.filter(organisation=organisation, customer_id=invoice.customer_id)
        .filter(Q(invoice=invoice) | Q(invoice__isnull=True))
        .order_by("state", "-created_at", "-pk")
    )


HOLD_FILTERS = [("", "Toutes"), ("aucune", "Sans suspension"), ("toutes", "Avec une suspension"),
                *[(k.value, str(k.label)) for k in Hold.Kind]]


def hold_condition(organisation: Organisation, choice: str) -> Q | None:
    """A condition on customers for the list filter « Suspension »: with no active hold,
    with any, or with an active hold of one kind; ``None`` for an unknown choice."""
    active = Hold.objects.filter(organisation=organisation, customer=OuterRef("pk"), state=Hold.State.ACTIVE)
    if choice == "aucune":
        return ~Q(Exists(active))
    if choice == "toutes":
        return Q(Exists(active))
    if choice in Hold.Kind.values:
        return Q(Exists(active.filter(kind=choice)))
    return None


def holds_by_invoice(holds: Iterable[Hold], invoices: Iterable[Invoice]) -> dict[int, Hold]:
    """For each of ``invoices`` kept out of the sequence by one of ``holds`` (active holds of
    one customer), the hold that does it: a hold on the invoice itself first, else a hold on
    the whole customer (pause, stop)."""
    on_invoice: dict[int, Hold] = {}
    whole: Hold | None = None
    for hold in holds:
        if hold.invoice_id is None:
            whole = whole or hold
        else:
            on_invoice.setdefault(hold.invoice_id, hold)
    result: dict[int, Hold] = {}
    for invoice in invoices:
        hold = on_invoice.get(invoice.pk) or whole
        if hold is not None:
            result[invoice.pk] = hold
    return result
