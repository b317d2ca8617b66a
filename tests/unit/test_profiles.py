"""Payer profiles (core): the twelve-month figures, the ordered rules, the default scenarios and
the translation of an invoice's progress from one scenario to another."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relance.core.policy import DEFAULT_FRENCH_SCENARIO, Channel, StepSpec
from relance.core.profiles import (
    DEFAULT_PROFILES,
    FIRM_SCENARIO,
    GENTLE_SCENARIO,
    Audience,
    InvoiceRecord,
    PaymentHistory,
    Rule,
    ScenarioKind,
    Tally,
    carried_position,
    choose,
    payment_history,
    tally,
    window_start,
)

DAY = date(2026, 11, 23)
STANDARD = tuple(d.spec for d in DEFAULT_FRENCH_SCENARIO)
GENTLE = tuple(d.spec for d in GENTLE_SCENARIO)
FIRM = tuple(d.spec for d in FIRM_SCENARIO)


def history(**figures: object) -> PaymentHistory:
    values: dict[str, object] = dict(day=DAY, invoices=10, late_invoices=0, average_days_late=Decimal(0),
                                     share_late=Decimal(0), reminders_per_invoice=Decimal(0), outstanding=Decimal(0))
    values.update(figures)
    return PaymentHistory(**values)  # type: ignore[arg-type]


# --- The window and the figures: examples ------------------------------------------------------

def test_window_is_twelve_months_back() -> None:
    assert window_start(date(2026, 11, 23)) == date(2025, 11, 23)
    assert window_start(date(2028, 2, 29)) == date(2027, 2, 28)
    assert window_start(date(2027, 3, 1)) == date(2026, 3, 1)


def test_figures_of_a_mixed_history() -> None:
    records = [
        InvoiceRecord(date(2026, 3, 1), date(2026, 2, 25)),  # paid early: on time
        InvoiceRecord(date(2026, 5, 1), date(2026, 5, 11), reminders=1),  # 10 days late
        InvoiceRecord(date(2026, 11, 3), None, Decimal("1200.00"), reminders=2),  # unpaid, 20 days late so far
        InvoiceRecord(date(2026, 12, 3), None, Decimal("300.00")),  # not yet due: outstanding only
        InvoiceRecord(date(2025, 6, 1), date(2025, 7, 1), reminders=3),  # settled before the window
        InvoiceRecord(date(2026, 6, 1), date(2026, 7, 1), credited=True),  # cancelled by a credit note
    ]
    assert tally(records, DAY) == Tally(invoices=3, late_invoices=2, days_late=30, reminders=3,
                                        outstanding=Decimal("1500.00"))
    h = payment_history(records, DAY)
    assert (h.invoices, h.late_invoices) == (3, 2)
    assert h.average_days_late == Decimal("10.0")
    assert h.share_late == Decimal("0.67")
    assert h.reminders_per_invoice == Decimal("1.00")
    assert h.outstanding == Decimal("1500.00")
    assert h.since == date(2025, 11, 23)
    assert h.as_dict()["share_late"] == "0.67" and h.as_dict()["outstanding"] == "1500.00"


def test_an_old_unpaid_invoice_counts_with_its_lateness_so_far() -> None:
    h = payment_history([InvoiceRecord(date(2025, 1, 1), None, Decimal(100))], DAY)
    assert h.invoices == 1 and h.average_days_late == Decimal((DAY - date(2025, 1, 1)).days)


def test_an_invoice_settled_after_the_day_was_unpaid_that_day() -> None:
    record = InvoiceRecord(date(2026, 11, 13), date(2026, 12, 20))
    assert record.days_late(DAY) == 10


def test_no_history_gives_zero_figures() -> None:
    h = payment_history([], DAY)
    assert (h.invoices, h.average_days_late, h.share_late, h.reminders_per_invoice) == (0, 0, 0, 0)
    due_today = payment_history([InvoiceRecord(DAY, None, Decimal(10))], DAY)
    assert due_today.invoices == 0 and due_today.outstanding == Decimal(10)


# --- The figures: properties -----------------------------------------------------------------

records_strategy = st.lists(
    st.builds(
        InvoiceRecord,
        due_date=st.dates(date(2024, 1, 1), date(2027, 6, 30)),
        settled_on=st.none() | st.dates(date(2024, 1, 1), date(2027, 12, 31)),
        amount_due=st.decimals(0, 100_000, places=2),
        reminders=st.integers(0, 6),
        credited=st.booleans(),
    ),
    max_size=40,
)


@given(records_strategy, st.dates(date(2025, 1, 1), date(2027, 6, 30)))
def test_figures_are_bounded(records: list[InvoiceRecord], day: date) -> None:
    h = payment_history(records, day)
    counted = [r for r in records if r.days_late(day) is not None]
    lateness = [r.days_late(day) or 0 for r in counted]
    assert h.invoices == len(counted)
    assert 0 <= h.late_invoices <= h.invoices
    assert Decimal(0) <= h.share_late <= Decimal(1)
    assert Decimal(0) <= h.average_days_late <= max(lateness, default=0)
    assert Decimal(0) <= h.reminders_per_invoice <= max((r.reminders for r in counted), default=0)
    assert h.outstanding >= 0
    if h.invoices == 0:
        assert h.average_days_late == h.share_late == h.reminders_per_invoice == 0
    for r in counted:  # only what was settled in the window, or is unpaid and past due at the day
        assert not r.credited
        if r.settled_on is not None and r.settled_on <= day:
            assert window_start(day) < r.settled_on
        else:
            assert r.due_date < day


@given(records_strategy, st.dates(date(2025, 1, 1), date(2027, 6, 30)))
def test_figures_do_not_depend_on_the_order_of_invoices(records: list[InvoiceRecord], day: date) -> None:
    assert payment_history(records, day) == payment_history(list(reversed(records)), day)


@given(st.integers(1, 500), st.integers(0, 500), st.integers(0, 3000))
def test_ratios_round_half_up(invoices: int, late: int, reminders: int) -> None:
    late = min(late, invoices)
    h = PaymentHistory.of(Tally(invoices, late, late * 3, reminders), DAY)
    assert abs(h.share_late - Decimal(late) / invoices) <= Decimal("0.005")
    assert abs(h.reminders_per_invoice - Decimal(reminders) / invoices) <= Decimal("0.005")


# --- Rules -----------------------------------------------------------------------------------

def test_first_matching_rule_wins_in_position_order() -> None:
    loose = Rule(20, "large", max_average_days_late=Decimal(30))
    strict = Rule(10, "strict", max_average_days_late=Decimal(5))
    anyone = Rule(30, "tous")
    rules = [anyone, loose, strict]  # stored order does not matter: positions do
    assert choose(rules, True, history(average_days_late=Decimal(2))) is strict
    assert choose(rules, True, history(average_days_late=Decimal("5.1"))) is loose
    assert choose(rules, True, history(average_days_late=Decimal(31))) is anyone
    assert choose([strict], True, history(average_days_late=Decimal(6))) is None


def test_all_conditions_must_hold_and_limits_are_inclusive() -> None:
    rule = Rule(0, "r", min_invoices=3, min_outstanding=Decimal(100), max_outstanding=Decimal(1000),
                max_average_days_late=Decimal(5), max_share_late=Decimal("0.25"),
                max_reminders_per_invoice=Decimal("0.5"))
    ok = history(invoices=3, outstanding=Decimal(100), average_days_late=Decimal(5), share_late=Decimal("0.25"),
                 reminders_per_invoice=Decimal("0.5"))
    assert rule.matches(True, ok)
    assert rule.matches(True, history(**{**ok.__dict__, "outstanding": Decimal(1000)}))
    for name, value in [("invoices", 2), ("outstanding", Decimal("99.99")), ("outstanding", Decimal("1000.01")),
                        ("average_days_late", Decimal("5.1")), ("share_late", Decimal("0.26")),
                        ("reminders_per_invoice", Decimal("0.51"))]:
        assert not rule.matches(True, history(**{**ok.__dict__, name: value})), name


def test_business_and_consumer_rules() -> None:
    pros = Rule(10, "pros", audience=Audience.BUSINESS, max_average_days_late=Decimal(10))
    private = Rule(20, "particuliers", audience=Audience.CONSUMER)
    anyone = Rule(30, "tous")
    rules = [pros, private, anyone]
    late = history(average_days_late=Decimal(15))
    on_time = history(average_days_late=Decimal(1))
    assert choose(rules, True, on_time) is pros
    assert choose(rules, False, on_time) is private
    assert choose(rules, True, late) is anyone
    assert choose(rules, False, late) is private


@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 40), st.sampled_from(list(Audience))), max_size=8),
       st.integers(0, 60), st.booleans())
def test_choose_is_the_first_match_in_order(specs: list[tuple[int, int, Audience]], late: int, business: bool) -> None:
    rules = [Rule(pos, f"r{i}", audience=aud, max_average_days_late=Decimal(limit))
             for i, (pos, limit, aud) in enumerate(specs)]
    h = history(average_days_late=Decimal(late))
    chosen = choose(rules, business, h)
    ordered = sorted(rules, key=lambda r: r.position)
    matching = [r for r in ordered if r.matches(business, h)]
    assert chosen is (matching[0] if matching else None)


def test_default_profiles() -> None:
    rules = [d.rule for d in DEFAULT_PROFILES]
    assert [r.name for r in rules] == ["Bon payeur", "Payeur lent", "Payeur à risque"]
    assert [d.scenario for d in DEFAULT_PROFILES] == [ScenarioKind.GENTLE, ScenarioKind.STANDARD, ScenarioKind.FIRM]
    good = history(invoices=6, average_days_late=Decimal("1.5"), share_late=Decimal("0.17"),
                   reminders_per_invoice=Decimal("0.17"))
    slow = history(invoices=6, late_invoices=5, average_days_late=Decimal(18), share_late=Decimal("0.83"),
                   reminders_per_invoice=Decimal("1.67"))
    risky = history(invoices=4, late_invoices=4, average_days_late=Decimal(52), share_late=Decimal(1),
                    reminders_per_invoice=Decimal("3.5"))
    newcomer = history(invoices=0)
    assert [choose(rules, True, h).name for h in (good, slow, risky, newcomer)] == [  # type: ignore[union-attr]
        "Bon payeur", "Payeur lent", "Payeur à risque", "Payeur lent"]
    assert all(choose(rules, b, h) is not None for b in (True, False) for h in (good, risky))  # a catch-all ends


# --- Default scenarios -----------------------------------------------------------------------

def test_gentle_scenario_shape() -> None:
    assert [(s.position, s.offset_days, s.channel) for s in GENTLE] == [
        (0, 10, "email"), (1, 25, "email"), (2, 40, "email"), (3, 55, "registered_letter"), (4, 90, "litigation")]
    assert not any(s.before_due for s in GENTLE)  # first reminder after the due date
    assert len(GENTLE) < len(STANDARD)  # fewer steps
    assert all(s.offset_days >= 45 for s in GENTLE if s.channel == Channel.REGISTERED_LETTER)
    assert [s.tone for s in GENTLE] == sorted(s.tone for s in GENTLE)


def test_firm_scenario_shape() -> None:
    assert [(s.offset_days, s.channel, s.call_task) for s in FIRM] == [
        (-3, "email", False), (1, "email", False), (8, "email", False), (12, "email", True),
        (20, "registered_letter", False), (35, "litigation", False)]
    assert [s.tone for s in FIRM] == sorted(s.tone for s in FIRM)
    assert [d.template for d in FIRM_SCENARIO] == ["avant_echeance", "relance_1", "relance_2", "relance_3",
                                                   "mise_en_demeure", "contentieux"]


# --- Carrying an invoice's progress over to another scenario ---------------------------------

@pytest.mark.parametrize(("old", "last", "new", "expected"), [
    (STANDARD, -1, FIRM, -1),
    (STANDARD, 0, FIRM, 0),  # notice before due done: the firm notice too, not the first reminder
    (STANDARD, 0, GENTLE, -1),
    (STANDARD, 1, FIRM, 1),  # « sauf erreur » done (tone 2): firm J−3 and J+1 done, next the J+8
    (STANDARD, 2, FIRM, 2),
    (STANDARD, 3, GENTLE, 2),  # third reminder and call (tone 4): gentle next is the formal notice
    (STANDARD, 4, FIRM, 3),  # letter (tone 4): firm next is the formal notice
    (STANDARD, 5, FIRM, 4),  # formal notice done: only the hand-over is left
    (STANDARD, 5, GENTLE, 3),
    (GENTLE, 0, STANDARD, 1),  # the same « sauf erreur » reminder: not sent twice
    (FIRM, 3, STANDARD, 4),  # last reminder before formal notice (tone 4) covers the letter (tone 4)
    (FIRM, 0, GENTLE, -1),
    (FIRM, 5, STANDARD, 6),  # handed over: everything done
])
def test_carried_position(old: tuple[StepSpec, ...], last: int, new: tuple[StepSpec, ...], expected: int) -> None:
    assert carried_position(old, last, new) == expected


@given(st.sampled_from([STANDARD, GENTLE, FIRM]), st.sampled_from([STANDARD, GENTLE, FIRM]), st.integers(-1, 6))
def test_carried_position_never_hands_over_by_translation(old: tuple[StepSpec, ...], new: tuple[StepSpec, ...],
                                                          last: int) -> None:
    last = min(last, max(s.position for s in old))
    carried = carried_position(old, last, new)
    assert -1 <= carried <= max(s.position for s in new)
    handed_over = any(s.channel == Channel.LITIGATION and s.position <= last for s in old)
    if not handed_over:  # the hand-over to litigation is never counted as done unless it was
        assert all(s.channel != Channel.LITIGATION for s in new if s.position <= carried)
    if old == new:
        assert carried == last


def test_same_template_same_tone_in_every_default_scenario() -> None:
    tones: dict[str, set[int]] = {}
    for d in (*DEFAULT_FRENCH_SCENARIO, *GENTLE_SCENARIO, *FIRM_SCENARIO):
        tones.setdefault(d.template, set()).add(d.spec.tone)
    assert all(len(t) == 1 for t in tones.values()), tones
