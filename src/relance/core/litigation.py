"""Litigation cases (*contentieux*) as an explicit state machine (pure, no Django).

When the scenario's last step hands invoices over to litigation, the planner opens a case
(``litigation.services.open_cases``): its own record, with the invoices, what they owed on
that day and, for each, the formal notice sent by registered letter and its proof of
delivery. A person then hands the case to whoever pursues it (lawyer, commissaire de justice,
collection agency) or files the *requête en injonction de payer* themselves (C. proc. civ.
1405 to 1425); the judge's order is issued, then served on the debtor by a commissaire de
justice (1411), and the case closes with an outcome:

=================  ==================================  ==============================
from               to                                  event
=================  ==================================  ==============================
opened             filed (« transmis »)                ``litigation.filed``
opened, filed      request_filed (« requête déposée ») ``litigation.request_filed``
request_filed      order_issued (« ordonnance rendue ») ``litigation.order_issued``
order_issued       served (« ordonnance signifiée »)   ``litigation.served``
any live state     closed (« clôturé »)                ``litigation.closed``
=================  ==================================  ==============================

A closed case carries its outcome: paid (« payé », also reached by itself when a payment
settles the last invoice of a live case), settled, judgment, irrecoverable (« irrécouvrable »:
the invoices are written off, see ``litigation.writeoffs``), abandoned, other.

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
    REQUEST_FILED = "request_filed"
    ORDER_ISSUED = "order_issued"
    SERVED = "served"
    CLOSED = "closed"


class Outcome(StrEnum):
    PAID = "paid"
    SETTLED = "settled"
    JUDGMENT = "judgment"
    IRRECOVERABLE = "irrecoverable"
    ABANDONED = "abandoned"
    OTHER = "other"


#: The state a case starts in, and the events of its creation and of invoices joining it.
INITIAL = State.OPENED
OPENED_EVENT = "litigation.opened"
INVOICES_ADDED_EVENT = "litigation.invoices_added"

#: (from, to) -> event kind. Anything absent is forbidden.
TRANSITIONS: dict[tuple[str, str], str] = {
    (State.OPENED, State.FILED): "litigation.filed",
    (State.OPENED, State.REQUEST_FILED): "litigation.request_filed",
    (State.FILED, State.REQUEST_FILED): "litigation.request_filed",
    (State.REQUEST_FILED, State.ORDER_ISSUED): "litigation.order_issued",
    (State.ORDER_ISSUED, State.SERVED): "litigation.served",
    **{(s, State.CLOSED): "litigation.closed"
       for s in (State.OPENED, State.FILED, State.REQUEST_FILED, State.ORDER_ISSUED, State.SERVED)},
}

#: States in which a case holds its invoices: an invoice is never in two such cases.
LIVE_STATES = frozenset({State.OPENED, State.FILED, State.REQUEST_FILED, State.ORDER_ISSUED, State.SERVED})

#: The order of the list: open cases first, then along the procedure, then closed.
STATE_ORDER: tuple[State, ...] = (State.OPENED, State.FILED, State.REQUEST_FILED, State.ORDER_ISSUED,
                                  State.SERVED, State.CLOSED)

STATE_LABELS: dict[str, str] = {State.OPENED: "ouvert", State.FILED: "transmis",
                                State.REQUEST_FILED: "requête déposée", State.ORDER_ISSUED: "ordonnance rendue",
                                State.SERVED: "ordonnance signifiée", State.CLOSED: "clôturé"}

#: The procedural steps after the hand-over: the date field each one fills on the case, and
#: what the date is called in a message.
STEP_DATES: dict[str, tuple[str, str]] = {
    State.REQUEST_FILED: ("request_filed_on", "de dépôt de la requête"),
    State.ORDER_ISSUED: ("order_issued_on", "de l’ordonnance"),
    State.SERVED: ("served_on", "de signification"),
}

#: What a person does next, by state (shown on the case page and in the list).
NEXT_ACTIONS: dict[str, str] = {
    State.OPENED: "Produire le dossier de recouvrement et la requête, puis transmettre le dossier ou déposer "
                  "la requête au greffe.",
    State.FILED: "Suivre le dossier auprès de son destinataire ; enregistrer le dépôt de la requête.",
    State.REQUEST_FILED: "Attendre l’ordonnance du juge (C. proc. civ. art. 1409) ; l’enregistrer à réception.",
    State.ORDER_ISSUED: "Faire signifier l’ordonnance par un commissaire de justice dans les six mois de sa date "
                        "(C. proc. civ. art. 1411).",
    State.SERVED: "Sans opposition dans le mois de la signification (art. 1416), l’ordonnance, déjà revêtue de la "
                  "formule exécutoire, peut être exécutée par un commissaire de justice.",
    State.CLOSED: "",
}

OUTCOME_LABELS: dict[str, str] = {
    Outcome.PAID: "Payé",
    Outcome.SETTLED: "Accord amiable",
    Outcome.JUDGMENT: "Décision obtenue",
    Outcome.IRRECOVERABLE: "Irrécouvrable",
    Outcome.ABANDONED: "Abandonné",
    Outcome.OTHER: "Autre",
}

#: Outcomes after which the case's invoices still open are never chased again.
GIVES_UP = frozenset({Outcome.ABANDONED, Outcome.IRRECOVERABLE})


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


def validate_step(target: str, on: date, opened_on: date, today: date, previous_on: date | None) -> None:
    """A procedural step (request filed, order issued, order served) happens on a day between
    the previous step (or the opening) and today."""
    _field, what = STEP_DATES[target]
    _check_day(on, opened_on, today, what)
    if previous_on is not None and on < previous_on:
        raise CaseInputError(f"La date {what} ({long_date(on)}) précède l’étape précédente du dossier "
                             f"({long_date(previous_on)}).")
