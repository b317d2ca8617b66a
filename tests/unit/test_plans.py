"""Payment plans (core.plans): splitting, checking, reminder dates, applying payments."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relance.core.calendar import FRANCE
from relance.core.plans import (
    DEFAULT_GRACE_DAYS,
    MAX_INSTALMENTS,
    InstalmentSpec,
    PlanInputError,
    apply_to_instalments,
    break_after,
    equal_schedule,
    instalment_key,
    missed_notice_on,
    monthly_dates,
    reminder_before,
    split_equal,
    validate_schedule,
)

TODAY = date(2026, 11, 19)
cents = st.integers(min_value=1, max_value=10**10).map(lambda c: Decimal(c).scaleb(-2))
counts = st.integers(min_value=1, max_value=MAX_INSTALMENTS)
days = st.dates(min_value=date(2026, 1, 1), max_value=date(2035, 12, 31))


def test_equal_split_puts_the_cents_on_the_last() -> None:
    specs = equal_schedule(Decimal("100.00"), date(2026, 12, 15), 3)
    assert [s.amount for s in specs] == [Decimal("33.33"), Decimal("33.33"), Decimal("33.34")]
    assert [s.due_on for s in specs] == [date(2026, 12, 15), date(2027, 1, 15), date(2027, 2, 15)]


@given(total=cents, count=counts)
def test_equal_split_adds_up(total: Decimal, count: int) -> None:
    if total < Decimal(count).scaleb(-2):
        with pytest.raises(PlanInputError):
            split_equal(total, [TODAY + timedelta(days=k) for k in range(count)])
        return
    specs = split_equal(total, [TODAY + timedelta(days=k) for k in range(count)])
    amounts = [s.amount for s in specs]
    assert sum(amounts) == total
    assert len(set(amounts[:-1])) <= 1 and all(a > 0 for a in amounts)
    assert Decimal(0) <= amounts[-1] - amounts[0] < Decimal(count).scaleb(-2)  # less than one cent each
    assert all(a == a.quantize(Decimal("0.01")) for a in amounts)
    validate_schedule(total, specs, TODAY)  # an equal split always passes the check


@given(total=cents, count=st.integers(min_value=2, max_value=24), which=st.integers(min_value=0),
       gap=st.integers(min_value=-500, max_value=500).filter(bool))
def test_a_schedule_that_does_not_add_up_is_refused(total: Decimal, count: int, which: int, gap: int) -> None:
    specs = equal_schedule(total * count, TODAY, count)
    i = which % count
    changed = specs[i].amount + Decimal(gap).scaleb(-2)
    if changed <= 0:
        return
    bad = [*specs[:i], InstalmentSpec(specs[i].due_on, changed), *specs[i + 1:]]
    with pytest.raises(PlanInputError) as caught:
        validate_schedule(total * count, bad, TODAY)
    assert "Rien n’a été enregistré" in str(caught.value)


def test_the_refusal_gives_the_gap() -> None:
    with pytest.raises(PlanInputError) as caught:
        validate_schedule(Decimal("1680.50"), [InstalmentSpec(date(2026, 12, 1), Decimal("1000")),
                                               InstalmentSpec(date(2027, 1, 1), Decimal("600"))], TODAY)
    assert str(caught.value) == ("Les échéances totalisent 1\u202f600,00\xa0€, mais le montant à échelonner est de "
                                 "1\u202f680,50\xa0€ : il manque 80,50\xa0€. Rien n’a été enregistré.")
    with pytest.raises(PlanInputError) as caught:
        validate_schedule(Decimal("100"), [InstalmentSpec(date(2026, 12, 1), Decimal("100.01"))], TODAY)
    assert "il y a 0,01\xa0€ de trop" in str(caught.value)


@pytest.mark.parametrize(("specs", "message"), [
    ([], "Un échéancier compte au moins une échéance."),
    ([InstalmentSpec(date(2026, 11, 18), Decimal("100"))], "La première échéance (18 novembre 2026) est déjà passée."),
    ([InstalmentSpec(date(2026, 12, 1), Decimal("0")), InstalmentSpec(date(2027, 1, 1), Decimal("100"))],
     "Échéance 1 : le montant doit être positif."),
    ([InstalmentSpec(date(2026, 12, 1), Decimal("50.005")), InstalmentSpec(date(2027, 1, 1), Decimal("49.995"))],
     "Échéance 1 : le montant a plus de deux décimales."),
    ([InstalmentSpec(date(2026, 12, 1), Decimal("50")), InstalmentSpec(date(2026, 12, 1), Decimal("50"))],
     "Échéance 2 : sa date (1er décembre 2026) doit suivre celle de l’échéance précédente (1er décembre 2026)."),
])
def test_bad_schedules(specs: list[InstalmentSpec], message: str) -> None:
    with pytest.raises(PlanInputError) as caught:
        validate_schedule(Decimal("100"), specs, TODAY)
    assert str(caught.value) == message


def test_too_many_instalments() -> None:
    with pytest.raises(PlanInputError):
        equal_schedule(Decimal("10000"), TODAY, MAX_INSTALMENTS + 1)


def test_monthly_dates_clamp_to_the_end_of_short_months() -> None:
    assert monthly_dates(date(2027, 1, 31), 4) == [date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31),
                                                   date(2027, 4, 30)]
    assert monthly_dates(date(2027, 11, 30), 3, every_months=2) == [date(2027, 11, 30), date(2028, 1, 30),
                                                                    date(2028, 3, 30)]
    with pytest.raises(PlanInputError):
        monthly_dates(TODAY, 0)


@given(first=days, count=counts, every=st.integers(min_value=1, max_value=12))
def test_monthly_dates_increase(first: date, count: int, every: int) -> None:
    out = monthly_dates(first, count, every)
    assert len(out) == count and out[0] == first
    assert all(b > a for a, b in pairwise(out))
    assert all(d.day <= first.day for d in out)


def test_reminder_dates_fall_on_business_days() -> None:
    # due Tuesday 15 December 2026: J−3 is Saturday 12 → Friday 11; J+3 is Friday 18
    assert reminder_before(date(2026, 12, 15), FRANCE) == date(2026, 12, 11)
    assert missed_notice_on(date(2026, 12, 15), FRANCE) == date(2026, 12, 18)
    # due Tuesday 22 December: J+3 is Friday 25 (Christmas) → Monday 28
    assert missed_notice_on(date(2026, 12, 22), FRANCE) == date(2026, 12, 28)
    assert reminder_before(date(2026, 12, 18), FRANCE) == date(2026, 12, 15)
    assert DEFAULT_GRACE_DAYS == 8 and break_after(date(2026, 12, 18)) == date(2026, 12, 26)


@given(d=days)
def test_reminder_dates_bracket_the_due_date(d: date) -> None:
    before, after = reminder_before(d, FRANCE), missed_notice_on(d, FRANCE)
    assert before <= d - timedelta(days=3) and FRANCE.is_business_day(before)
    assert after >= d + timedelta(days=3) and FRANCE.is_business_day(after)


def test_payments_fill_the_instalments_in_order() -> None:
    amounts = [Decimal("500"), Decimal("500"), Decimal("680.50")]
    out = apply_to_instalments(amounts, [(date(2026, 12, 1), Decimal("300")), (date(2026, 12, 3), Decimal("400"))])
    assert [o.paid for o in out] == [Decimal("500"), Decimal("200"), Decimal("0")]
    assert [o.paid_on for o in out] == [date(2026, 12, 3), None, None]
    assert [o.settled for o in out] == [True, False, False]
    # a credit note lowers the last instalments, not the next one
    out = apply_to_instalments(amounts, [(date(2026, 12, 1), Decimal("500"))], credited=Decimal("700"))
    assert [o.credited for o in out] == [Decimal("0"), Decimal("19.50"), Decimal("680.50")]
    assert [o.remaining for o in out] == [Decimal("0"), Decimal("480.50"), Decimal("0")]


amount_lists = st.lists(cents, min_size=1, max_size=12)
payment_lists = st.lists(st.tuples(days, cents), max_size=10)


@given(amounts=amount_lists, payments=payment_lists, credited=st.one_of(st.just(Decimal(0)), cents))
def test_applying_payments_properties(amounts: list[Decimal], payments: list[tuple[date, Decimal]],
                                      credited: Decimal) -> None:
    out = apply_to_instalments(amounts, payments, credited)
    effective = sum(amounts) - min(credited, sum(amounts))
    assert sum(o.credited for o in out) == min(credited, sum(amounts))
    assert sum(o.paid for o in out) == min(sum(a for _, a in payments), effective)
    assert all(o.remaining >= 0 and o.paid >= 0 and o.credited >= 0 for o in out)
    # in order: after the first instalment not settled, nothing is paid
    first_open = next((k for k, o in enumerate(out) if not o.settled), len(out))
    assert all(o.paid == 0 for o in out[first_open + 1:])
    # credits come from the end: before the first credited instalment, none is credited
    credited_from = next((k for k, o in enumerate(out) if o.credited > 0), len(out))
    assert all(o.credited == o.amount for o in out[credited_from + 1:])
    assert all((o.paid_on is not None) == (o.settled and o.paid > 0) for o in out)


def test_instalment_keys_are_distinct_per_phase() -> None:
    assert instalment_key(1, 7, "before") != instalment_key(1, 7, "missed")
    assert instalment_key(1, 7, "before") == instalment_key(1, 7, "before")
