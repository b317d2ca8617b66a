"""Escalation: which step an invoice receives next, and when — the rules a collector can sign.

An invoice walks its customer's scenario forward, once. The facts it carries (:class:`Progress`)
are those of the steps it actually *received* (a message sent about it), not of the steps
planned: a reminder cancelled by a payment or a hold, skipped or failed, changes nothing.

The rules, each an invariant checked on every history (``core.escalation_audit``):

1. **Forward only.** Every step is ranked (:func:`rank`: stage, then tone). An invoice never
   receives a step ranked below the firmest one it already received; after a formal notice,
   nothing softer than a formal notice is sent about it.
2. **Each legal step at most once.** One formal notice (*mise en demeure*, the registered letter
   of C. civ. art. 1344), one hand-over to litigation. A second formal notice is only sent when a
   person asks for it (``dunning.services.escalation.reissue_formal_notice``, evented with a reason).
3. **No step before its time.** A step falls no earlier than ``due date + offset`` in the
   customer's scenario, no earlier than its *spacing* after the invoice's previous step (the
   scenario's own gap between the two steps, at least the organisation's minimum gap), and no
   earlier than the customer's last contact plus the minimum gap. The hand-over to litigation
   waits for the end of the formal notice's deadline: :data:`NOTICE_DEADLINE_DAYS` days from its
   receipt (the deadline our letter grants « à compter de la réception »), the receipt being the
   date on the advice of delivery when it was recorded, else presumed :data:`POSTAL_DAYS` days after
   posting.
4. **No skipped steps.** Steps are taken in order. An invoice that enters the sequence late
   (imported after its due date, or after days the planner did not run, or after a hold) starts at
   the scenario's late-entry step (default: the first step after the due date) — never directly at
   a formal notice or a hand-over. The hand-over only follows a formal notice whose deadline passed.

Steps *before* the due date lose their point once it is reached and are dropped. A step of a
lower rank than the firmest received is *covered* (possible only after the customer moved to
another scenario: ``core.profiles.carried_position`` translates the position, this guard makes
sure nothing softer follows).
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from enum import IntEnum
from typing import Generic, TypeVar

from .calendar import BusinessCalendar
from .policy import Channel, NextAction, StepSpec

#: The deadline a formal notice grants, in days from its receipt (stated in the letter).
NOTICE_DEADLINE_DAYS = 8
#: Presumed days between posting a registered letter and its receipt, while no advice of
#: delivery is recorded (an assumption, not a sourced figure: the recorded date replaces it).
POSTAL_DAYS = 3


class Stage(IntEnum):
    BEFORE_DUE = 0
    REMINDER = 1
    FORMAL_NOTICE = 2
    LITIGATION = 3


def stage(step: StepSpec) -> Stage:
    if step.channel == Channel.LITIGATION:
        return Stage.LITIGATION
    if step.formal_notice:
        return Stage.FORMAL_NOTICE
    if step.before_due:
        return Stage.BEFORE_DUE
    return Stage.REMINDER


def rank(step: StepSpec) -> int:
    """The firmness of a step, comparable across scenarios: its stage, then its tone (1–5)."""
    return int(stage(step)) * 10 + step.tone


@dataclass(frozen=True)
class Rules:
    """A scenario's escalation settings."""

    min_gap_days: int = 0
    #: the step an invoice entering the sequence late starts at (``None``: the first after the due date)
    entry_position: int | None = None
    notice_deadline_days: int = NOTICE_DEADLINE_DAYS
    postal_days: int = POSTAL_DAYS


@dataclass(frozen=True)
class Progress:
    """What an invoice has received so far (scenario-independent, but ``last_position``)."""

    due_date: date
    last_position: int = -1  # position, in the current scenario, of the last step done (-1: none)
    reached: int = -1  # rank of the firmest step received (-1: none)
    last_step_on: date | None = None  # the day the last step was received
    reminders: int = 0  # messages received after the due date (scenario steps)
    formal_notice_on: date | None = None
    notice_received_on: date | None = None  # the advice of delivery of the formal notice

    def notice_deadline(self, rules: Rules) -> date | None:
        """The last day of the formal notice's deadline, or ``None`` without a formal notice."""
        if self.formal_notice_on is None:
            return None
        received = self.notice_received_on or self.formal_notice_on + timedelta(days=rules.postal_days)
        return received + timedelta(days=rules.notice_deadline_days)


def received(progress: Progress, step: StepSpec, on: date) -> Progress:
    """The progress after the invoice received ``step`` on ``on``."""
    kind = stage(step)
    return replace(
        progress,
        last_position=step.position,
        reached=max(progress.reached, rank(step)),
        last_step_on=on,
        reminders=progress.reminders + (kind in (Stage.REMINDER, Stage.FORMAL_NOTICE)),
        formal_notice_on=on if kind == Stage.FORMAL_NOTICE else progress.formal_notice_on,
        notice_received_on=None if kind == Stage.FORMAL_NOTICE else progress.notice_received_on,
    )


def passed_over(progress: Progress, step: StepSpec) -> Progress:
    """The progress after a person chose not to send ``step`` (approval queue « Écarter »): the
    sequence goes on after it, but nothing was received."""
    return replace(progress, last_position=max(progress.last_position, step.position))


def spacing(steps: Sequence[StepSpec], step: StepSpec, min_gap_days: int) -> int:
    """Days the invoice must have had since its previous step before ``step``: the scenario's own
    gap between ``step`` and the after-due step before it, at least the minimum gap and one day."""
    before = [s for s in steps if s.position < step.position and not s.before_due]
    gap = step.offset_days - max(s.offset_days for s in before) if before and not step.before_due else 0
    return max(gap, min_gap_days, 1)


def next_step(
    steps: Sequence[StepSpec],
    progress: Progress,
    today: date,
    calendar: BusinessCalendar,
    rules: Rules = Rules(),
    last_contact: date | None = None,
) -> NextAction | None:
    """The next step the invoice will receive and the business day it falls on, or ``None``
    when its sequence is over (or waits for a person: a hand-over without a formal notice)."""
    ordered = sorted(steps, key=lambda s: s.position)
    due = progress.due_date
    entry = _entry_step(ordered, rules)
    for step in ordered:
        if step.position <= progress.last_position:
            continue
        kind = stage(step)
        if rank(step) < progress.reached:
            continue  # covered by a firmer step received (after a change of scenario)
        if kind == Stage.FORMAL_NOTICE and progress.formal_notice_on is not None:
            continue  # one formal notice per invoice; a second only at a person's request
        if kind == Stage.LITIGATION and progress.formal_notice_on is None:
            return None  # never handed over without a formal notice: a person decides
        if (entry is not None and step.position < entry.position and not step.before_due
                and progress.reminders == 0 and today >= due + timedelta(days=entry.offset_days)):
            continue  # entering late: start at the late-entry step
        day = due + timedelta(days=step.offset_days)
        if progress.last_step_on is not None:
            day = max(day, progress.last_step_on + timedelta(days=spacing(ordered, step, rules.min_gap_days)))
        if last_contact is not None:
            day = max(day, last_contact + timedelta(days=rules.min_gap_days))
        if kind == Stage.LITIGATION:
            deadline = progress.notice_deadline(rules)
            assert deadline is not None
            day = max(day, deadline + timedelta(days=1))
        on = calendar.on_or_after(day)
        if step.before_due and (today >= due or on >= due):
            continue  # a "before the due date" message makes no sense any more
        return NextAction(step, on)
    return None


def _entry_step(ordered: Sequence[StepSpec], rules: Rules) -> StepSpec | None:
    after = [s for s in ordered if not s.before_due and stage(s) == Stage.REMINDER]
    if rules.entry_position is not None:
        chosen = next((s for s in after if s.position == rules.entry_position), None)
        if chosen is not None:
            return chosen
    return after[0] if after else None


# --------------------------------------------------------------------------- grouping

K = TypeVar("K", bound=Hashable)


@dataclass
class Group(Generic[K]):
    """The invoices that receive the same step on the same day: one message (or one case)."""

    step: StepSpec
    on: date
    keys: list[K] = field(default_factory=list)


def group_due(actions: Mapping[K, NextAction | None], day: date) -> list[Group[K]]:
    """One group per step among the actions due on or before ``day``, in step order.

    **Grouping decision**: a customer receives one message per step and day, listing only the
    invoices whose own next step it is. Every sentence of a step's wording (« nos précédentes
    relances », « mise en demeure », the penalties) is then true of every invoice it lists; an
    invoice is never pulled forward to a firmer step than its own to join a message."""
    groups: dict[int, Group[K]] = {}
    for key, action in actions.items():
        if action is None or action.on > day:
            continue
        group = groups.setdefault(action.step.position, Group(action.step, day))
        group.keys.append(key)
    return [groups[p] for p in sorted(groups)]


# --------------------------------------------------------------------------- scenarios

def scenario_problems(steps: Iterable[StepSpec], entry_position: int | None = None) -> list[str]:
    """What makes a scenario unsafe to run, in French (empty when it is sound): steps must get
    firmer as they go, fall later as they go, hold at most one formal notice, and end with the
    hand-over, which needs a formal notice before it."""
    ordered = sorted(steps, key=lambda s: s.position)
    problems: list[str] = []
    for before, after in itertools.pairwise(ordered):
        if after.offset_days <= before.offset_days:
            problems.append(f"l’étape {after.position + 1} doit tomber après l’étape {before.position + 1} "
                            f"(J{after.offset_days:+d} ≤ J{before.offset_days:+d})")
        if rank(after) < rank(before):
            problems.append(f"l’étape {after.position + 1} est moins ferme que l’étape {before.position + 1} : "
                            "une relance ne peut pas être plus douce que la précédente")
    notices = [s for s in ordered if stage(s) == Stage.FORMAL_NOTICE]
    handovers = [s for s in ordered if stage(s) == Stage.LITIGATION]
    if len(notices) > 1:
        problems.append("un scénario ne peut contenir qu’une mise en demeure")
    if len(handovers) > 1:
        problems.append("un scénario ne peut contenir qu’une transmission au contentieux")
    if handovers:
        if handovers[0] is not ordered[-1]:
            problems.append("la transmission au contentieux doit être la dernière étape")
        if not notices or notices[0].position > handovers[0].position:
            problems.append("la transmission au contentieux doit suivre une mise en demeure")
    if any(s.before_due and stage(s) != Stage.BEFORE_DUE for s in ordered):
        problems.append("une mise en demeure ou une transmission au contentieux ne peut pas précéder l’échéance")
    if entry_position is not None:
        entry = next((s for s in ordered if s.position == entry_position), None)
        if entry is None or entry.before_due or stage(entry) != Stage.REMINDER:
            problems.append("l’étape d’entrée des factures en retard doit être une relance après l’échéance, "
                            "ni une mise en demeure ni la transmission au contentieux")
    return problems
