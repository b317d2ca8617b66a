"""The day each step of a scenario falls on (``core.escalation.next_step``): offsets from the due
date, business days, the minimum gap between two messages, pre-due steps that lose their point."""

from __future__ import annotations

from datetime import date

import pytest

from relance.core.calendar import FRANCE, BusinessCalendar
from relance.core.escalation import Progress, Rules, next_step
from relance.core.policy import DEFAULT_FRENCH_SCENARIO, Channel, NextAction, StepSpec

DEFAULT_FR = tuple(d.spec for d in DEFAULT_FRENCH_SCENARIO)


def step_on(steps: tuple[StepSpec, ...], facts: Progress, today: date, calendar: BusinessCalendar,
            last_contact: date | None = None, min_gap_days: int = 0) -> NextAction | None:
    return next_step(steps, facts, today, calendar, Rules(min_gap_days=min_gap_days), last_contact)


def test_new_invoice_far_before_due_gets_the_pre_due_email_on_a_business_day() -> None:
    # due Wednesday 18 Nov 2026; J-7 = Wednesday 11 Nov = Armistice -> Thursday 12 Nov
    facts = Progress(date(2026, 11, 18))
    action = step_on(DEFAULT_FR, facts, today=date(2026, 10, 1), calendar=FRANCE)
    assert action == NextAction(DEFAULT_FR[0], date(2026, 11, 12))


def test_pre_due_step_on_a_plain_business_day() -> None:
    facts = Progress(date(2026, 11, 30))  # Monday; J-7 = Monday 23 Nov
    action = step_on(DEFAULT_FR, facts, today=date(2026, 11, 1), calendar=FRANCE)
    assert action == NextAction(DEFAULT_FR[0], date(2026, 11, 23))


def test_invoice_imported_after_its_due_date_skips_the_pre_due_step() -> None:
    facts = Progress(date(2026, 11, 2))  # Monday
    action = step_on(DEFAULT_FR, facts, today=date(2026, 11, 5), calendar=FRANCE)
    assert action == NextAction(DEFAULT_FR[1], date(2026, 11, 9))


def test_invoice_imported_on_its_due_date_skips_the_pre_due_step() -> None:
    facts = Progress(date(2026, 11, 2))
    action = step_on(DEFAULT_FR, facts, today=date(2026, 11, 2), calendar=FRANCE)
    assert action is not None
    assert action.step.position == 1


def test_pre_due_step_already_late_but_before_due_is_due_now() -> None:
    # imported three days before the due date: J-7 is in the past, still before the due date
    facts = Progress(date(2026, 11, 30))
    action = step_on(DEFAULT_FR, facts, today=date(2026, 11, 27), calendar=FRANCE)
    assert action == NextAction(DEFAULT_FR[0], date(2026, 11, 23))


def test_pre_due_step_moved_onto_the_due_date_by_the_calendar_is_dropped() -> None:
    # two-step scenario with J-1 on a Saturday: moved to Monday = the due date itself
    steps = (StepSpec(0, -1, Channel.EMAIL), StepSpec(1, 7, Channel.EMAIL))
    facts = Progress(date(2026, 11, 23))  # Monday
    action = step_on(steps, facts, today=date(2026, 11, 1), calendar=FRANCE)
    assert action == NextAction(steps[1], date(2026, 11, 30))


def test_min_gap_pushes_a_step() -> None:
    # J+7 done; J+15 would fall on Tuesday 17 Nov, but the customer was written to on 13 Nov
    facts = Progress(date(2026, 11, 2), last_position=1)
    action = step_on(
        DEFAULT_FR, facts, today=date(2026, 11, 13), calendar=FRANCE,
        last_contact=date(2026, 11, 13), min_gap_days=7,
    )
    assert action == NextAction(DEFAULT_FR[2], date(2026, 11, 20))


def test_min_gap_landing_on_a_weekend_moves_to_the_next_business_day() -> None:
    facts = Progress(date(2026, 11, 2), last_position=1)
    action = step_on(
        DEFAULT_FR, facts, today=date(2026, 11, 13), calendar=FRANCE,
        last_contact=date(2026, 11, 14), min_gap_days=7,  # not before Saturday 21 -> Monday 23
    )
    assert action == NextAction(DEFAULT_FR[2], date(2026, 11, 23))


def test_min_gap_does_not_pull_a_step_earlier() -> None:
    facts = Progress(date(2026, 11, 2), last_position=1)
    action = step_on(
        DEFAULT_FR, facts, today=date(2026, 11, 3), calendar=FRANCE,
        last_contact=date(2026, 11, 3), min_gap_days=3,
    )
    assert action == NextAction(DEFAULT_FR[2], date(2026, 11, 17))


def test_pre_due_step_pushed_past_the_due_date_by_the_min_gap_is_dropped() -> None:
    # due Monday 30 Nov; J-7 = 23 Nov, but a message went on 25 Nov and the gap is 7 days -> 2 Dec >= due
    facts = Progress(date(2026, 11, 30))
    action = step_on(
        DEFAULT_FR, facts, today=date(2026, 11, 25), calendar=FRANCE,
        last_contact=date(2026, 11, 25), min_gap_days=7,
    )
    assert action == NextAction(DEFAULT_FR[1], date(2026, 12, 7))


def test_pre_due_step_delayed_by_the_min_gap_but_still_before_due_is_kept() -> None:
    facts = Progress(date(2026, 11, 30))
    action = step_on(
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
    notice = date(2027, 1, 4) if last_position >= 5 else None  # the hand-over needs a formal notice
    facts = Progress(date(2026, 11, 2), last_position=last_position, formal_notice_on=notice)
    action = step_on(DEFAULT_FR, facts, today=date(2026, 11, 3), calendar=FRANCE)
    assert action == NextAction(DEFAULT_FR[position], on)


def test_after_the_last_step_there_is_nothing() -> None:
    facts = Progress(date(2026, 11, 2), last_position=6)
    assert step_on(DEFAULT_FR, facts, today=date(2027, 6, 1), calendar=FRANCE) is None


def test_empty_scenario() -> None:
    assert step_on((), Progress(date(2026, 11, 2)), today=date(2026, 11, 1), calendar=FRANCE) is None


def test_only_a_stale_pre_due_step_left_gives_nothing() -> None:
    steps = (StepSpec(0, -7, Channel.EMAIL),)
    facts = Progress(date(2026, 11, 2))
    assert step_on(steps, facts, today=date(2026, 11, 2), calendar=FRANCE) is None


def test_a_date_in_the_past_is_returned_as_is_for_the_planner_to_catch_up() -> None:
    # J-7 done; the planner did not run for weeks: J+7 (9 Nov) is returned, not moved to today
    facts = Progress(date(2026, 11, 2), last_position=0)
    action = step_on(DEFAULT_FR, facts, today=date(2026, 12, 15), calendar=FRANCE)
    assert action == NextAction(DEFAULT_FR[1], date(2026, 11, 9))


def test_steps_are_taken_by_position_whatever_their_order_in_the_sequence() -> None:
    shuffled = tuple(reversed(DEFAULT_FR))
    facts = Progress(date(2026, 11, 2), last_position=2)
    action = step_on(shuffled, facts, today=date(2026, 11, 20), calendar=FRANCE)
    assert action == NextAction(DEFAULT_FR[3], date(2026, 12, 2))


