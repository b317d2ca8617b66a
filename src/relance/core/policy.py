"""Dunning policy: which scenario step comes next for an invoice, and when.

A scenario is an ordered list of steps, each with an offset in days from the due
date (negative = before it). The rules, all pure:

* steps are taken in order, never skipped, except the steps *before* the due date
  (negative offset), which lose their point once the due date is reached and are
  dropped from then on;
* a step falls on ``due_date + offset``, moved to the next business day, and never
  earlier than ``last_contact + min_gap`` (the minimum gap between two messages to
  the same customer);
* a date in the past means "due now": the planner selects ``next_action_date <= today``,
  so a day the planner did not run is caught up, never lost.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from .calendar import BusinessCalendar


class Channel(StrEnum):
    EMAIL = "email"
    LETTER = "letter"
    REGISTERED_LETTER = "registered_letter"
    PHONE = "phone"
    LITIGATION = "litigation"


#: The template of the formal notice (*mise en demeure*).
FORMAL_NOTICE_TEMPLATE = "mise_en_demeure"

#: Channels that produce a document to post (PDF).
POSTAL_CHANNELS = frozenset({Channel.LETTER, Channel.REGISTERED_LETTER})


@dataclass(frozen=True)
class StepSpec:
    position: int
    offset_days: int
    channel: str
    tone: int = 1
    call_task: bool = False
    template: str = ""

    @property
    def before_due(self) -> bool:
        return self.offset_days < 0

    @property
    def formal_notice(self) -> bool:
        """A formal notice (*mise en demeure*): the registered letter, or the step written with the
        formal notice's template."""
        return self.channel == Channel.REGISTERED_LETTER or self.template == FORMAL_NOTICE_TEMPLATE


@dataclass(frozen=True)
class InvoiceFacts:
    due_date: date
    last_position: int = -1  # position of the last step done, -1 if none


@dataclass(frozen=True)
class NextAction:
    step: StepSpec
    on: date


@dataclass(frozen=True)
class DefaultStep:
    spec: StepSpec
    template: str
    label: str
    attach_invoices: bool = False


#: The default French scenario, drawn from common practice (issue #2): courteous reminder at J−7,
#: first reminder J+7 (« sauf erreur ou omission »), firmer J+15 stating penalties and the 40 €
#: indemnity, J+30 with a phone call, letter J+45, formal notice by registered letter J+60
#: (8-day deadline), hand-over to litigation J+75.
DEFAULT_FRENCH_SCENARIO: tuple[DefaultStep, ...] = (
    DefaultStep(StepSpec(0, -7, Channel.EMAIL, 1), "avant_echeance", "Rappel avant échéance"),
    DefaultStep(StepSpec(1, 7, Channel.EMAIL, 2), "relance_1", "Première relance", True),
    DefaultStep(StepSpec(2, 15, Channel.EMAIL, 3), "relance_2", "Deuxième relance", True),
    DefaultStep(StepSpec(3, 30, Channel.EMAIL, 4, call_task=True), "relance_3", "Troisième relance et appel", True),
    DefaultStep(StepSpec(4, 45, Channel.LETTER, 4), "courrier", "Lettre de relance"),
    DefaultStep(StepSpec(5, 60, Channel.REGISTERED_LETTER, 5), "mise_en_demeure", "Mise en demeure (LRAR)"),
    DefaultStep(StepSpec(6, 75, Channel.LITIGATION, 5), "contentieux", "Transmission au contentieux"),
)


def scheduled_date(
    step: StepSpec,
    due_date: date,
    calendar: BusinessCalendar,
    not_before: date | None = None,
) -> date:
    day = due_date + timedelta(days=step.offset_days)
    if not_before is not None and day < not_before:
        day = not_before
    return calendar.on_or_after(day)


def next_action(
    steps: Sequence[StepSpec],
    facts: InvoiceFacts,
    today: date,
    calendar: BusinessCalendar,
    last_contact: date | None = None,
    min_gap_days: int = 0,
) -> NextAction | None:
    """The next step for an invoice and the business day it falls on, or ``None``."""
    not_before = last_contact + timedelta(days=min_gap_days) if last_contact else None
    for step in sorted(steps, key=lambda s: s.position):
        if step.position <= facts.last_position:
            continue
        on = scheduled_date(step, facts.due_date, calendar, not_before)
        if step.before_due and (today >= facts.due_date or on >= facts.due_date):
            continue  # a "before the due date" message makes no sense any more
        return NextAction(step, on)
    return None


def reminder_key(organisation_id: int, customer_id: int, position: int, planned_for: date) -> str:
    """Idempotency key of a planned reminder: one per customer, step and day.

    It also seeds the e-mail Message-ID, so that a receiving server can spot a
    duplicate even if one were ever produced.
    """
    raw = f"relance:{organisation_id}:{customer_id}:{position}:{planned_for.isoformat()}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def thanks_key(organisation_id: int, invoice_id: int) -> str:
    raw = f"relance:thanks:{organisation_id}:{invoice_id}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]
