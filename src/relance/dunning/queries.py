"""Read-only queries on reminders, holds, call tasks and scenarios, always scoped to
one organisation. Lists are fetched with ``select_related``/``annotate``: a constant
number of queries whatever the number of rows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum, Value, Window
from django.db.models.functions import Coalesce, RowNumber
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy

from relance.core.escalation import group_due, next_step
from relance.core.policy import POSTAL_CHANNELS, NextAction
from relance.holds.models import Hold
from relance.ledger.business_calendar import calendar_for
from relance.ledger.models import Customer, Invoice, Organisation
from relance.ledger.queries import ZERO, day_bounds, money_field, visible

from .models import CallTask, Reminder, ReminderLine, Scenario, Step
from .services.charges import InvoiceCharges, charges_of_invoices  # noqa: F401  (used by the web views)
from .services.escalation import progress_of
from .services.scenario_book import rules_of

S = Reminder.Status

#: Reminders that still need someone's attention (or the dispatcher's).
PENDING = (S.PLANNED, S.SENDING, S.UNCERTAIN, S.FAILED)

#: Reminders of an earlier day the day's page keeps showing until they are resolved.
STILL_OPEN = (*PENDING, S.AWAITING_APPROVAL)

#: Reminders that wait for a person (or are stuck): listed first on the day's page.
PROBLEMS = (S.FAILED, S.UNCERTAIN, S.AWAITING_APPROVAL, S.SENDING)

#: The order of the groups on the day's page: problems first.
STATUS_ORDER = (S.FAILED, S.UNCERTAIN, S.AWAITING_APPROVAL, S.SENDING, S.PLANNED, S.SENT, S.UNDELIVERED,
                S.CANCELLED)

#: The days over which the dashboard counts the reminders returned for good (bounces).
BOUNCE_WINDOW_DAYS = 30

#: Rows listed per group (and per list) on the day's page; the rest is counted, and paged.
DAY_PAGE_SIZE = 50
#: By planned date, then customer (in the order they were created: without joining the
#: customers, ranking the day's reminders costs half as much as by name)
DAY_ORDER = ("planned_for", "customer_id", "pk")

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


def day_reminders(organisation: Organisation, day: date, collector_id: int | None = None) -> QuerySet[Reminder]:
    """Reminders planned for ``day``, plus those planned earlier and still open (pending,
    or awaiting approval)."""
    return visible(Reminder.objects.filter(organisation=organisation), collector_id, "customer__").filter(
        Q(planned_for=day) | Q(planned_for__lt=day, status__in=STILL_OPEN)
    )


@dataclass
class StatusGroup:
    """The day's reminders of one status: how many (in all and per step) and the page of
    them that is listed, with their totals."""

    status: str
    label: str
    reminders: list[Reminder] = field(default_factory=list)
    count: int = 0
    steps: list[tuple[str, int]] = field(default_factory=list)  # (step label, reminders), in step order
    number: int = 1  # the page listed
    per_page: int = DAY_PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, -(-self.count // self.per_page))

    @property
    def param(self) -> str:
        """The query-string parameter that chooses the page of this group."""
        return f"page_{self.status}"

    @property
    def is_problem(self) -> bool:
        return self.status in PROBLEMS


def _step_counts(qs: QuerySet[Reminder]) -> dict[str, list[tuple[str, int]]]:
    """Per status, the number of reminders per step label (steps in scenario order, then
    the reminders without a step under their kind) — one query."""
    kinds = dict(Reminder.Kind.choices)
    last = 10**6  # no step: after the steps
    merged: dict[str, dict[str, tuple[int, int]]] = {}
    rows = qs.values_list("status", "kind", "step__label", "step__position").annotate(n=Count("pk")).order_by()
    for status, kind, label, position, n in rows:
        name = label or str(kinds.get(kind, kind))
        total, first = merged.setdefault(status, {}).get(name, (0, last))
        merged[status][name] = (total + n, min(first, last if position is None else position))
    return {status: [(name, n) for name, (n, _) in sorted(by.items(), key=lambda kv: (kv[1][1], kv[0]))]
            for status, by in merged.items()}


def day_groups(
    organisation: Organisation, day: date, collector_id: int | None = None, pages: Mapping[str, int] | None = None,
    per_page: int = DAY_PAGE_SIZE,
) -> list[StatusGroup]:
    """The day's reminders (:func:`day_reminders`) by status, problems first: each group
    counted (per step too) and one page of it listed (``pages``: status → page number,
    1 when absent, the last page when beyond). Two queries whatever the number of
    reminders: the counts, then the reminders of the pages with their totals (a window
    function ranks each status in a subquery)."""
    qs = day_reminders(organisation, day, collector_id)
    counts = _step_counts(qs)
    labels = {s.value: str(s.label) for s in S}
    order = [s.value for s in STATUS_ORDER] + sorted(set(counts) - {s.value for s in STATUS_ORDER})
    groups = []
    for status in order:
        if status not in counts:
            continue
        group = StatusGroup(status, labels.get(status, status), count=sum(n for _, n in counts[status]),
                            steps=counts[status], per_page=per_page)
        group.number = min(max(1, (pages or {}).get(status, 1)), group.pages)
        groups.append(group)
    if not groups:
        return []
    wanted = Q()
    for group in groups:
        start = (group.number - 1) * per_page
        wanted |= Q(status=group.status, rank__gt=start, rank__lte=start + per_page)
    rank = Window(RowNumber(), partition_by=[F("status")], order_by=list(DAY_ORDER))
    # the LIMIT (never reached) tells PostgreSQL's planner how few rows come out of the window
    listed = qs.annotate(rank=rank).filter(wanted).order_by().values("pk")[:per_page * len(groups)]
    by_status = {g.status: g for g in groups}
    for reminder in _with_totals(Reminder.objects.filter(pk__in=listed)).order_by(*DAY_ORDER):
        by_status[reminder.status].reminders.append(reminder)
    return groups


def reminder_labels() -> dict[str, dict[str, str]]:
    """The labels of the reminders' channels and kinds in the current language, for long
    lists (``get_FOO_display()`` hashes every translated choice on each call)."""
    return {"channel": {str(value): str(label) for value, label in Step.CHANNELS},
            "kind": {str(value): str(label) for value, label in Reminder.Kind.choices}}


def letters_to_print(
    organisation: Organisation, day: date, collector_id: int | None = None, number: int = 1,
    per_page: int = DAY_PAGE_SIZE,
) -> Page[Reminder]:
    """Letters (simple or registered) sent on ``day`` in the organisation's time zone: one
    page of them, by customer name, with their totals (``page.paginator.count``: all)."""
    start, end = day_bounds(organisation, day)
    qs = visible(Reminder.objects.filter(organisation=organisation, channel__in=POSTAL, status=S.SENT),
                 collector_id, "customer__").filter(
        Q(sent_at__gte=start, sent_at__lt=end) | Q(sent_at__isnull=True, planned_for=day)
    )
    order = ("customer__legal_name", "pk")
    ids = Paginator(qs.order_by(*order).values_list("pk", flat=True), per_page).get_page(number)
    # the page's ids as a subquery: the totals are computed for these reminders only
    rows = list(_with_totals(Reminder.objects.filter(pk__in=ids.object_list)).order_by(*order))
    return Page(rows, ids.number, ids.paginator)


def open_call_tasks(
    organisation: Organisation, day: date, collector_id: int | None = None, number: int = 1,
    per_page: int = DAY_PAGE_SIZE,
) -> Page[CallTask]:
    """Calls still to make, due on or before ``day``: one page of them, oldest first."""
    qs = (
        visible(CallTask.objects.filter(organisation=organisation, status=CallTask.Status.OPEN, due_on__lte=day),
                collector_id, "customer__")
        .select_related("customer", "reminder", "reminder__step")
        .prefetch_related("customer__contacts")
        .order_by("due_on", "customer__legal_name", "pk")
    )
    return Paginator(qs, per_page).get_page(number)


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


def next_actions(
    organisation: Organisation, customer: Customer, invoices: Iterable[Invoice], on: date
) -> dict[int, tuple[Step, date]]:
    """For each open invoice still under active dunning (and not held: the caller leaves those
    out), the step it will receive next and the business day it falls on — the escalation rules
    of ``relance.core.escalation``, with the customer's scenario, last contact and the invoice's
    facts, exactly as the planner decides. Two queries at most, whatever the number of invoices."""
    scenario = scenario_for(organisation, customer)
    if scenario is None:
        return {}
    steps = {s.position: s for s in scenario.steps.all()}
    specs = [s.spec() for s in steps.values()]
    calendar = calendar_for(organisation)
    rules = rules_of(organisation, scenario)
    result: dict[int, tuple[Step, date]] = {}
    for invoice in invoices:
        if invoice.status != Invoice.Status.OPEN or invoice.dunning_state != Invoice.Dunning.ACTIVE:
            continue
        action = next_step(specs, progress_of(invoice), on, calendar, rules, customer.last_contact_date)
        if action is not None:
            result[invoice.pk] = (steps[action.step.position], action.on)
    return result


def next_steps(
    organisation: Organisation, customer: Customer, invoices: Iterable[Invoice], on: date
) -> dict[int, Step]:
    """For each open, chased invoice, the step it will receive next (:func:`next_actions`)."""
    return {pk: step for pk, (step, _) in next_actions(organisation, customer, invoices, on).items()}


@dataclass(frozen=True)
class DayCounts:
    planned: int
    sent: int
    pending: int
    failed: int
    calls: int
    letters: int
    #: reminders returned for good (a permanent bounce) over the last :data:`BOUNCE_WINDOW_DAYS` days
    undelivered: int = 0


def day_counts(organisation: Organisation, day: date, collector_id: int | None = None) -> DayCounts:
    """Today's figures for the dashboard — two queries."""
    start, end = day_bounds(organisation, day)
    since, _ = day_bounds(organisation, day - timedelta(days=BOUNCE_WINDOW_DAYS - 1))
    qs = visible(Reminder.objects.filter(organisation=organisation), collector_id, "customer__")
    row = qs.aggregate(
        planned=Count("pk", filter=Q(planned_for=day)),
        sent=Count("pk", filter=Q(status=S.SENT, sent_at__gte=start, sent_at__lt=end)),
        pending=Count("pk", filter=Q(status__in=PENDING, planned_for__lte=day)),
        failed=Count("pk", filter=Q(status=S.FAILED)),
        letters=Count("pk", filter=Q(status=S.SENT, channel__in=POSTAL, sent_at__gte=start, sent_at__lt=end)),
        undelivered=Count("pk", filter=Q(status=S.UNDELIVERED, bounced_at__gte=since, bounced_at__lt=end)),
    )
    calls = visible(CallTask.objects.filter(organisation=organisation, status=CallTask.Status.OPEN, due_on__lte=day),
                    collector_id, "customer__").count()
    return DayCounts(row["planned"], row["sent"], row["pending"], row["failed"], calls, row["letters"],
                     row["undelivered"])


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


HOLD_FILTERS = [("", gettext_lazy("Toutes")), ("aucune", gettext_lazy("Sans suspension")),
                ("toutes", gettext_lazy("Avec une suspension")), *[(k.value, k.label) for k in Hold.Kind]]


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
        found = on_invoice.get(invoice.pk) or whole
        if found is not None:
            result[invoice.pk] = found
    return result


#: Customers offered by the previews' selector (scenario and template editors).
CHOICES_LIMIT = 50


def customer_choices(organisation: Organisation, search: str = "", collector_id: int | None = None,
                     current: Customer | None = None, limit: int = CHOICES_LIMIT) -> list[Customer]:
    """Customers to preview a message on, without computing any balance: those whose code or
    name contains ``search`` (by name), else those with the most recent reminders; ``current``
    (the customer previewed) always first. Two queries at most."""
    customers = visible(Customer.objects.filter(organisation=organisation), collector_id)
    search = search.strip()
    if search:
        found = list(customers.filter(Q(legal_name__icontains=search) | Q(code__icontains=search))
                     .order_by("legal_name", "code")[:limit])
    else:
        recent = visible(Reminder.objects.filter(organisation=organisation), collector_id, "customer__")
        ids = list(dict.fromkeys(recent.order_by("-planned_for", "-pk").values_list("customer_id", flat=True)
                                 [:limit * 4]))[:limit]
        by_id = customers.in_bulk(ids)
        found = [by_id[pk] for pk in ids if pk in by_id]
    if current is not None:
        found = [current, *(c for c in found if c.pk != current.pk)][:limit]
    return found


@dataclass
class UpcomingGroup:
    """One message (or one hand-over) to come: its step and the invoices it will list."""

    step: Step
    invoices: list[Invoice] = field(default_factory=list)


@dataclass
class Upcoming:
    """What happens next for a customer: a message already planned (``reminder``: planned,
    awaiting approval, being sent or failed), or else what the planner will plan next — the day
    and, per step, the invoices (one message per step: ``core.escalation.group_due``)."""

    day: date
    step: Step | None
    reminder: Reminder | None = None
    invoices: list[Invoice] = field(default_factory=list)
    groups: list[UpcomingGroup] = field(default_factory=list)


def next_plan(organisation: Organisation, customer: Customer, invoices: Iterable[Invoice], today: date,
              actions: Mapping[int, tuple[Step, date]] | None = None) -> tuple[date, list[UpcomingGroup]] | None:
    """What the planner will plan next for ``invoices`` (open, not held): the first day a step
    falls (a past date is today) and, decided as on that day, one group per step
    (``core.escalation.group_due``). ``actions``: :func:`next_actions` at ``today``, when known."""
    invoices = list(invoices)
    first = actions if actions is not None else next_actions(organisation, customer, invoices, today)
    if not first:
        return None
    day = max(min(on for _, on in first.values()), today)
    at_day = first if day == today else next_actions(organisation, customer, invoices, day)
    by_pk = {i.pk: i for i in invoices if i.pk in at_day}
    plan = group_due({pk: NextAction(at_day[pk][0].spec(), at_day[pk][1]) for pk in by_pk}, day)
    if not plan:
        return None
    return day, [UpcomingGroup(at_day[g.keys[0]][0], sorted((by_pk[k] for k in g.keys),
                                                          key=lambda i: (i.due_date, i.number))) for g in plan]


def upcoming(reminders: Iterable[Reminder], plan: tuple[date, list[UpcomingGroup]] | None) -> Upcoming | None:
    """The customer's next step: a message pending among its ``reminders``, else ``plan``
    (:func:`next_plan`), which is what ``relance run --date DAY`` plans on that day."""
    waiting = (S.PLANNED, S.AWAITING_APPROVAL, S.SENDING, S.UNCERTAIN, S.FAILED)
    pending = sorted((r for r in reminders if r.status in waiting and r.kind != Reminder.Kind.THANKS),
                     key=lambda r: (r.planned_for, r.pk))
    if pending:
        first = pending[0]
        return Upcoming(first.planned_for, first.step, first)
    if plan is None:
        return None
    day, groups = plan
    return Upcoming(day, groups[0].step, None, groups[0].invoices, groups)
