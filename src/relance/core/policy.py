"""Dunning policy: channels, scenario steps, the default French scenario, idempotency keys.

A scenario is an ordered list of steps, each with an offset in days from the due date
(negative = before it), a channel and a tone. Which step comes next for an invoice, and on
which business day, is decided by ``core.escalation.next_step``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from enum import StrEnum


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
