"""Simple interest day by day, split into periods of constant base and rate.

Shared by the late-payment penalties (C. com. L441-10 II) and the legal interest (C. civ.
1231-6, 1344-1; C. mon. fin. L313-2, L313-3). Conventions, the same for both:

* interest accrues for each day ``d`` with ``start < d <= end``: from the day after the starting
  date (due date, formal notice) to the end date (payment, as-of date) inclusive, so that the
  number of days is ``end - start``;
* a payment made on day ``p`` lowers the base from ``p + 1``;
* a period’s interest is ``base × rate / 100 × days / 365``, 365 also in a leap year (the
  practice quoted by service-public.fr fiche F783 and the published examples; the statutes say
  nothing of the day count);
* each period is kept exact (``Decimal`` with 60 significant digits, never rounded to the cent);
  only the total is rounded, half up to the cent, from the exact sum.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext
from itertools import pairwise

from ..money import parse_amount, to_cents
from .errors import LawInputError
from .rates import Semester, semester_of

EXACT = Context(prec=60, rounding=ROUND_HALF_EVEN)
"""The context of the unrounded amounts: 60 significant digits (products of amounts, rates and
days are exact in it; only the division by 36 500 is not)."""

YEAR_BASIS = 36500
"""365 days × 100 (rates are in percent)."""

ONE_DAY = timedelta(days=1)

Payment = tuple[date, Decimal]


@dataclass(frozen=True)
class Period:
    """Days ``start`` to ``end`` inclusive at a constant ``base`` and ``rate`` (percent per year).

    ``amount_exact`` is ``base × rate × days / 36 500`` unrounded; ``amount`` is it rounded half up
    to the cent, for display only (the result’s total is the rounding of the exact sum, which may
    differ by a cent from the sum of the displayed amounts).
    """

    start: date
    end: date
    days: int
    base: Decimal
    rate: Decimal
    amount_exact: Decimal
    amount: Decimal
    semester: Semester
    rate_basis: str = ""


def simple_interest(base: Decimal, rate: Decimal, days: int) -> Decimal:
    """``base × rate / 100 × days / 365``, unrounded (rate in percent per year, 365 even in a leap year)."""
    with localcontext(EXACT):
        return base * rate * days / YEAR_BASIS


def exact_sum(periods: Iterable[Period]) -> Decimal:
    """The exact sum of the periods: ``Σ base × rate × days``, divided once by 36 500."""
    with localcontext(EXACT):
        numerator = sum((p.base * p.rate * p.days for p in periods), Decimal(0))
        return numerator / YEAR_BASIS


def rounded_total(periods: Sequence[Period]) -> tuple[Decimal, Decimal]:
    exact = exact_sum(periods)
    return exact, to_cents(exact)


def amount_of(value: object, what: str) -> Decimal:
    """An amount (``Decimal``, ``int`` or French/English text) as a ``Decimal``."""
    if isinstance(value, bool):
        raise LawInputError(f"{what} : un montant est attendu, pas {value!r}")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise LawInputError(f"{what} : « {value} » n’est pas un montant")
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            return parse_amount(value)
        except ValueError as exc:
            raise LawInputError(f"{what} : {exc}") from None
    raise LawInputError(f"{what} : un montant est attendu, pas {value!r}")


def check_date(value: object, what: str) -> date:
    if not isinstance(value, date):
        raise LawInputError(f"{what} : une date est attendue, pas {value!r}")
    return value


def normalise_payments(payments: Iterable[tuple[date, object]], principal: Decimal, last_day: date,
                       issue_date: date | None, fmt_money: Callable[[Decimal], str],
                       fmt_date: Callable[[date], str]) -> list[Payment]:
    """Validate the partial payments: positive, not after ``last_day`` nor before the invoice
    date, and not more than the principal. Returned sorted by date."""
    result: list[Payment] = []
    for item in payments:
        try:
            day, raw = item
        except (TypeError, ValueError):
            raise LawInputError(f"paiement illisible : {item!r} (attendu : (date, montant))") from None
        day = check_date(day, "date du paiement partiel")
        amount = amount_of(raw, f"paiement du {fmt_date(day)}")
        if amount <= 0:
            raise LawInputError(f"le paiement du {fmt_date(day)} doit être strictement positif ({fmt_money(amount)})")
        if day > last_day:
            raise LawInputError(
                f"le paiement du {fmt_date(day)} est postérieur à la date de fin du calcul ({fmt_date(last_day)})"
            )
        if issue_date is not None and day < issue_date:
            raise LawInputError(
                f"le paiement du {fmt_date(day)} est antérieur à la date de la facture ({fmt_date(issue_date)})"
            )
        result.append((day, amount))
    paid = sum((a for _, a in result), Decimal(0))
    if paid > principal:
        raise LawInputError(
            f"les paiements partiels ({fmt_money(paid)}) dépassent le montant dû ({fmt_money(principal)})"
        )
    return sorted(result, key=lambda p: p[0])


def settled_on(payments: Sequence[Payment], principal: Decimal) -> date | None:
    """The date on which the payments reach the principal, if they do."""
    running = Decimal(0)
    for day, amount in payments:
        running += amount
        if running >= principal:
            return day
    return None


def accrue(principal: Decimal, payments: Sequence[Payment], start: date, end: date,
           rate_for: Callable[[date], tuple[Decimal, str]], extra_breaks: Iterable[date] = ()) -> list[Period]:
    """The periods of interest for the days ``start < d <= end``.

    A new period begins at every semester start, on the day after every payment, and on every
    date of ``extra_breaks`` (e.g. the first day of the L313-3 majoration). ``rate_for(first_day)``
    gives the rate of a period and its explanation; it must be constant between two breaks.
    Periods whose base is zero (fully paid) are left out and need no rate.
    """
    if end <= start:
        return []
    first = start + ONE_DAY
    breaks: set[date] = set()
    semester = semester_of(first).next()
    while semester.start <= end:
        breaks.add(semester.start)
        semester = semester.next()
    breaks.update(day + ONE_DAY for day, _ in payments)
    breaks.update(extra_breaks)
    bounds = [first, *sorted(b for b in breaks if first < b <= end), end + ONE_DAY]
    periods = []
    for lo, hi in pairwise(bounds):
        base = principal - sum((a for day, a in payments if day < lo), Decimal(0))
        if base <= 0:
            continue
        rate, basis = rate_for(lo)
        last = hi - ONE_DAY
        days = (last - lo).days + 1
        exact = simple_interest(base, rate, days)
        periods.append(Period(lo, last, days, base, rate, exact, to_cents(exact), semester_of(lo), basis))
    return periods


def fr_pct(rate: Decimal) -> str:
    """``15,21 %`` (no-break space before the sign)."""
    return f"{rate}".replace(".", ",") + "\u00a0%"
