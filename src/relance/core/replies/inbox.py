"""A received message's life in the inbox, and what each category asks of the sequence (issue 15).

Pure: the states and their transitions, and the *plan* of an effect (what to hold, until when,
which task to open). The ``relance.replies`` app carries the plan out and records an event per
transition.

States::

    (received) ──► a_rattacher ──attach──► a_traiter ──confirm──► traitee
                        │                      ▲  │                  │
                        └──────dismiss─────┐   │  └──dismiss──► classee ──reopen──┐
                                           ▼   └──────revert──── traitee          │
                                        classee ◄───────────────────────────────────┘

A reply attached to a customer is *à traiter* while a person has to decide (the sequence is held
meanwhile), *traitée* once its effect is applied (automatically, or confirmed by a person),
*classée* when a person decided it needs nothing. An applied effect can be reverted: the reply is
*à traiter* again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from ..calendar import BusinessCalendar
from ..holds import add_business_days


class ReplyState(StrEnum):
    TO_ATTACH = "a_rattacher"
    TO_REVIEW = "a_traiter"
    APPLIED = "traitee"
    DISMISSED = "classee"


S = ReplyState

#: (from, to) -> event kind; anything absent is forbidden. ``None`` is the reply being stored.
TRANSITIONS: dict[tuple[str | None, str], str] = {
    (None, S.TO_ATTACH): "reply.received",
    (None, S.TO_REVIEW): "reply.received",
    (None, S.APPLIED): "reply.received",
    (S.TO_ATTACH, S.TO_REVIEW): "reply.attached",
    (S.TO_ATTACH, S.DISMISSED): "reply.dismissed",
    (S.TO_REVIEW, S.APPLIED): "reply.applied",
    (S.TO_REVIEW, S.DISMISSED): "reply.dismissed",
    (S.TO_REVIEW, S.TO_REVIEW): "reply.attached",  # attached to another customer
    (S.APPLIED, S.TO_REVIEW): "reply.reverted",
    (S.DISMISSED, S.TO_REVIEW): "reply.reopened",
}

STATE_LABELS: dict[str, str] = {
    S.TO_ATTACH: "à rattacher",
    S.TO_REVIEW: "à traiter",
    S.APPLIED: "traitée",
    S.DISMISSED: "classée sans suite",
}


class ForbiddenMove(ValueError):
    def __init__(self, source: str | None, target: str):
        before = STATE_LABELS.get(source or "", "nouvelle")
        super().__init__(f"Une réponse « {before} » ne peut pas passer à « {STATE_LABELS.get(target, target)} ».")
        self.source, self.target = source, target


def move(source: str | None, target: str) -> str:
    """The event kind of the transition, or :class:`ForbiddenMove`."""
    try:
        return TRANSITIONS[(source, target)]
    except KeyError:
        raise ForbiddenMove(source, target) from None


# ------------------------------------------------------------------------------------------
# Effects
# ------------------------------------------------------------------------------------------


class Action(StrEnum):
    PAUSE_PAID = "pause_paiement"  # deja_paye: wait for the bank statement
    RESEND = "renvoi_facture"  # non_recu: a task to send the invoice again, and a new delay
    DISPUTE = "litige"  # litige: a dispute on the invoices named
    PROMISE = "promesse"  # promesse: a promise hold on the date
    PLAN = "echeancier"  # echeancier: a task to propose a plan, sequence paused
    ABSENT = "absence"  # absence: the next message waits for the return date
    CONTACT = "contact"  # mauvais_contact: a task to update the contact
    NOTHING = "aucune"


CATEGORY_ACTIONS: dict[str, Action] = {
    "deja_paye": Action.PAUSE_PAID,
    "non_recu": Action.RESEND,
    "litige": Action.DISPUTE,
    "promesse": Action.PROMISE,
    "echeancier": Action.PLAN,
    "absence": Action.ABSENT,
    "mauvais_contact": Action.CONTACT,
    "autre": Action.NOTHING,
}

#: the categories whose effect applies without a person by default; the others are proposed
DEFAULT_AUTOMATIC: tuple[str, ...] = ("deja_paye", "promesse", "absence")


@dataclass(frozen=True)
class EffectPlan:
    """What a category asks of the sequence, for one reply.

    ``needs_person``: the effect cannot be applied without a person even when the category is
    automatic (a promise without a date, a dispute naming no invoice: « toutes, à confirmer »),
    and says why in ``why``."""

    action: Action
    pause_until: date | None = None
    promised_on: date | None = None
    invoice_numbers: tuple[str, ...] = ()
    needs_person: bool = False
    why: str = ""


@dataclass(frozen=True)
class Delays:
    """The organisation's settings (``replies.Mailbox``)."""

    paid_wait_business_days: int = 5  # deja_paye: business days left for the transfer to show
    resend_delay_days: int = 10  # non_recu: days left to pay the invoice sent again
    plan_wait_days: int = 14  # echeancier: days the sequence waits for a plan to be proposed


def plan_effect(category: str, *, received_on: date, promised_date: date | None, return_date: date | None,
                named_invoices: tuple[str, ...], calendar: BusinessCalendar, delays: Delays = Delays()) -> EffectPlan:
    """The effect of ``category`` for a reply received on ``received_on``.

    ``named_invoices``: the customer's open invoices whose number the reply quotes."""
    action = CATEGORY_ACTIONS.get(category, Action.NOTHING)
    if action is Action.PAUSE_PAID:
        return EffectPlan(action, pause_until=add_business_days(calendar, received_on,
                                                                max(1, delays.paid_wait_business_days)))
    if action is Action.RESEND:
        return EffectPlan(action, pause_until=received_on + timedelta(days=delays.resend_delay_days),
                          invoice_numbers=named_invoices)
    if action is Action.DISPUTE:
        if not named_invoices:
            return EffectPlan(action, needs_person=True,
                              why="la réponse ne cite aucune facture : le litige porterait sur toutes, à confirmer")
        return EffectPlan(action, invoice_numbers=named_invoices)
    if action is Action.PROMISE:
        if promised_date is None or promised_date < received_on:
            return EffectPlan(action, needs_person=True, why="aucune date de paiement lue dans la réponse")
        return EffectPlan(action, promised_on=promised_date, invoice_numbers=named_invoices)
    if action is Action.PLAN:
        return EffectPlan(action, pause_until=received_on + timedelta(days=delays.plan_wait_days))
    if action is Action.ABSENT:
        if return_date is None or return_date <= received_on:
            return EffectPlan(Action.NOTHING, why="réponse automatique sans date de retour : rien ne change")
        # the date read is sometimes the last day away (« absente jusqu’au 11 inclus »), sometimes the
        # day back (« de retour le 14 »): the pause covers it either way, so that nothing arrives
        # while the reader is away (at worst one day late)
        return EffectPlan(action, pause_until=return_date)
    if action is Action.CONTACT:
        return EffectPlan(action)
    return EffectPlan(Action.NOTHING, needs_person=True, why="réponse à lire")


def named_invoices(text: str, numbers: list[str]) -> tuple[str, ...]:
    """The invoice numbers of ``numbers`` quoted in ``text`` as whole words (« F2026-014 » is not
    found inside « F2026-0145 »), in the order of ``numbers``."""
    found = []
    for number in numbers:
        if number and re.search(rf"(?<![\w-]){re.escape(number)}(?![\w-]|-\w)", text, flags=re.IGNORECASE):
            found.append(number)
    return tuple(found)


_AMOUNT_WORDS = ("montant", "prix", "tva", "tarif", "devis", "factur", "remise", "avoir", "amount", "price", "vat",
                 "overcharg")
_GOODS_WORDS = ("livr", "qualit", "abim", "abîm", "cass", "defect", "défect", "prestation", "marchandise", "colis",
                "travaux", "delivery", "damaged", "quality", "broken", "faulty")


def dispute_reason_code(evidence: tuple[str, ...] | list[str]) -> str:
    """The default dispute reason (``holds.models.DEFAULT_DISPUTE_REASONS``) the evidence of a
    ``litige`` reply points at: the goods or service, the amount, or « autre »."""
    text = " ".join(evidence).lower()
    if any(word in text for word in _GOODS_WORDS):
        return "prestation_contestee"
    if any(word in text for word in _AMOUNT_WORDS):
        return "montant_conteste"
    return "autre"
