"""Read-only queries on the ledger, always scoped to one organisation.

The web pages and the API call these functions and nothing else: a view never builds
a queryset itself, so the organisation filter cannot be forgotten. The lists use one
aggregated query (``annotate``), never a query per row.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TypeVar, overload
from zoneinfo import ZoneInfo

from django.db.models import Count, DecimalField, F, FilteredRelation, Min, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_noop

from relance import clock
from relance.core.money import to_cents

from .models import Customer, Invoice, Organisation

ZERO = Decimal("0.00")
_Row = TypeVar("_Row")
DEFAULT_CURRENCY = "EUR"
OPEN = Invoice.Status.OPEN

#: Orderings offered on the customer list (query-string value → ORM ordering).
CUSTOMER_ORDERINGS: dict[str, list[Any]] = {
    "nom": ["legal_name", "code"],
    "du": [F("amount_due").desc(), "legal_name"],
    "retard": [F("oldest_due").asc(nulls_last=True), "legal_name"],
}


def money_field() -> DecimalField:
    """Output field of money aggregates (same precision as the model's money fields)."""
    return DecimalField(max_digits=14, decimal_places=2)


def _money_sum(field: str, condition: Q) -> Coalesce:
    return Coalesce(Sum(field, filter=condition), Value(ZERO), output_field=money_field())


def organisation_zone(organisation: Organisation) -> ZoneInfo:
    """The zone pages show times in (an unknown name reads as the default: a page still opens)."""
    return clock.zone_of(organisation, lenient=True)


def day_bounds(organisation: Organisation, day: date) -> tuple[datetime, datetime]:
    """``[start, end)`` of a calendar day of the organisation, as aware datetimes."""
    zone = organisation_zone(organisation)
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return start, end


@dataclass(frozen=True)
class Outstanding:
    total: Decimal
    overdue: Decimal
    overdue_customers: int
    currency: str = DEFAULT_CURRENCY


def outstanding(organisation: Organisation, on: date) -> Outstanding:
    """Total still due on open invoices, the part past its due date, and how many
    customers have an overdue invoice — one query, read from the index
    ``invoice_open_due`` alone. (Of the forms measured, the one with the best worst case:
    summing per customer first is faster on SQLite but slower on PostgreSQL.)"""
    overdue = Q(due_date__lt=on, amount_due__gt=0)
    row = Invoice.objects.filter(organisation=organisation, status=OPEN).aggregate(
        total=Coalesce(Sum("amount_due"), Value(ZERO), output_field=money_field()),
        overdue=Coalesce(Sum("amount_due", filter=overdue), Value(ZERO), output_field=money_field()),
        overdue_customers=Count("customer", filter=overdue, distinct=True),
    )
    return Outstanding(row["total"], row["overdue"], row["overdue_customers"])


def _late_customers(organisation: Organisation, on: date, collector_id: int | None) -> int:
    """How many customers have an open invoice past its due date on ``on`` — one query on
    the index ``invoice_open_due`` (``SELECT COUNT(*) FROM (SELECT DISTINCT customer_id …)``:
    of the forms tried, the one fast on both databases)."""
    late = visible(Invoice.objects.filter(organisation=organisation, status=OPEN, due_date__lt=on, amount_due__gt=0),
                   collector_id, "customer__")
    return late.order_by().values("customer_id").distinct().count()


def visible(qs: QuerySet[Any], collector_id: int | None, customer_field: str = "") -> QuerySet[Any]:
    """Restrict ``qs`` to the customers assigned to ``collector_id`` (``None``: no restriction)."""
    if collector_id is None:
        return qs
    return qs.filter(**{f"{customer_field}collector_id": collector_id})


@dataclass(frozen=True)
class CustomerFilters:
    """Filters of the customer list: minimum amount due, minimum days late of the oldest
    overdue invoice, and any extra condition on customers (holds, profiles…)."""

    min_due: Decimal | None = None
    min_days_late: int | None = None
    extra: Q | None = None

    @property
    def on_balances(self) -> bool:
        """Whether a filter needs each customer's balance (not only its own columns)."""
        return self.min_due is not None or self.min_days_late is not None


def _with_balances(qs: QuerySet[Customer, _Row], organisation: Organisation, on: date) -> QuerySet[Customer, _Row]:
    """Annotate ``amount_due``, ``overdue``, ``oldest_due`` and ``open_invoices``. The open
    invoices are joined with their conditions in the join itself (``FilteredRelation``), so
    that each customer's are read from the index ``invoice_customer_balance`` alone."""
    rows = "open_invoice_rows"
    overdue = Q(**{f"{rows}__due_date__lt": on, f"{rows}__amount_due__gt": 0})
    return qs.annotate(
        open_invoice_rows=FilteredRelation("invoices", condition=Q(invoices__status=OPEN,
                                                                   invoices__organisation=organisation)),
    ).annotate(
        amount_due=Coalesce(Sum(f"{rows}__amount_due"), Value(ZERO), output_field=money_field()),
        overdue=_money_sum(f"{rows}__amount_due", overdue),
        oldest_due=Min(f"{rows}__due_date", filter=overdue),
        open_invoices=Count(f"{rows}__pk"),
    )


def _balance_filters(qs: QuerySet[Customer, _Row], on: date, filters: CustomerFilters) -> QuerySet[Customer, _Row]:
    if filters.min_due is not None:
        qs = qs.filter(Q(amount_due__gte=filters.min_due))
    if filters.min_days_late is not None:
        qs = qs.filter(Q(oldest_due__lte=on - timedelta(days=filters.min_days_late)))
    return qs


def _customers(organisation: Organisation, search: str, collector_id: int | None,
               filters: CustomerFilters | None) -> QuerySet[Customer]:
    """The customers the list shows, before any balance is computed."""
    qs = visible(Customer.objects.filter(organisation=organisation), collector_id)
    search = search.strip()
    if search:
        qs = qs.filter(Q(legal_name__icontains=search) | Q(code__icontains=search))
    if filters is not None and filters.extra is not None:
        qs = qs.filter(filters.extra)
    return qs


def customers_with_balances(
    organisation: Organisation, on: date, search: str = "", ordering: str = "nom", collector_id: int | None = None,
    filters: CustomerFilters | None = None,
) -> QuerySet[Customer]:
    """The organisation's customers, each annotated with ``amount_due`` (open invoices),
    ``overdue`` (open and past due on ``on``), ``oldest_due`` (the oldest due date among
    the overdue invoices, ``None`` when nothing is late) and ``open_invoices``. Every
    customer's balance is computed: for a page of them, see :func:`customer_listing`."""
    qs = _with_balances(_customers(organisation, search, collector_id, filters), organisation, on)
    if filters is not None:
        qs = _balance_filters(qs, on, filters)
    return qs.order_by(*CUSTOMER_ORDERINGS.get(ordering, CUSTOMER_ORDERINGS["nom"]))


class CustomerListing:
    """The customer list for a ``Paginator``: it counts and slices like a queryset, but
    computes balances only where needed.

    * Ordered by name with no filter on balances: the page of customers is chosen on their
      own table (count and page without touching the invoices), then the balances of its
      rows only are computed.
    * Ordered by amount due or by delay: every balance is needed to sort, in one query that
      returns the page's ids (the count does not join the invoices).
    * A filter on balances (amount, days late): one query returns the ids of every customer
      that passes, in order; the count and the page come from them.
    """

    def __init__(self, organisation: Organisation, on: date, search: str = "", ordering: str = "nom",
                 collector_id: int | None = None, filters: CustomerFilters | None = None) -> None:
        self.organisation = organisation
        self.on = on
        self.filters = filters or CustomerFilters()
        self.ordering = ordering if ordering in CUSTOMER_ORDERINGS else "nom"
        self.customers = _customers(organisation, search, collector_id, filters)
        self._ids: list[int] | None = None

    def _ranked(self) -> QuerySet[Customer, Any]:
        """The customers' ids with their balances, grouped by id alone (not by every column)."""
        qs = _with_balances(self.customers.values("pk"), self.organisation, self.on)
        return _balance_filters(qs, self.on, self.filters).order_by(*CUSTOMER_ORDERINGS[self.ordering])

    def _all_ids(self) -> list[int]:
        if self._ids is None:
            self._ids = list(self._ranked().values_list("pk", flat=True))
        return self._ids

    def count(self) -> int:
        if self.filters.on_balances:
            return len(self._all_ids())
        return self.customers.count()

    def __len__(self) -> int:
        return self.count()

    def __iter__(self) -> Iterator[Customer]:
        return iter(self[:])

    @overload
    def __getitem__(self, index: int) -> Customer: ...

    @overload
    def __getitem__(self, index: slice) -> list[Customer]: ...

    def __getitem__(self, index: int | slice) -> Customer | list[Customer]:
        if isinstance(index, int):
            found = self._page(slice(index, index + 1)) if index >= 0 else []
            if not found:
                raise IndexError(index)
            return found[0]
        return self._page(index)

    def _page(self, window: slice) -> list[Customer]:
        if self.filters.on_balances:
            ids = self._all_ids()[window]
        elif self.ordering == "nom":
            ids = list(self.customers.order_by(*CUSTOMER_ORDERINGS["nom"]).values_list("pk", flat=True)[window])
        else:
            ids = list(self._ranked().values_list("pk", flat=True)[window])
        rows = {c.pk: c for c in _with_balances(Customer.objects.filter(pk__in=ids), self.organisation, self.on)}
        return [rows[pk] for pk in ids]


def customer_listing(
    organisation: Organisation, on: date, search: str = "", ordering: str = "nom", collector_id: int | None = None,
    filters: CustomerFilters | None = None,
) -> CustomerListing:
    """The customer list with the same figures as :func:`customers_with_balances`, to
    paginate: only the page's customers get their balances computed when the order and the
    filters allow it."""
    return CustomerListing(organisation, on, search, ordering, collector_id, filters)


def customer_balances(
    organisation: Organisation, on: date, search: str = "", collector_id: int | None = None,
) -> QuerySet[Customer, dict[str, Any]]:
    """The same figures as :func:`customers_with_balances`, as plain rows (for the API)."""
    # The stubs cannot see the annotations through the function's return type.
    return customers_with_balances(organisation, on, search, collector_id=collector_id).values(  # type: ignore[misc]
        "id", "code", "legal_name", "is_business", "amount_due", "overdue", "oldest_due", "open_invoices"
    )


def customer_for(organisation: Organisation, pk: int, collector_id: int | None = None) -> Customer:
    """One customer of the organisation (404 for any other, or one not assigned to a
    restricted collector), with its scenario."""
    return get_object_or_404(
        visible(Customer.objects.select_related("scenario").prefetch_related("contacts"), collector_id),
        organisation=organisation,
        pk=pk,
    )


def customer_invoices(organisation: Organisation, customer: Customer) -> list[Invoice]:
    """All invoices of a customer, oldest due date first."""
    return list(Invoice.objects.filter(organisation=organisation, customer=customer).order_by("due_date", "number"))


@dataclass(frozen=True)
class CustomerTotals:
    amount_due: Decimal
    overdue: Decimal
    open_invoices: int
    oldest_due: date | None


def totals_of(invoices: list[Invoice], on: date) -> CustomerTotals:
    """Totals of already-loaded invoices (no query)."""
    open_ = [i for i in invoices if i.status == OPEN]
    late = [i for i in open_ if i.due_date < on and i.amount_due > 0]
    return CustomerTotals(
        amount_due=sum((i.amount_due for i in open_), ZERO),
        overdue=sum((i.amount_due for i in late), ZERO),
        open_invoices=len(open_),
        oldest_due=min((i.due_date for i in late), default=None),
    )


def invoice_numbers(organisation: Organisation, ids: set[int]) -> dict[int, str]:
    """Invoice numbers by id (to label timeline entries), one query."""
    if not ids:
        return {}
    return dict(Invoice.objects.filter(organisation=organisation, pk__in=ids).values_list("pk", "number"))



# --------------------------------------------------------------------------- dashboard

#: Aging buckets (« balance âgée »): label and inclusive range of days past the due date. The labels
#: stay French here (API, CLI); the dashboard translates them (``{% translate bucket.label %}``).
AGING_BUCKETS: list[tuple[str, str, int | None, int | None]] = [
    ("not_due", gettext_noop("Non échu"), None, 0),
    ("d1_30", gettext_noop("1 à 30 jours"), 1, 30),
    ("d31_60", gettext_noop("31 à 60 jours"), 31, 60),
    ("d61_90", gettext_noop("61 à 90 jours"), 61, 90),
    ("d90", gettext_noop("Plus de 90 jours"), 91, None),
]
DSO_WINDOW_DAYS = 90


@dataclass(frozen=True)
class AgingBucket:
    key: str
    label: str
    amount: Decimal
    invoices: int
    share: Decimal  # of the total outstanding, 0..100


def _bucket_of(days_late: int) -> str:
    for key, _, low, high in AGING_BUCKETS:
        if (low is None or days_late >= low) and (high is None or days_late <= high):
            return key
    raise ValueError(days_late)  # the buckets cover every integer


def _open_by_due_date(organisation: Organisation, collector_id: int | None) -> list[tuple[date, Decimal, int]]:
    """The amount still due on open invoices and their number, per due date — one query,
    read from the index ``invoice_open_due`` alone (a few hundred rows: one per date)."""
    qs = visible(Invoice.objects.filter(organisation=organisation, status=OPEN, amount_due__gt=0), collector_id,
                 "customer__")
    rows = qs.values_list("due_date").annotate(
        amount=Coalesce(Sum("amount_due"), Value(ZERO), output_field=money_field()), n=Count("pk"),
    ).order_by()
    # SQLite sums money as floats: each date's sum is rounded to the cent before adding them up
    return [(due, to_cents(amount), n) for due, amount, n in rows]


def _aging_of(rows: list[tuple[date, Decimal, int]], on: date) -> list[AgingBucket]:
    amounts = {key: ZERO for key, *_ in AGING_BUCKETS}
    counts = dict.fromkeys(amounts, 0)
    for due, amount, n in rows:
        key = _bucket_of((on - due).days)
        amounts[key] += amount
        counts[key] += n
    total = sum(amounts.values(), ZERO)
    return [
        AgingBucket(key, label, amounts[key], counts[key],
                    (amounts[key] * 100 / total).quantize(Decimal("0.1")) if total else Decimal("0.0"))
        for key, label, _, _ in AGING_BUCKETS
    ]


def aging(organisation: Organisation, on: date, collector_id: int | None = None) -> list[AgingBucket]:
    """The aging balance of open invoices on ``on``, by days past due — one query.

    An invoice is « non échue » until its due date included; « 1 à 30 jours » from the
    day after, and so on."""
    return _aging_of(_open_by_due_date(organisation, collector_id), on)


@dataclass(frozen=True)
class Dso:
    days: Decimal | None  # None when nothing was invoiced over the window
    outstanding: Decimal
    invoiced: Decimal
    window_days: int


def _invoiced(organisation: Organisation, on: date, window_days: int, collector_id: int | None) -> Decimal:
    """Amounts invoiced (TTC) over the ``window_days`` days ending on ``on``, whatever the
    invoices' state — one query, on the index ``invoice_issued``."""
    start = on - timedelta(days=window_days - 1)
    qs = visible(Invoice.objects.filter(organisation=organisation, issue_date__gte=start, issue_date__lte=on),
                 collector_id, "customer__")
    invoiced: Decimal = qs.aggregate(
        invoiced=Coalesce(Sum("amount_incl_tax"), Value(ZERO), output_field=money_field()))["invoiced"]
    return to_cents(invoiced)


def _dso_of(outstanding_total: Decimal, invoiced: Decimal, window_days: int) -> Dso:
    days = None
    if invoiced > 0:
        days = (outstanding_total * window_days / invoiced).quantize(Decimal("1"))
    return Dso(days, outstanding_total, invoiced, window_days)


def dso(organisation: Organisation, on: date, window_days: int = DSO_WINDOW_DAYS,
        collector_id: int | None = None) -> Dso:
    """Days sales outstanding, simple method: outstanding receivables ÷ amounts invoiced
    (TTC) over the last ``window_days`` days × ``window_days`` — two queries."""
    total = sum((amount for _, amount, _ in _open_by_due_date(organisation, collector_id)), ZERO)
    return _dso_of(total, _invoiced(organisation, on, window_days, collector_id), window_days)


@dataclass(frozen=True)
class Receivables:
    """The dashboard's figures."""

    outstanding: Outstanding
    aging: list[AgingBucket]
    dso: Dso


def receivables(organisation: Organisation, on: date, collector_id: int | None = None,
                window_days: int = DSO_WINDOW_DAYS) -> Receivables:
    """Outstanding and overdue amounts, the aging balance and the DSO on ``on``, for the
    customers ``collector_id`` sees — three queries, each read from an index alone: the
    open amounts per due date (a few hundred rows, put into the aging buckets here: on
    SQLite each ``FILTER`` aggregate costs about 9 ms per 100 000 invoices, so one per
    bucket would cost more than the grouping), the customers with an overdue invoice, the
    amounts invoiced over the DSO window."""
    rows = _open_by_due_date(organisation, collector_id)
    buckets = _aging_of(rows, on)
    total = sum((b.amount for b in buckets), ZERO)
    overdue = sum((amount for due, amount, _ in rows if due < on), ZERO)
    return Receivables(Outstanding(total, overdue, _late_customers(organisation, on, collector_id)), buckets,
                       _dso_of(total, _invoiced(organisation, on, window_days, collector_id), window_days))


def invoice_for(organisation: Organisation, pk: int, collector_id: int | None = None) -> Invoice:
    """One invoice of the organisation with its customer (404 otherwise)."""
    return get_object_or_404(
        visible(Invoice.objects.select_related("customer"), collector_id, "customer__"), organisation=organisation, pk=pk,
    )


def invoice_allocations(invoice: Invoice) -> list[Any]:
    """Payments and credit notes applied to the invoice (lettrage), oldest first."""
    return list(invoice.allocations.select_related("payment", "credit_note").order_by("date", "pk"))
