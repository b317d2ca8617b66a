"""Holds on the dunning sequence, as explicit state machines (pure, no Django).

Five machines, one per kind of object that stops reminders; each allowed transition has
exactly one event kind, and any other transition raises :class:`ForbiddenTransition`
(the service layer turns it into ``relance.errors.Conflict``):

=========  ======================================  =========================================
machine    states                                  transitions (event)
=========  ======================================  =========================================
promise    active → kept | broken | cancelled      promise.kept, promise.broken,
                                                   promise.cancelled (replaced, or by a plan)
dispute    active → resolved | credited |          dispute.resolved (the sequence resumes),
           written_off                             dispute.credited (credit note recorded),
                                                   dispute.written_off (never chased again)
pause      active → lifted | expired               pause.lifted (by hand), pause.expired
                                                   (its date passed, seen by the daily run)
stop       active → lifted                         stop.lifted
plan       proposed → active | cancelled;          plan.accepted, plan.cancelled,
           active → completed | broken |           plan.completed, plan.broken
           cancelled
cover      active → ended                          the per-invoice rows that a promise or an
                                                   active plan puts on each covered invoice;
                                                   they end with their promise or plan (its
                                                   event says so)
=========  ======================================  =========================================

Creating an object is not a transition but leaves an event too (:data:`CREATED_EVENTS`).

Grace periods (documented choices):

* a promise pauses the covered invoices until the promised date plus
  :data:`PROMISE_GRACE_BUSINESS_DAYS` business days (a transfer ordered on the promised date
  takes one or two business days to arrive, and bank statements are imported with a lag);
  the first daily run after that decides *kept* or *broken*;
* a payment plan's grace is in ``core.plans``.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from .calendar import BusinessCalendar
from .formatting import long_date, money

#: Business days after the promised date during which the covered invoices stay paused.
PROMISE_GRACE_BUSINESS_DAYS = 3


class Machine(StrEnum):
    PROMISE = "promise"
    DISPUTE = "dispute"
    PAUSE = "pause"
    STOP = "stop"
    PLAN = "plan"
    COVER = "cover"


class State(StrEnum):
    """Every state of every machine (the models store these values)."""

    ACTIVE = "active"
    KEPT = "kept"
    BROKEN = "broken"
    CANCELLED = "cancelled"
    RESOLVED = "resolved"
    CREDITED = "credited"
    WRITTEN_OFF = "written_off"
    LIFTED = "lifted"
    EXPIRED = "expired"
    ENDED = "ended"
    PROPOSED = "proposed"
    COMPLETED = "completed"


S = State

#: (machine, from, to) -> event kind. Anything absent is forbidden.
TRANSITIONS: dict[tuple[str, str, str], str] = {
    (Machine.PROMISE, S.ACTIVE, S.KEPT): "promise.kept",
    (Machine.PROMISE, S.ACTIVE, S.BROKEN): "promise.broken",
    (Machine.PROMISE, S.ACTIVE, S.CANCELLED): "promise.cancelled",
    (Machine.DISPUTE, S.ACTIVE, S.RESOLVED): "dispute.resolved",
    (Machine.DISPUTE, S.ACTIVE, S.CREDITED): "dispute.credited",
    (Machine.DISPUTE, S.ACTIVE, S.WRITTEN_OFF): "dispute.written_off",
    (Machine.PAUSE, S.ACTIVE, S.LIFTED): "pause.lifted",
    (Machine.PAUSE, S.ACTIVE, S.EXPIRED): "pause.expired",
    (Machine.STOP, S.ACTIVE, S.LIFTED): "stop.lifted",
    (Machine.PLAN, S.PROPOSED, S.ACTIVE): "plan.accepted",
    (Machine.PLAN, S.PROPOSED, S.CANCELLED): "plan.cancelled",
    (Machine.PLAN, S.ACTIVE, S.COMPLETED): "plan.completed",
    (Machine.PLAN, S.ACTIVE, S.BROKEN): "plan.broken",
    (Machine.PLAN, S.ACTIVE, S.CANCELLED): "plan.cancelled",
    (Machine.COVER, S.ACTIVE, S.ENDED): "hold.ended",
}

#: The state each machine starts in, and the event its creation leaves.
INITIAL: dict[str, str] = {
    Machine.PROMISE: S.ACTIVE, Machine.DISPUTE: S.ACTIVE, Machine.PAUSE: S.ACTIVE, Machine.STOP: S.ACTIVE,
    Machine.PLAN: S.PROPOSED, Machine.COVER: S.ACTIVE,
}
CREATED_EVENTS: dict[str, str] = {
    Machine.PROMISE: "promise.recorded", Machine.DISPUTE: "dispute.opened", Machine.PAUSE: "pause.started",
    Machine.STOP: "stop.started", Machine.PLAN: "plan.proposed", Machine.COVER: "hold.created",
}

MACHINE_LABELS: dict[str, str] = {
    Machine.PROMISE: "promesse de règlement", Machine.DISPUTE: "litige", Machine.PAUSE: "pause",
    Machine.STOP: "arrêt des relances", Machine.PLAN: "échéancier", Machine.COVER: "suspension",
}

#: French label of each state, per machine (grammatical gender follows the noun).
STATE_LABELS: dict[str, dict[str, str]] = {
    Machine.PROMISE: {S.ACTIVE: "en cours", S.KEPT: "tenue", S.BROKEN: "non tenue", S.CANCELLED: "annulée"},
    Machine.DISPUTE: {S.ACTIVE: "ouvert", S.RESOLVED: "résolu", S.CREDITED: "réglé par avoir",
                      S.WRITTEN_OFF: "passé en perte"},
    Machine.PAUSE: {S.ACTIVE: "en cours", S.LIFTED: "levée", S.EXPIRED: "échue"},
    Machine.STOP: {S.ACTIVE: "en vigueur", S.LIFTED: "levé"},
    Machine.PLAN: {S.PROPOSED: "proposé", S.ACTIVE: "en cours", S.COMPLETED: "soldé", S.BROKEN: "rompu",
                   S.CANCELLED: "annulé"},
    Machine.COVER: {S.ACTIVE: "active", S.ENDED: "terminée"},
}


class ForbiddenTransition(ValueError):
    """A transition the machine does not allow; the message says which, in French."""

    def __init__(self, machine: str, source: str, target: str):
        self.machine, self.source, self.target = machine, source, target
        labels = STATE_LABELS.get(machine, {})
        what = MACHINE_LABELS.get(machine, machine)
        allowed = sorted(labels.get(t, t) for t in allowed_targets(machine, source))
        then = f" (depuis « {labels.get(source, source)} » : {', '.join(f'« {a} »' for a in allowed)})" if allowed \
            else f" : « {labels.get(source, source)} » est un état final"
        self.message = (f"Transition impossible pour {_article(what)} : "
                        f"« {labels.get(source, source)} » → « {labels.get(target, target)} »{then}.")
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


def _article(noun: str) -> str:
    feminine = noun.startswith(("promesse", "pause", "suspension"))
    if noun[:1] in "aeiouéè":
        return f"l’{noun}"
    return f"la {noun}" if feminine else f"le {noun}"


def allowed_targets(machine: str, source: str) -> frozenset[str]:
    return frozenset(t for (m, s, t) in TRANSITIONS if m == machine and s == source)


def is_final(machine: str, state: str) -> bool:
    return not allowed_targets(machine, state)


def transition(machine: str, source: str, target: str) -> str:
    """The event kind of ``source -> target``; :class:`ForbiddenTransition` if not allowed."""
    try:
        return TRANSITIONS[(machine, source, target)]
    except KeyError:
        raise ForbiddenTransition(machine, source, target) from None


def state_label(machine: str, state: str) -> str:
    return STATE_LABELS.get(machine, {}).get(state, state)


# ------------------------------------------------------------------------------------------
# Promises
# ------------------------------------------------------------------------------------------


def add_business_days(calendar: BusinessCalendar, day: date, count: int) -> date:
    """``day`` plus ``count`` business days (``count`` = 0: ``day`` itself)."""
    for _ in range(count):
        day = calendar.on_or_after(day + timedelta(days=1))
    return day


def promise_grace_end(promised_on: date, calendar: BusinessCalendar,
                      grace: int = PROMISE_GRACE_BUSINESS_DAYS) -> date:
    """The last day the covered invoices stay paused."""
    return add_business_days(calendar, promised_on, grace)


class PromiseVerdict(StrEnum):
    PENDING = "pending"
    KEPT = "kept"
    BROKEN = "broken"


def promise_verdict(promised: Decimal, received: Decimal, all_settled: bool, today: date,
                    grace_end: date) -> PromiseVerdict:
    """Kept as soon as the promised amount has come in on the covered invoices (or they are
    all settled); broken on the first day after the grace period without it."""
    if all_settled or received >= promised:
        return PromiseVerdict.KEPT
    if today > grace_end:
        return PromiseVerdict.BROKEN
    return PromiseVerdict.PENDING


def promise_broken_key(organisation_id: int, promise_id: int) -> str:
    """Idempotency key of the one « promesse non tenue » message of a promise."""
    raw = f"relance:promise_broken:{organisation_id}:{promise_id}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


class PromiseInputError(ValueError):
    """A promise that cannot be recorded; the message says why, in French."""


def validate_promise(promised_on: date, amount: Decimal, covered_due: Decimal, today: date,
                     currency: str = "EUR") -> None:
    """A promise date in the past, a non-positive amount, or one above what the covered
    invoices still owe is refused with :class:`PromiseInputError`."""
    if promised_on < today:
        raise PromiseInputError(
            f"La date promise ({long_date(promised_on)}) est déjà passée : indiquez la date à laquelle le client "
            "s’engage à régler, aujourd’hui ou plus tard.")
    if amount <= 0:
        raise PromiseInputError("Le montant promis doit être positif.")
    if amount != amount.quantize(Decimal("0.01")):
        raise PromiseInputError("Le montant promis a plus de deux décimales.")
    if amount > covered_due:
        raise PromiseInputError(
            f"Le montant promis ({money(amount, currency)}) dépasse le reste dû des factures concernées "
            f"({money(covered_due, currency)}).")
