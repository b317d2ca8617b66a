"""Properties of the penalty and legal-interest computations (Hypothesis).

The oracle is exact rational arithmetic (``Fraction``): the sum, day by day, of
``base × rate / 36 500`` with the rate of each day’s semester. The computed periods must add up to
exactly that, and the total must be that rounded half up to the cent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from relance.core.law import (
    Period,
    RateTables,
    compute_legal_interest,
    compute_penalties,
    majoration_start,
    semester_of,
)
from relance.core.law.penalties import PenaltyResult
from relance.core.law.rates import Category

D = Decimal
TABLES = RateTables.shipped()
FIRST = date(2015, 1, 1)
LAST = date(2026, 6, 30)  # last day whose default penalty and legal rates are both known
ONE = timedelta(days=1)

amounts = st.integers(min_value=1, max_value=100_000_000).map(lambda cents: D(cents) / 100)
days = st.integers(min_value=0, max_value=(LAST - FIRST).days)
rates = st.integers(min_value=0, max_value=4000).map(lambda bp: D(bp) / 100)


def fraction_of(periods: Iterable[Period]) -> Fraction:
    return sum((Fraction(p.base) * Fraction(p.rate) * p.days / 36500 for p in periods), Fraction(0))


def half_up(value: Fraction) -> Decimal:
    """Exact half-up rounding to the cent of a non-negative rational."""
    assert value >= 0
    cents = value * 100
    whole = cents.numerator // cents.denominator
    return D(whole + (1 if cents - whole >= Fraction(1, 2) else 0)).scaleb(-2)


@st.composite
def delays(draw: st.DrawFn, max_days: int = 900) -> tuple[date, date]:
    due = FIRST + timedelta(days=draw(days))
    late = draw(st.integers(min_value=0, max_value=min(max_days, (LAST - due).days)))
    return due, due + timedelta(days=late)


def default_rate_of(day: date) -> Decimal:
    return TABLES.default_penalty_rate(semester_of(day))


def day_by_day(principal: Decimal, due: date, paid: date, payments: list[tuple[date, Decimal]],
               rate_of: Callable[[date], Decimal] = default_rate_of) -> Fraction:
    total = Fraction(0)
    day = due + ONE
    while day <= paid:
        base = principal - sum((a for d, a in payments if d < day), D(0))
        total += Fraction(base) * Fraction(rate_of(day)) / 36500
        day += ONE
    return total


def assert_exact(result: PenaltyResult, expected: Fraction) -> None:
    assert fraction_of(result.periods) == expected
    assert abs(Fraction(result.total_exact) - expected) < Fraction(1, 10**40)
    assert result.total == half_up(expected)


@settings(max_examples=150, deadline=None)
@given(amounts, delays())
def test_semester_split_equals_the_day_by_day_sum(principal: Decimal, delay: tuple[date, date]) -> None:
    due, paid = delay
    result = compute_penalties(principal, due, paid)
    assert_exact(result, day_by_day(principal, due, paid, []))
    assert sum(p.days for p in result.periods) == result.days_late == (paid - due).days
    for p in result.periods:
        assert semester_of(p.start) == semester_of(p.end) == p.semester  # never across a semester boundary


@settings(max_examples=150, deadline=None)
@given(amounts, delays(), st.lists(st.tuples(st.integers(0, 900), st.integers(1, 10_000)), max_size=4))
def test_partial_payments_day_by_day(principal: Decimal, delay: tuple[date, date],
                                     raw: list[tuple[int, int]]) -> None:
    due, paid = delay
    span = (paid - due).days + 30
    payments = [(due - timedelta(days=30) + timedelta(days=offset % span), principal * share / 40_000)
                for offset, share in raw]
    payments = [(d, a.quantize(D("0.01"))) for d, a in payments if a.quantize(D("0.01")) > 0]
    assume(sum(a for _, a in payments) <= principal)
    result = compute_penalties(principal, due, paid, payments=payments)
    end = result.paid_date
    assert end is not None
    assert_exact(result, day_by_day(principal, due, end, payments))
    assert all(p.amount_exact > 0 and p.base > 0 for p in result.periods)  # never negative, zero bases dropped
    assert result.total >= 0


@settings(max_examples=100, deadline=None)
@given(amounts, delays(), rates)
def test_contractual_rate_with_its_floor_day_by_day(principal: Decimal, delay: tuple[date, date],
                                                    rate: Decimal) -> None:
    due, paid = delay
    result = compute_penalties(principal, due, paid, contractual_rate=rate)
    assert_exact(result, day_by_day(principal, due, paid, [],
                                    lambda day: max(rate, TABLES.penalty_floor(semester_of(day)))))
    floors = {p.semester for p in result.periods if p.rate > rate}
    assert set(result.floor_semesters) == floors
    assert len(result.warnings) == len(floors)


@settings(max_examples=150, deadline=None)
@given(amounts, delays(), st.data())
def test_additivity_when_the_delay_is_split(principal: Decimal, delay: tuple[date, date], data: st.DataObject) -> None:
    due, paid = delay
    assume(paid > due)
    cut = due + timedelta(days=data.draw(st.integers(0, (paid - due).days)))
    whole = compute_penalties(principal, due, paid)
    first = compute_penalties(principal, due, cut)
    second = compute_penalties(principal, cut, paid)
    assert fraction_of(whole.periods) == fraction_of(first.periods) + fraction_of(second.periods)
    gap = Fraction(whole.total_exact) - Fraction(first.total_exact) - Fraction(second.total_exact)
    assert abs(gap) < Fraction(1, 10**40)
    assert whole.days_late == first.days_late + second.days_late


@settings(max_examples=150, deadline=None)
@given(amounts, amounts, delays())
def test_monotonic_in_amount(a: Decimal, b: Decimal, delay: tuple[date, date]) -> None:
    due, paid = delay
    low, high = sorted((a, b))
    r_low, r_high = compute_penalties(low, due, paid), compute_penalties(high, due, paid)
    assert r_low.total_exact <= r_high.total_exact
    assert r_low.total <= r_high.total


@settings(max_examples=150, deadline=None)
@given(amounts, delays(), st.integers(0, 400))
def test_monotonic_in_days(principal: Decimal, delay: tuple[date, date], more: int) -> None:
    due, paid = delay
    later = min(LAST, paid + timedelta(days=more))
    shorter, longer = compute_penalties(principal, due, paid), compute_penalties(principal, due, later)
    assert shorter.total_exact <= longer.total_exact
    assert shorter.total <= longer.total
    assert shorter.indemnity <= longer.indemnity


@settings(max_examples=100, deadline=None)
@given(amounts, st.integers(0, (LAST - FIRST).days), st.integers(0, 400), st.one_of(st.none(), rates))
def test_zero_when_paid_on_or_before_the_due_date(principal: Decimal, due_offset: int, early: int,
                                                  rate: Decimal | None) -> None:
    due = FIRST + timedelta(days=due_offset)
    paid = max(FIRST, due - timedelta(days=early))
    result = compute_penalties(principal, due, paid, contractual_rate=rate)
    assert (result.days_late, result.periods, result.total, result.indemnity) == (0, (), D("0.00"), D("0.00"))


@settings(max_examples=100, deadline=None)
@given(amounts, delays(max_days=700), st.sampled_from(["business", "individual"]), st.integers(-120, 500))
def test_legal_interest_day_by_day_with_the_majoration(principal: Decimal, delay: tuple[date, date], creditor: str,
                                                       judgment_offset: int) -> None:
    start, end = delay
    enforceable = start + timedelta(days=judgment_offset)
    result = compute_legal_interest(principal, start, end, creditor=creditor,  # type: ignore[arg-type]
                                    judgment_enforceable=enforceable)
    category: Category = "other" if creditor == "business" else "individual"
    majorated = majoration_start(enforceable)

    expected = Fraction(0)
    day = start + ONE
    while day <= end:
        rate = TABLES.legal_rate(semester_of(day), category) + (5 if day >= majorated else 0)
        expected += Fraction(principal) * Fraction(rate) / 36500
        day += ONE
    assert fraction_of(result.periods) == expected
    assert result.total == half_up(expected)
    assert result.total >= 0
