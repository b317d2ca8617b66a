"""Payer profiles: a customer's payment history over the last twelve months, and the ordered
rules that turn it into a profile (« bon payeur », « payeur lent », « payeur à risque »),
each profile choosing a dunning scenario. Pure: no Django, no database.

The figures (``PaymentHistory``), for the window ``]day − 12 months, day]``:

* an invoice **counts** when it was settled inside the window (paid early, on time or late),
  or when it is still unpaid at ``day`` and past its due date (however old: an old unpaid
  invoice says a lot about a payer). Invoices cancelled by a credit note never count; an
  unpaid invoice not yet due does not count yet (nothing is known of how it will be paid);
* its **days late**: settlement date − due date for a settled invoice (0 if paid on time),
  ``day`` − due date for an unpaid one (the lateness so far);
* **average days late** = total days late / counted invoices (rounded to 0.1 day);
* **share late** = counted invoices with at least one day late / counted invoices, in [0, 1]
  (rounded to 0.01);
* **reminders per invoice** = reminders sent about the counted invoices after their due date
  (a courtesy notice before the due date is not a reminder "needed") / counted invoices
  (rounded to 0.01);
* **outstanding** = what the customer still owes today, all open invoices.

The rules compare the rounded figures, the ones shown to the collector: what is shown is what
was decided on. A rule's conditions are all optional; a rule without any matches everyone.
Rules are tried in order (position); the first whose conditions all hold wins.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from .policy import Channel, DefaultStep, StepSpec

ZERO = Decimal(0)
ONE_DAY = Decimal("0.1")
HUNDREDTH = Decimal("0.01")


def window_start(day: date) -> date:
    """The day twelve months before ``day`` (excluded from the window): 29 February → 28 February."""
    year = day.year - 1
    return date(year, day.month, min(day.day, calendar.monthrange(year, day.month)[1]))


@dataclass(frozen=True)
class InvoiceRecord:
    """What the figures need to know of one invoice."""

    due_date: date
    settled_on: date | None = None  # None: not settled (still open)
    amount_due: Decimal = ZERO  # what remains due today
    reminders: int = 0  # reminders sent about it after its due date
    credited: bool = False  # cancelled by a credit note

    def days_late(self, day: date) -> int | None:
        """Days late as seen at ``day``, or ``None`` when the invoice does not count."""
        if self.credited:
            return None
        if self.settled_on is not None and self.settled_on <= day:
            if self.settled_on <= window_start(day):
                return None  # settled before the window
            return max(0, (self.settled_on - self.due_date).days)
        if self.due_date >= day:
            return None  # not yet due: nothing to say about it yet
        return (day - self.due_date).days


@dataclass(frozen=True)
class Tally:
    """The sums the figures come from (what a database computes with one aggregate query)."""

    invoices: int = 0
    late_invoices: int = 0
    days_late: int = 0
    reminders: int = 0
    outstanding: Decimal = ZERO


def tally(records: Iterable[InvoiceRecord], day: date) -> Tally:
    invoices = late = days = reminders = 0
    outstanding = ZERO
    for record in records:
        if not record.credited:
            outstanding += record.amount_due
        late_days = record.days_late(day)
        if late_days is None:
            continue
        invoices += 1
        days += late_days
        late += late_days > 0
        reminders += record.reminders
    return Tally(invoices, late, days, reminders, outstanding)


def _ratio(numerator: int, denominator: int, quantum: Decimal) -> Decimal:
    if denominator == 0:
        return ZERO.quantize(quantum)
    return (Decimal(numerator) / Decimal(denominator)).quantize(quantum, ROUND_HALF_UP)


@dataclass(frozen=True)
class PaymentHistory:
    """A customer's payment figures over the twelve months ending at ``day``."""

    day: date
    invoices: int
    late_invoices: int
    average_days_late: Decimal
    share_late: Decimal
    reminders_per_invoice: Decimal
    outstanding: Decimal

    @classmethod
    def of(cls, sums: Tally, day: date) -> PaymentHistory:
        return cls(
            day=day,
            invoices=sums.invoices,
            late_invoices=sums.late_invoices,
            average_days_late=_ratio(sums.days_late, sums.invoices, ONE_DAY),
            share_late=_ratio(sums.late_invoices, sums.invoices, HUNDREDTH),
            reminders_per_invoice=_ratio(sums.reminders, sums.invoices, HUNDREDTH),
            outstanding=sums.outstanding,
        )

    @property
    def since(self) -> date:
        return window_start(self.day)

    def as_dict(self) -> dict[str, str | int]:
        """Plain data (decimals as strings), for events and pages."""
        return {
            "day": self.day.isoformat(),
            "since": self.since.isoformat(),
            "invoices": self.invoices,
            "late_invoices": self.late_invoices,
            "average_days_late": str(self.average_days_late),
            "share_late": str(self.share_late),
            "reminders_per_invoice": str(self.reminders_per_invoice),
            "outstanding": str(self.outstanding),
        }


def payment_history(records: Iterable[InvoiceRecord], day: date) -> PaymentHistory:
    return PaymentHistory.of(tally(records, day), day)


class Audience(StrEnum):
    ALL = "all"
    BUSINESS = "business"
    CONSUMER = "consumer"


@dataclass(frozen=True)
class Rule:
    """The conditions of one profile. ``None`` means "no condition"."""

    position: int
    name: str
    audience: str = Audience.ALL
    min_invoices: int | None = None
    min_outstanding: Decimal | None = None
    max_outstanding: Decimal | None = None
    max_average_days_late: Decimal | None = None
    max_share_late: Decimal | None = None
    max_reminders_per_invoice: Decimal | None = None
    key: int | None = None  # the stored profile's id, when there is one

    def matches(self, is_business: bool, history: PaymentHistory) -> bool:
        if self.audience == Audience.BUSINESS and not is_business:
            return False
        if self.audience == Audience.CONSUMER and is_business:
            return False
        return not (
            (self.min_invoices is not None and history.invoices < self.min_invoices)
            or (self.min_outstanding is not None and history.outstanding < self.min_outstanding)
            or (self.max_outstanding is not None and history.outstanding > self.max_outstanding)
            or (self.max_average_days_late is not None and history.average_days_late > self.max_average_days_late)
            or (self.max_share_late is not None and history.share_late > self.max_share_late)
            or (self.max_reminders_per_invoice is not None
                and history.reminders_per_invoice > self.max_reminders_per_invoice)
        )


def choose(rules: Sequence[Rule], is_business: bool, history: PaymentHistory) -> Rule | None:
    """The first rule, in position order, whose conditions all hold; ``None`` if none does."""
    for rule in sorted(rules, key=lambda r: r.position):
        if rule.matches(is_business, history):
            return rule
    return None


# --- The profiles and scenarios installed by default ---------------------------------------

class ScenarioKind(StrEnum):
    GENTLE = "gentle"
    STANDARD = "standard"
    FIRM = "firm"


GENTLE_SCENARIO_NAME = "Relance douce"
FIRM_SCENARIO_NAME = "Relance ferme"

#: For good payers: nothing before the due date, a first courteous reminder once a late payment
#: is no longer a matter of a bank delay (J+10), the second with the legal reminders at J+25, the
#: last one with a call at J+40, the formal notice by registered letter at J+55 (8-day deadline),
#: then the hand-over at J+90. Five steps instead of seven, no registered letter before J+45.
#: A message keeps the firmness (tone) it has in the standard scenario: the translation of an
#: invoice's progress from one scenario to another (``carried_position``) relies on it.
GENTLE_SCENARIO: tuple[DefaultStep, ...] = (
    DefaultStep(StepSpec(0, 10, Channel.EMAIL, 2), "relance_1", "Rappel courtois", True),
    DefaultStep(StepSpec(1, 25, Channel.EMAIL, 3), "relance_2", "Deuxième relance", True),
    DefaultStep(StepSpec(2, 40, Channel.EMAIL, 4, call_task=True), "relance_3", "Dernière relance et appel", True),
    DefaultStep(StepSpec(3, 55, Channel.REGISTERED_LETTER, 5), "mise_en_demeure", "Mise en demeure (LRAR)"),
    DefaultStep(StepSpec(4, 90, Channel.LITIGATION, 5), "contentieux", "Transmission au contentieux"),
)

#: For risky payers: a notice three days before the due date, a reminder the day after it, the
#: penalties stated at J+8, the last reminder with a call at J+12 (it announces the formal notice
#: within eight days), the formal notice by registered letter at J+20, the hand-over at J+35.
FIRM_SCENARIO: tuple[DefaultStep, ...] = (
    DefaultStep(StepSpec(0, -3, Channel.EMAIL, 1), "avant_echeance", "Rappel avant échéance"),
    DefaultStep(StepSpec(1, 1, Channel.EMAIL, 2), "relance_1", "Première relance", True),
    DefaultStep(StepSpec(2, 8, Channel.EMAIL, 3), "relance_2", "Deuxième relance", True),
    DefaultStep(StepSpec(3, 12, Channel.EMAIL, 4, call_task=True), "relance_3", "Dernière relance et appel", True),
    DefaultStep(StepSpec(4, 20, Channel.REGISTERED_LETTER, 5), "mise_en_demeure", "Mise en demeure (LRAR)"),
    DefaultStep(StepSpec(5, 35, Channel.LITIGATION, 5), "contentieux", "Transmission au contentieux"),
)


@dataclass(frozen=True)
class DefaultProfile:
    rule: Rule
    scenario: ScenarioKind
    description: str


#: Ordered: the first that matches wins. A customer without enough history is not a « bon payeur »
#: yet: the standard scenario applies until three invoices have been paid or are late.
DEFAULT_PROFILES: tuple[DefaultProfile, ...] = (
    DefaultProfile(
        Rule(10, "Bon payeur", min_invoices=3, max_average_days_late=Decimal(5), max_share_late=Decimal("0.20"),
             max_reminders_per_invoice=Decimal("0.25")),
        ScenarioKind.GENTLE,
        "Au moins trois factures sur douze mois, cinq jours de retard en moyenne au plus, "
        "une facture sur cinq au plus réglée en retard, une relance pour quatre factures au plus.",
    ),
    DefaultProfile(
        Rule(20, "Payeur lent", max_average_days_late=Decimal(30), max_reminders_per_invoice=Decimal("2.5")),
        ScenarioKind.STANDARD,
        "Trente jours de retard en moyenne au plus et deux relances et demie par facture au plus ; "
        "aussi les clients sans historique suffisant.",
    ),
    DefaultProfile(
        Rule(30, "Payeur à risque"),
        ScenarioKind.FIRM,
        "Tous les autres : plus de trente jours de retard en moyenne, ou plus de deux relances et demie "
        "par facture.",
    ),
)


def carried_position(old: Sequence[StepSpec], last_position: int, new: Sequence[StepSpec]) -> int:
    """An invoice's last step done, translated from one scenario to another.

    Positions mean nothing across scenarios (step 4 is a letter in one, the hand-over to
    litigation in another). A step of the new scenario counts as done when the old one already
    went as far: a notice before the due date covers the new notices before the due date; a step
    after it is covered by a step done of the same firmness (tone) or firmer. The hand-over to
    litigation is covered only by a hand-over. Steps are taken in order and never skipped: the
    first step not covered stops the count. Within the same steps, nothing is translated.
    """
    if list(old) == list(new):
        return last_position
    done = [s for s in old if s.position <= last_position]
    if not done:
        return -1
    after_due = [s for s in done if not s.before_due]
    firmest = max((s.tone for s in after_due), default=None)
    handed_over = any(s.channel == Channel.LITIGATION for s in done)
    result = -1
    for step in sorted(new, key=lambda s: s.position):
        if step.before_due:
            covered = True
        elif step.channel == Channel.LITIGATION:
            covered = handed_over
        else:
            covered = firmest is not None and step.tone <= firmest
        if not covered:
            break
        result = step.position
    return result
