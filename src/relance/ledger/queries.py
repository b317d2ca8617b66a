"""Read-only queries on the ledger, always scoped to one organisation.

The web pages and the API call these functions and nothing else: a view never builds
a queryset itself, so the organisation filter cannot be forgotten. The lists use one
aggregated query (``annotate``), never a query per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models import Count, DecimalField, F, Min, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone

from .models import Customer, Invoice, Organisation

ZERO = Decimal("0.00")
DEFAULT_CURRENCY = "EUR"
DEFAULT_TIMEZONE = "Europe/Paris"
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
    try:
        return ZoneInfo(organisation.timezone or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


def organisation_today(organisation: Organisation) -> date:
    """Today in the organisation's time zone (the business date of its work)."""
    return timezone.localdate(timezone=organisation_zone(organisation))


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
    customers have an overdue invoice — one query."""
    overdue = Q(due_date__lt=on, amount_due__gt=0)
    row = Invoice.objects.filter(organisation=organisation, status=OPEN).aggregate(
        total=Coalesce(Sum("amount_due"), Value(ZERO), output_field=money_field()),
        overdue=Coalesce(Sum("amount_due", filter=overdue), Value(ZERO), output_field=money_field()),
        overdue_customers=Count("customer", filter=overdue, distinct=True),
    )
    return Outstanding(row["total"], row["overdue"], row["overdue_customers"])


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


def customers_with_balances(
    organisation: Organisation, on: date, search: str = "", ordering: str = "nom", collector_id: int | None = None,
    filters: CustomerFilters | None = None,
) -> QuerySet[Customer]:
    """The organisation's customers, each annotated with ``amount_due`` (open invoices),
    ``overdue`` (open and past due on ``on``), ``oldest_due`` (the oldest due date among
    the overdue invoices, ``None`` when nothing is late) and ``open_invoices``."""
    open_invoice = Q(invoices__status=OPEN, invoices__organisation=organisation)
    overdue = open_invoice & Q(invoices__due_date__lt=on, invoices__amount_due__gt=0)
    qs = visible(Customer.objects.filter(organisation=organisation), collector_id)
    search = search.strip()
    if search:
        qs = qs.filter(Q(legal_name__icontains=search) | Q(code__icontains=search))
    qs = qs.annotate(
        amount_due=_money_sum("invoices__amount_due", open_invoice),
        overdue=_money_sum("invoices__amount_due", overdue),
        oldest_due=Min("invoices__due_date", filter=overdue),
        open_invoices=Count("invoices", filter=open_invoice),
    )
    if filters is not None:
        if filters.extra is not None:
            qs = qs.filter(filters.extra)
        if filters.min_due is not None:
            qs = qs.filter(amount_due__gte=filters.min_due)
        if filters.min_days_late is not None:
            qs = qs.filter(oldest_due__lte=on - timedelta(days=filters.min_days_late))
    return qs.order_by(*CUSTOMER_ORDERINGS.get(ordering, CUSTOMER_ORDERINGS["nom"]))


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

#: Aging buckets (« balance âgée »): label and inclusive range of days past the due date.
AGING_BUCKETS: list[tuple[str, str, int | None, int | None]] = [
    ("not_due", "Non échu", None, 0),
    ("d1_30", "1 à 30 jours", 1, 30),
    ("d31_60", "31 à 60 jours", 31, 60),
    ("d61_90", "61 à 90 jours", 61, 90),
    ("d90", "Plus de 90 jours", 91, None),
]
DSO_WINDOW_DAYS = 90


@dataclass(frozen=True)
class AgingBucket:
    key: str
    label: str
    amount: Decimal
    invoices: int
    share: Decimal  # of the total outstanding, 0..100


def aging(organisation: Organisation, on: date, collector_id: int | None = None) -> list[AgingBucket]:
    """The aging balance of open invoices on ``on``, by days past due — one query.

    An invoice is « non échue » until its due date included; « 1 à 30 jours » from the
    day after, and so on."""
    conditions: dict[str, Q] = {}
    for key, _, low, high in AGING_BUCKETS:
        q = Q()
        if low is None:
            q &= Q(due_date__gte=on)
        else:
            q &= Q(due_date__lte=on - timedelta(days=low))
        if high is not None and low is not None:
            q &= Q(due_date__gte=on - timedelta(days=high))
        conditions[key] = q
    aggregates: dict[str, Any] = {}
    for key, q in conditions.items():
        aggregates[f"{key}_amount"] = Coalesce(Sum("amount_due", filter=q), Value(ZERO), output_field=money_field())
        aggregates[f"{key}_count"] = Count("pk", filter=q)
    qs = visible(Invoice.objects.filter(organisation=organisation, status=OPEN, amount_due__gt=0), collector_id,
                 "customer__")
    row = qs.aggregate(**aggregates)
    total = sum((row[f"{k}_amount"] for k in conditions), ZERO)
    return [
        AgingBucket(key, label, row[f"{key}_amount"], row[f"{key}_count"],
                    (row[f"{key}_amount"] * 100 / total).quantize(Decimal("0.1")) if total else Decimal("0.0"))
        for key, label, _, _ in AGING_BUCKETS
    ]


@dataclass(frozen=True)
class Dso:
    days: Decimal | None  # None when nothing was invoiced over the window
    outstanding: Decimal
    invoiced: Decimal
    window_days: int


def dso(organisation: Organisation, on: date, window_days: int = DSO_WINDOW_DAYS,
        collector_id: int | None = None) -> Dso:
    """Days sales outstanding, simple method: outstanding receivables ÷ amounts invoiced
    (TTC) over the last ``window_days`` days × ``window_days`` — one query."""
    start = on - timedelta(days=window_days - 1)
    qs = visible(Invoice.objects.filter(organisation=organisation), collector_id, "customer__")
    row = qs.aggregate(
        outstanding=_money_sum("amount_due", Q(status=OPEN)),
        invoiced=_money_sum("amount_incl_tax", Q(issue_date__gte=start, issue_date__lte=on)),
    )
    days = None
    if row["invoiced"] > 0:
        days = (row["outstanding"] * window_days / row["invoiced"]).quantize(Decimal("1"))
    return Dso(days, row["outstanding"], row["invoiced"], window_days)


def invoice_for(organisation: Organisation, pk: int, collector_id: int | None = None) -> Invoice:
    """One invoice of the organisation with its customer (404 otherwise)."""
    return get_object_or_404(
        visible(Invoice.objects.select_related("customer"), collector_id, "customer__"), organisation=organisation, pk=pk,
    )


def invoice_allocations(invoice: Invoice) -> list[Any]:
    """Payments and credit notes applied to the invoice (lettrage), oldest first."""
    return list(invoice.allocations.select_related("payment", "credit_note").order_by("date", "pk"))
