"""The escalation rules (``core.escalation``): examples from issue #10, then properties over
random scenarios, histories and days, checked with the audit (``core.escalation_audit``)."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from relance.core.calendar import FRANCE
from relance.core.escalation import (
    Progress,
    Rules,
    Stage,
    group_due,
    next_step,
    passed_over,
    rank,
    received,
    scenario_problems,
    spacing,
    stage,
)
from relance.core.escalation_audit import Delivery, audit, states_business_law
from relance.core.policy import DEFAULT_FRENCH_SCENARIO, Channel, NextAction, StepSpec
from relance.core.profiles import FIRM_SCENARIO, GENTLE_SCENARIO, carried_position

STANDARD = [d.spec for d in DEFAULT_FRENCH_SCENARIO]
GENTLE = [d.spec for d in GENTLE_SCENARIO]
FIRM = [d.spec for d in FIRM_SCENARIO]
GAP = Rules(min_gap_days=5)


def walk(steps: list[StepSpec], progress: Progress, start: date, end: date, rules: Rules = GAP,
         ) -> list[tuple[date, StepSpec]]:
    """Every step the invoice receives, running the rules every day from ``start`` to ``end``."""
    out = []
    day = start
    while day <= end:
        action = next_step(steps, progress, day, FRANCE, rules, progress.last_step_on)
        if action is not None and action.on <= day:
            out.append((day, action.step))
            progress = received(progress, action.step, day)
        day += timedelta(days=1)
    return out


# --- examples ---------------------------------------------------------------------------------

def test_the_shipped_scenarios_are_sound() -> None:
    for steps in (STANDARD, GENTLE, FIRM):
        assert scenario_problems(steps) == []
    assert [stage(s) for s in STANDARD] == [Stage.BEFORE_DUE] + [Stage.REMINDER] * 4 + [Stage.FORMAL_NOTICE,
                                                                                         Stage.LITIGATION]


def test_an_invoice_walks_the_standard_scenario_once_in_order() -> None:
    due = date(2026, 9, 30)
    got = walk(STANDARD, Progress(due), date(2026, 9, 1), date(2027, 3, 1))
    assert [s.position for _, s in got] == [0, 1, 2, 3, 4, 5, 6]
    days = {s.position: d for d, s in got}
    assert days[1] >= due + timedelta(days=7) and days[5] >= due + timedelta(days=60)
    # the hand-over waits for the formal notice's deadline: posted, presumed received 3 days later, 8 days
    assert days[6] > days[5] + timedelta(days=3 + 8)


def test_a_late_import_starts_at_the_first_reminder_and_keeps_the_scenario_rhythm() -> None:
    """FA-2026-000194 of the issue: never reminded, it may not get the last reminder at J+3."""
    due = date(2026, 6, 1)
    imported = due + timedelta(days=50)
    got = walk(STANDARD, Progress(due), imported, imported + timedelta(days=200))
    assert [s.position for _, s in got] == [1, 2, 3, 4, 5, 6]
    assert got[0][0] == FRANCE.on_or_after(imported)
    for (d1, s1), (d2, s2) in itertools.pairwise(got):
        if stage(s2) != Stage.LITIGATION:
            assert (d2 - d1).days >= s2.offset_days - s1.offset_days  # the scenario's own gap


def test_late_entry_step_is_configurable_but_never_a_formal_notice() -> None:
    due = date(2026, 6, 1)
    rules = Rules(min_gap_days=5, entry_position=2)  # late invoices start at the second reminder
    action = next_step(STANDARD, Progress(due), due + timedelta(days=40), FRANCE, rules)
    assert action is not None and action.step.position == 2
    # an invoice not late for it starts at the first reminder as usual
    action = next_step(STANDARD, Progress(due), due + timedelta(days=3), FRANCE, rules)
    assert action is not None and action.step.position == 1
    assert scenario_problems(STANDARD, entry_position=5)  # the formal notice cannot be an entry


def test_one_formal_notice_and_no_hand_over_without_one() -> None:
    due = date(2026, 6, 1)
    # a formal notice received in another scenario, carried to position 3 of this one
    noticed = Progress(due, last_position=3, reached=rank(STANDARD[5]), last_step_on=date(2026, 8, 1), reminders=4,
                       formal_notice_on=date(2026, 8, 1))
    action = next_step(STANDARD, noticed, date(2026, 9, 1), FRANCE, GAP)
    # the letter is softer than the notice received, a second notice is never automatic: the hand-over
    assert action is not None and action.step.position == 6
    unnoticed = Progress(due, last_position=5, reached=rank(STANDARD[4]), last_step_on=date(2026, 8, 1), reminders=4)
    assert next_step(STANDARD, unnoticed, date(2026, 9, 1), FRANCE, GAP) is None


def test_the_advice_of_delivery_moves_the_hand_over() -> None:
    due = date(2026, 6, 1)
    sent = date(2026, 8, 3)
    progress = received(Progress(due, last_position=4, reached=rank(STANDARD[4]), last_step_on=date(2026, 7, 20),
                                 reminders=4), STANDARD[5], sent)
    presumed = next_step(STANDARD, progress, sent, FRANCE, GAP)
    late_receipt = next_step(STANDARD, Progress(**{**progress.__dict__, "notice_received_on": date(2026, 8, 20)}),
                             sent, FRANCE, GAP)
    assert presumed is not None and late_receipt is not None
    # J+75, the scenario's 15 days after the notice, and the notice's deadline (posted + 3 + 8 days)
    assert presumed.on == FRANCE.on_or_after(max(due + timedelta(days=75), sent + timedelta(days=15),
                                                 sent + timedelta(days=3 + 8 + 1)))
    assert late_receipt.on == FRANCE.on_or_after(date(2026, 8, 29))


def test_a_switch_to_a_gentler_scenario_never_sends_something_softer() -> None:
    due = date(2026, 6, 1)
    firm = Progress(due)
    for position, day in ((1, date(2026, 6, 2)), (2, date(2026, 6, 10)), (3, date(2026, 6, 15))):
        firm = received(firm, FIRM[position], day)
    position = carried_position(FIRM, firm.last_position, GENTLE)
    moved = Progress(**{**firm.__dict__, "last_position": position})
    action = next_step(GENTLE, moved, date(2026, 6, 20), FRANCE, GAP)
    assert action is not None and rank(action.step) >= firm.reached
    assert action.step.formal_notice  # the gentle scenario's next firmer step is its formal notice


def test_a_passed_over_step_is_not_received() -> None:
    progress = passed_over(Progress(date(2026, 6, 1)), STANDARD[1])
    assert progress.last_position == 1 and progress.reminders == 0 and progress.reached == -1


def test_one_group_per_step() -> None:
    day = date(2026, 11, 23)
    actions = {"A": NextAction(STANDARD[2], day), "B": NextAction(STANDARD[5], day - timedelta(days=3)),
               "C": NextAction(STANDARD[2], day), "D": NextAction(STANDARD[1], day + timedelta(days=2)), "E": None}
    groups = group_due(actions, day)
    assert [(g.step.position, sorted(g.keys)) for g in groups] == [(2, ["A", "C"]), (5, ["B"])]


def test_scenario_problems() -> None:
    softer = [StepSpec(0, 7, Channel.EMAIL, 3), StepSpec(1, 15, Channel.EMAIL, 2)]
    assert any("moins ferme" in p for p in scenario_problems(softer))
    two_notices = [StepSpec(0, 7, Channel.REGISTERED_LETTER, 5), StepSpec(1, 15, Channel.REGISTERED_LETTER, 5)]
    assert any("qu’une mise en demeure" in p for p in scenario_problems(two_notices))
    bare_handover = [StepSpec(0, 7, Channel.EMAIL, 2), StepSpec(1, 30, Channel.LITIGATION, 5)]
    assert any("suivre une mise en demeure" in p for p in scenario_problems(bare_handover))
    assert spacing(STANDARD, STANDARD[1], 5) == 5 and spacing(STANDARD, STANDARD[3], 5) == 15


def test_business_law_is_spotted_in_french_and_english() -> None:
    assert states_business_law("article L441-10 du Code de commerce")
    assert states_business_law("une indemnité forfaitaire de 40 €")
    assert states_business_law("a flat-rate fee of €40")
    assert not states_business_law("intérêts au taux légal (article 1231-6 du Code civil) : 140,00 €")


# --- properties ---------------------------------------------------------------------------------

@st.composite
def scenarios(draw: st.DrawFn) -> list[StepSpec]:
    """Sound scenarios: pre-due notices, reminders getting firmer, maybe a notice and a hand-over."""
    before = draw(st.lists(st.integers(-20, -1), max_size=2, unique=True))
    after = draw(st.lists(st.integers(0, 90), min_size=1, max_size=5, unique=True))
    tones = sorted(draw(st.lists(st.integers(1, 5), min_size=len(after), max_size=len(after))))
    steps = [StepSpec(i, o, Channel.EMAIL, 1) for i, o in enumerate(sorted(before))]
    for offset, tone in zip(sorted(after), tones, strict=True):
        steps.append(StepSpec(len(steps), offset, draw(st.sampled_from([Channel.EMAIL, Channel.LETTER])), tone))
    last = steps[-1].offset_days
    if draw(st.booleans()):
        steps.append(StepSpec(len(steps), last + draw(st.integers(1, 30)), Channel.REGISTERED_LETTER, 5))
        if draw(st.booleans()):
            steps.append(StepSpec(len(steps), steps[-1].offset_days + draw(st.integers(1, 30)), Channel.LITIGATION, 5))
    return steps


@settings(max_examples=300, deadline=None)
@given(scenarios(), st.dates(date(2026, 1, 1), date(2027, 6, 1)), st.integers(-40, 120), st.integers(0, 10),
       st.sets(st.integers(0, 200), max_size=40), st.integers(0, 3))
def test_any_history_obeys_the_rules(steps: list[StepSpec], due: date, imported_at: int, gap: int,
                                     idle_days: set[int], entry: int) -> None:
    """An invoice imported at any time, a planner that misses random days: every step received
    passes the audit (forward, once, on time, nothing skipped)."""
    assert scenario_problems(steps) == []
    reminders = [s for s in steps if stage(s) == Stage.REMINDER]
    rules = Rules(min_gap_days=gap, entry_position=reminders[min(entry, len(reminders) - 1)].position)
    progress = Progress(due)
    start = due + timedelta(days=imported_at)
    deliveries = []
    for n in range(260):
        day = start + timedelta(days=n)
        if n in idle_days:
            continue  # the planner did not run
        action = next_step(steps, progress, day, FRANCE, rules, progress.last_step_on)
        if action is None or action.on > day:
            continue
        step = action.step
        deliveries.append(Delivery("F", day, str(n), stage(step), rank(step), due, step.offset_days,
                                   spacing(steps, step, gap), claimed_prior=progress.reminders))
        progress = received(progress, step, day)
    assert audit(deliveries) == []
    positions = [int(d.message) for d in deliveries]
    assert positions == sorted(positions)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([STANDARD, GENTLE, FIRM]), st.sampled_from([STANDARD, GENTLE, FIRM]), st.integers(1, 5),
       st.integers(0, 80))
def test_a_scenario_switch_keeps_the_history(old: list[StepSpec], new: list[StepSpec], done: int, later: int) -> None:
    """Whatever was received in one scenario, the next step in another is at least as firm,
    never a second notice, never a hand-over without a notice."""
    due = date(2026, 3, 2)
    progress = Progress(due)
    day = due
    for step in sorted(old, key=lambda s: s.position)[:done]:
        day = max(day, due + timedelta(days=step.offset_days)) + timedelta(days=1)
        progress = received(progress, step, day)
    moved = Progress(**{**progress.__dict__, "last_position": carried_position(old, progress.last_position, new)})
    action = next_step(new, moved, day + timedelta(days=later), FRANCE, GAP, day)
    if action is None:
        return
    assert rank(action.step) >= progress.reached
    if action.step.formal_notice:
        assert progress.formal_notice_on is None
    if stage(action.step) == Stage.LITIGATION:
        assert progress.formal_notice_on is not None


def test_the_audit_catches_each_rule() -> None:
    due = date(2026, 6, 1)
    r1, r3, notice, handover = STANDARD[1], STANDARD[3], STANDARD[5], STANDARD[6]

    def d(day: int, step: StepSpec, **kw: object) -> Delivery:
        return Delivery("F", due + timedelta(days=day), f"m{day}", stage(step), rank(step), due, step.offset_days,
                        spacing(STANDARD, step, 5), **kw)  # type: ignore[arg-type]

    rules = {v.rule for v in audit([d(60, notice), d(61, notice)])}
    assert {2, 3, 4} <= rules  # twice, too soon, and a formal notice as the first step
    assert [v.rule for v in audit([d(7, r1), d(35, r3, claimed_prior=2)])] == [5]
    assert [v.rule for v in audit([d(7, r3)])] == [3]  # J+7 for a J+30 step
    assert [v.rule for v in audit([d(30, r3), d(40, r1)])] == [1]  # softer than what was received
    assert [v.rule for v in audit([d(7, r1), d(31, STANDARD[2])])] == []
    assert [v.rule for v in audit([d(7, r1), d(20, STANDARD[2]), d(30, r3)])] == [3]  # 10 days after, 15 needed
    assert [v.rule for v in audit([d(7, r1), d(80, handover)])] == [4]
    assert [v.rule for v in audit([d(7, r1), d(60, notice), d(75, handover)])] == []
    assert [v.rule for v in audit([d(7, r1), d(70, notice), d(78, handover)])] == [3]  # the deadline runs to 81
    assert [v.rule for v in audit([d(7, r1, consumer=True, business_law=True)])] == [5]
    assert audit([d(7, r1), d(60, notice), d(90, notice, reissue=True)]) == []
