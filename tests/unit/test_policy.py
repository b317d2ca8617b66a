"""Dunning policy: which step comes next, and on which business day."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from relance.core.calendar import FRANCE
from relance.core.policy import (
    DEFAULT_FRENCH_SCENARIO,
    POSTAL_CHANNELS,
    Channel,
    InvoiceFacts,
    NextAction,
    StepSpec,
    next_action,
    reminder_key,
    scheduled_date,
    thanks_key,
)

# The default French scenario (J = due date).
DEFAULT_FR = tuple(d.spec for d in DEFAULT_FRENCH_SCENARIO)  # the scenario that ships


def test_default_scenario_shape() -> None:
    assert [(s.position, s.offset_days, s.channel) for s in DEFAULT_FR] == [
        (0, -7, "email"),
        (1, 7, "email"),
        (2, 15, "email"),
        (3, 30, "email"),
        (4, 45, "letter"),
        (5, 60, "registered_letter"),
        (6, 75, "litigation"),
    ]
    assert [s.tone for s in DEFAULT_FR] == [1, 2, 3, 4, 4, 5, 5]  # firmer as it goes
    templates = [d.template for d in DEFAULT_FRENCH_SCENARIO]
    assert templates == ["avant_echeance", "relance_1", "relance_2", "relance_3", "courrier", "mise_en_demeure",
                         "contentieux"]
    assert [d.attach_invoices for d in DEFAULT_FRENCH_SCENARIO] == [False, True, True, True, False, False, False]
    assert [s.call_task for s in DEFAULT_FR] == [False, False, False, True, False, False, False]
    assert [s.before_due for s in DEFAULT_FR] == [True] + [False] * 6
    assert [s.channel in POSTAL_CHANNELS for s in DEFAULT_FR] == [False] * 4 + [True, True, False]


def test_step_before_due_is_strictly_negative_offset() -> None:
    assert StepSpec(0, -1, Channel.EMAIL).before_due
    assert not StepSpec(0, 0, Channel.EMAIL).before_due


def test_channel_values() -> None:
    assert [c.value for c in Channel] == ["email", "letter", "registered_letter", "phone", "litigation"]
    assert POSTAL_CHANNELS == {Channel.LETTER, Channel.REGISTERED_LETTER}


# --- next_action: examples ---------------------------------------------------------------


def test_new_invoice_far_before_due_gets_the_pre_due_email_on_a_business_day() -> None:
    # due Wednesday 18 Nov 2026; J-7 = Wednesday 11 Nov = Armistice -> Thursday 12 Nov
    facts = InvoiceFacts(due_date=date(2026, 11, 18))
    action = next_action(DEFAULT_FR, facts, today=date(2026, 10, 1), calendar=FRANCE)
    assert action == NextAction(DEFAULT_FR[0], date(2026, 11, 12))


def test_pre_due_step_on_a_plain_business_day() -> None:
    facts = InvoiceFacts(due_date=date(2026, 11, 30))  # Monday; J-7 = Monday 23 Nov
    action = next_action(DEFAULT_FR, facts, today=date(2026, 11, 1), calendar=FRANCE)
    assert action == NextAction(DEFAULT_FR[0], date(2026, 11, 23))


def test_invoice_imported_after_its_due_date_skips_the_pre_due_step() -> None:
    facts = InvoiceFacts(due_date=date(2026, 11, 2))  # Monday
    action = next_action(DEFAULT_FR, facts, today=date(2026, 11, 5), calendar=FRANCE)
    assert action == NextAction(DEFAULT_FR[1], date(2026, 11, 9))


def test_invoice_imported_on_its_due_date_skips_the_pre_due_step() -> None:
    facts = InvoiceFacts(due_date=date(2026, 11, 2))
    action = next_action(DEFAULT_FR, facts, today=date(2026, 11, 2), calendar=FRANCE)
    assert action is not None
    assert action.step.position == 1


def test_pre_due_step_already_late_but_before_due_is_due_now() -> None:
    # imported three days before the due date: J-7 is in the past, still before the due date
    facts = InvoiceFacts(due_date=date(2026, 11, 30))
    action = next_action(DEFAULT_FR, facts, today=date(2026, 11, 27), calendar=FRANCE)
    assert action == NextAction(DEFAULT_FR[0], date(2026, 11, 23))


def test_pre_due_step_moved_onto_the_due_date_by_the_calendar_is_dropped() -> None:
    # two-step scenario with J-1 on a Saturday: moved to Monday = the due date itself
    steps = (StepSpec(0, -1, Channel.EMAIL), StepSpec(1, 7, Channel.EMAIL))
    facts = InvoiceFacts(due_date=date(2026, 11, 23))  # Monday
    action = next_action(steps, facts, today=date(2026, 11, 1), calendar=FRANCE)
    assert action == NextAction(steps[1], date(2026, 11, 30))


def test_min_gap_pushes_a_step() -> None:
    # J+7 done; J+15 would fall on Tuesday 17 Nov, but the customer was written to on 13 Nov
    facts = InvoiceFacts(due_date=date(2026, 11, 2), last_position=1)
    action = next_action(
        DEFAULT_FR, facts, today=date(2026, 11, 13), calendar=FRANCE,
        last_contact=date(2026, 11, 13), min_gap_days=7,
    )
    assert action == NextAction(DEFAULT_FR[2], date(2026, 11, 20))


def test_min_gap_landing_on_a_weekend_moves_to_the_next_business_day() -> None:
    facts = InvoiceFacts(due_date=date(2026, 11, 2), last_position=1)
    action = next_action(
        DEFAULT_FR, facts, today=date(2026, 11, 13), calendar=FRANCE,
        last_contact=date(2026, 11, 14), min_gap_days=7,  # not before Saturday 21 -> Monday 23
    )
    assert action == NextAction(DEFAULT_FR[2], date(2026, 11, 23))


def test_min_gap_does_not_pull_a_step_earlier() -> None:
    facts = InvoiceFacts(due_date=date(2026, 11, 2), last_position=1)
    action = next_action(
        DEFAULT_FR, facts, today=date(2026, 11, 3), calendar=FRANCE,
        last_contact=date(2026, 11, 3), min_gap_days=3,
    )
    assert action == NextAction(DEFAULT_FR[2], date(2026, 11, 17))


def test_pre_due_step_pushed_past_the_due_date_by_the_min_gap_is_dropped() -> None:
    # due Monday 30 Nov; J-7 = 23 Nov, but a message went on 25 Nov and the gap is 7 days -> 2 Dec >= due
    facts = InvoiceFacts(due_date=date(2026, 11, 30))
    action = next_action(
        DEFAULT_FR, facts, today=date(2026, 11, 25), calendar=FRANCE,
        last_contact=date(2026, 11, 25), min_gap_days=7,
    )
    assert action == NextAction(DEFAULT_FR[1], date(2026, 12, 7))


def test_pre_due_step_delayed_by_the_min_gap_but_still_before_due_is_kept() -> None:
    facts = InvoiceFacts(due_date=date(2026, 11, 30))
    action = next_action(
        DEFAULT_FR, facts, today=date(2026, 11, 20), calendar=FRANCE,
        last_contact=date(2026, 11, 20), min_gap_days=5,  # not before Wed 25 Nov < 30 Nov
    )
    assert action == NextAction(DEFAULT_FR[0], date(2026, 11, 25))


@pytest.mark.parametrize(
    ("last_position", "position", "on"),
    [
        (0, 1, date(2026, 11, 9)),  # J+7 Monday 9 Nov
        (1, 2, date(2026, 11, 17)),  # J+15 Tuesday 17 Nov
        (2, 3, date(2026, 12, 2)),  # J+30 Wednesday 2 Dec
        (3, 4, date(2026, 12, 17)),  # J+45 Thursday 17 Dec
        (4, 5, date(2027, 1, 4)),  # J+60 = Friday 1 Jan 2027 (holiday) -> Monday 4 Jan
        (5, 6, date(2027, 1, 18)),  # J+75 = Saturday 16 Jan -> Monday 18 Jan
    ],
)
def test_each_step_in_turn(last_position: int, position: int, on: date) -> None:
    facts = InvoiceFacts(due_date=date(2026, 11, 2), last_position=last_position)
    action = next_action(DEFAULT_FR, facts, today=date(2026, 11, 3), calendar=FRANCE)
    assert action == NextAction(DEFAULT_FR[position], on)


def test_after_the_last_step_there_is_nothing() -> None:
    facts = InvoiceFacts(due_date=date(2026, 11, 2), last_position=6)
    assert next_action(DEFAULT_FR, facts, today=date(2027, 6, 1), calendar=FRANCE) is None


def test_empty_scenario() -> None:
    assert next_action((), InvoiceFacts(date(2026, 11, 2)), today=date(2026, 11, 1), calendar=FRANCE) is None


def test_only_a_stale_pre_due_step_left_gives_nothing() -> None:
    steps = (StepSpec(0, -7, Channel.EMAIL),)
    facts = InvoiceFacts(due_date=date(2026, 11, 2))
    assert next_action(steps, facts, today=date(2026, 11, 2), calendar=FRANCE) is None


def test_a_date_in_the_past_is_returned_as_is_for_the_planner_to_catch_up() -> None:
    # J-7 done; the planner did not run for weeks: J+7 (9 Nov) is returned, not moved to today
    facts = InvoiceFacts(due_date=date(2026, 11, 2), last_position=0)
    action = next_action(DEFAULT_FR, facts, today=date(2026, 12, 15), calendar=FRANCE)
    assert action == NextAction(DEFAULT_FR[1], date(2026, 11, 9))


def test_steps_are_taken_by_position_whatever_their_order_in_the_sequence() -> None:
    shuffled = tuple(reversed(DEFAULT_FR))
    facts = InvoiceFacts(due_date=date(2026, 11, 2), last_position=2)
    action = next_action(shuffled, facts, today=date(2026, 11, 20), calendar=FRANCE)
    assert action == NextAction(DEFAULT_FR[3], date(2026, 12, 2))


def test_scheduled_date() -> None:
    step = DEFAULT_FR[1]
    assert scheduled_date(step, date(2026, 11, 2), FRANCE) == date(2026, 11, 9)
    assert scheduled_date(step, date(2026, 11, 2), FRANCE, not_before=date(2026, 11, 10)) == date(2026, 11, 10)
    assert scheduled_date(step, date(2026, 11, 2), FRANCE, not_before=date(2026, 11, 1)) == date(2026, 11, 9)
    assert scheduled_date(step, date(2026, 11, 4), FRANCE) == date(2026, 11, 12)  # 11 Nov -> 12 Nov


# --- next_action: properties --------------------------------------------------------------

due_dates = st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31))


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[StepSpec, ...]:
    offsets = draw(st.lists(st.integers(-30, 120), min_size=1, max_size=8, unique=True))
    offsets.sort()
    channels = list(Channel)
    return tuple(
        StepSpec(i, off, draw(st.sampled_from(channels)), draw(st.integers(1, 5)), draw(st.booleans()))
        for i, off in enumerate(offsets)
    )


@st.composite
def situations(draw: st.DrawFn) -> dict:
    steps = draw(st.one_of(st.just(DEFAULT_FR), scenarios()))
    due = draw(due_dates)
    last_position = draw(st.integers(-1, len(steps)))
    today = due + timedelta(days=draw(st.integers(-90, 200)))
    last_contact = draw(st.one_of(st.none(), st.builds(lambda d: due + timedelta(days=d), st.integers(-90, 200))))
    min_gap = draw(st.integers(0, 30))
    return dict(steps=steps, facts=InvoiceFacts(due, last_position), today=today, calendar=FRANCE,
                last_contact=last_contact, min_gap_days=min_gap)


@given(situations())
def test_property_returned_date_is_a_business_day_and_respects_offset_and_gap(s: dict) -> None:
    action = next_action(**s)
    assume(action is not None)
    assert action is not None
    due = s["facts"].due_date
    assert FRANCE.is_business_day(action.on)
    assert action.on >= due + timedelta(days=action.step.offset_days)
    if s["last_contact"] is not None:
        assert action.on >= s["last_contact"] + timedelta(days=s["min_gap_days"])
    # and it is the earliest such business day
    earliest = due + timedelta(days=action.step.offset_days)
    if s["last_contact"] is not None:
        earliest = max(earliest, s["last_contact"] + timedelta(days=s["min_gap_days"]))
    assert action.on == FRANCE.on_or_after(earliest)


@given(situations())
def test_property_steps_are_never_skipped_except_pre_due_ones(s: dict) -> None:
    action = next_action(**s)
    steps, facts, today = s["steps"], s["facts"], s["today"]
    remaining = [st_ for st_ in steps if st_.position > facts.last_position]
    if action is None:
        # everything left (if anything) was a pre-due step that lost its point
        assert all(st_.before_due for st_ in remaining)
        return
    assert action.step.position > facts.last_position
    skipped = [st_ for st_ in remaining if st_.position < action.step.position]
    assert all(st_.before_due for st_ in skipped)
    if action.step.before_due:
        # a pre-due message is only ever planned before the due date
        assert today < facts.due_date
        assert action.on < facts.due_date
    # the first post-due step after last_position is never jumped over
    post_due = [st_ for st_ in remaining if not st_.before_due]
    if post_due:
        assert action.step.position <= post_due[0].position


@given(situations())
def test_property_pre_due_steps_are_dropped_once_due(s: dict) -> None:
    facts, today = s["facts"], s["today"]
    assume(today >= facts.due_date)
    action = next_action(**s)
    assert action is None or not action.step.before_due


# --- idempotency keys ---------------------------------------------------------------------


def test_reminder_key_is_deterministic_and_short() -> None:
    key = reminder_key(1, 42, 3, date(2026, 12, 2))
    assert key == reminder_key(1, 42, 3, date(2026, 12, 2))
    assert len(key) == 32
    assert all(c in "0123456789abcdef" for c in key)


def test_reminder_key_known_value() -> None:
    import hashlib

    expected = hashlib.sha256(b"relance:1:42:3:2026-12-02").hexdigest()[:32]
    assert reminder_key(1, 42, 3, date(2026, 12, 2)) == expected


key_inputs = st.tuples(
    st.integers(1, 10**6), st.integers(1, 10**6), st.integers(0, 50),
    st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
)


@given(key_inputs, key_inputs)
def test_property_reminder_key_differs_when_any_input_differs(a: tuple, b: tuple) -> None:
    if a == b:
        assert reminder_key(*a) == reminder_key(*b)
    else:
        assert reminder_key(*a) != reminder_key(*b)


@given(key_inputs, st.integers(0, 3))
def test_property_reminder_key_changes_with_each_single_input(a: tuple, which: int) -> None:
    changed = list(a)
    changed[which] = changed[which] + (timedelta(days=1) if which == 3 else 1)
    assert reminder_key(*a) != reminder_key(*changed)


def test_reminder_key_is_not_ambiguous_across_fields() -> None:
    # separators keep (1, 12, ...) and (11, 2, ...) apart
    assert reminder_key(1, 12, 3, date(2026, 1, 1)) != reminder_key(11, 2, 3, date(2026, 1, 1))


def test_thanks_key() -> None:
    assert thanks_key(1, 7) == thanks_key(1, 7)
    assert thanks_key(1, 7) != thanks_key(1, 8)
    assert thanks_key(1, 7) != thanks_key(2, 7)
    assert len(thanks_key(1, 7)) == 32
    assert thanks_key(1, 7) != reminder_key(1, 7, 0, date(2026, 1, 1))
