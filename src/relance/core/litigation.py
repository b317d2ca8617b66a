"""Litigation cases (*contentieux*) as an explicit state machine (pure, no Django).

When the scenario's last step hands invoices over to litigation, the planner opens a case
(``litigation.services.open_cases``): its own record, with the invoices, what they owed on
that day and, for each, the formal notice sent by registered letter and its proof of
delivery. A person then hands the case to whoever pursues it (lawyer, bailiff, collection
agency) and, in the end, closes it with an outcome:

=========  ==========================  =====================
from       to                          event
=========  ==========================  =====================
opened     filed (« transmis »)        ``litigation.filed``
opened     closed (« clôturé »)        ``litigation.closed``
filed      closed                      ``litigation.closed``
=========  ==========================  =====================

Anything else raises :class:`ForbiddenTransition` (the service layer turns it into
``relance.errors.Conflict``). Opening a case is not a transition but leaves an event too
(:data:`OPENED_EVENT`); invoices joining a case opened the same day leave
:data:`INVOICES_ADDED_EVENT`.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from .formatting import long_date


class State(StrEnum):
    OPENED = "opened"
    FILED = "filed"
    CLOSED = "closed"


class Outcome(StrEnum):
    PAID = "paid"
    SETTLED = "settled"
    JUDGMENT = "judgment"
    ABANDONED = "abandoned"
    OTHER = "other"


#: The state a case starts in, and the events of its creation and of invoices joining it.
INITIAL = State.OPENED
OPENED_EVENT = "litigation.opened"
INVOICES_ADDED_EVENT = "litigation.invoices_added"

#: (from, to) -> event kind. Anything absent is forbidden.
TRANSITIONS: dict[tuple[str, str], str] = {
    (State.OPENED, State.FILED): "litigation.filed",
    (State.OPENED, State.CLOSED): "litigation.closed",
    (State.FILED, State.CLOSED): "litigation.closed",
}

#: States in which a case holds its invoices: an invoice is never in two such cases.
LIVE_STATES = frozenset({State.OPENED, State.FILED})

#: The order of the list: open cases first, then filed, then closed.
STATE_ORDER: tuple[State, ...] = (State.OPENED, State.FILED, State.CLOSED)

STATE_LABELS: dict[str, str] = {State.OPENED: "ouvert", State.FILED: "transmis", State.CLOSED: "clôturé"}

OUTCOME_LABELS: dict[str, str] = {
    Outcome.PAID: "Payé",
    Outcome.SETTLED: "Accord amiable",
    Outcome.JUDGMENT: "Décision obtenue",
    Outcome.ABANDONED: "Abandonné",
    Outcome.OTHER: "Autre",
}

#: Outcomes after which the case's invoices still open are never chased again.
GIVES_UP = frozenset({Outcome.ABANDONED})


class ForbiddenTransition(ValueError):
    """A transition the machine does not allow; the message says which, in French."""

    def __init__(self, source: str, target: str):
        self.source, self.target = source, target
        allowed = sorted(STATE_LABELS.get(t, t) for t in allowed_targets(source))
        then = (f" (depuis « {state_label(source)} » : {', '.join(f'« {a} »' for a in allowed)})" if allowed
                else f" : « {state_label(source)} » est un état final")
        self.message = (f"Transition impossible pour le dossier de contentieux : "
                        f"« {state_label(source)} » → « {state_label(target)} »{then}.")
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class CaseInputError(ValueError):
    """A filing or a closing that cannot be recorded; the message says why, in French."""


def allowed_targets(source: str) -> frozenset[str]:
    return frozenset(t for (s, t) in TRANSITIONS if s == source)


def is_final(state: str) -> bool:
    return not allowed_targets(state)


def transition(source: str, target: str) -> str:
    """The event kind of ``source -> target``; :class:`ForbiddenTransition` if not allowed."""
    try:
        return TRANSITIONS[(source, target)]
    except KeyError:
        raise ForbiddenTransition(source, target) from None


def state_label(state: str) -> str:
    return STATE_LABELS.get(state, state)


def _check_day(on: date, opened_on: date, today: date, what: str, filed_on: date | None = None) -> None:
    if on > today:
        raise CaseInputError(f"La date {what} ({long_date(on)}) est dans le futur.")
    if on < opened_on:
        raise CaseInputError(f"La date {what} ({long_date(on)}) précède l’ouverture du dossier "
                             f"({long_date(opened_on)}).")
    if filed_on is not None and on < filed_on:
        raise CaseInputError(f"La date {what} ({long_date(on)}) précède la transmission du dossier "
                             f"({long_date(filed_on)}).")


def validate_filing(on: date, opened_on: date, today: date, handled_by: str) -> None:
    """A case is handed to someone (lawyer, bailiff, collection agency), on a day between its
    opening and today."""
    if not handled_by.strip():
        raise CaseInputError("Indiquez à qui le dossier est transmis (avocat, commissaire de justice, "
                             "société de recouvrement…).")
    _check_day(on, opened_on, today, "de transmission")


def validate_closing(outcome: str, on: date, opened_on: date, today: date, note: str,
                     filed_on: date | None = None) -> Outcome:
    """A case closes with one of :class:`Outcome`, on a day between its opening (or filing)
    and today; « Autre » needs a note saying what happened."""
    try:
        chosen = Outcome(outcome)
    except ValueError:
        expected = ", ".join(f"{o.value} (« {OUTCOME_LABELS[o]} »)" for o in Outcome)
        raise CaseInputError(f"Issue inconnue : « {outcome} » (attendu : {expected}).") from None
    if chosen == Outcome.OTHER and not note.strip():
        raise CaseInputError("Issue « Autre » : précisez-la dans la note.")
    _check_day(on, opened_on, today, "de clôture", filed_on)
    return chosen
