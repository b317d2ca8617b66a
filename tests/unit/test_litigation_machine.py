"""The litigation case machine (core.litigation): every transition allowed and forbidden, and
the checks of a filing and a closing."""

from __future__ import annotations

from datetime import date
from itertools import product

import pytest

from relance.core.litigation import (
    GIVES_UP,
    INITIAL,
    LIVE_STATES,
    OPENED_EVENT,
    OUTCOME_LABELS,
    STATE_ORDER,
    TRANSITIONS,
    CaseInputError,
    ForbiddenTransition,
    Outcome,
    State,
    allowed_targets,
    is_final,
    state_label,
    transition,
    validate_closing,
    validate_filing,
    validate_step,
)

EXPECTED = {
    ("opened", "filed"): "litigation.filed",
    ("opened", "request_filed"): "litigation.request_filed",
    ("filed", "request_filed"): "litigation.request_filed",
    ("request_filed", "order_issued"): "litigation.order_issued",
    ("order_issued", "served"): "litigation.served",
    ("opened", "closed"): "litigation.closed",
    ("filed", "closed"): "litigation.closed",
    ("request_filed", "closed"): "litigation.closed",
    ("order_issued", "closed"): "litigation.closed",
    ("served", "closed"): "litigation.closed",
}
FORBIDDEN = [(s.value, t.value) for s, t in product(State, State) if (s.value, t.value) not in EXPECTED]

OPENED, FILED, TODAY = date(2026, 11, 2), date(2026, 11, 10), date(2026, 11, 23)


def test_the_table_is_exactly_the_documented_one() -> None:
    assert {(str(s), str(t)): e for (s, t), e in TRANSITIONS.items()} == EXPECTED
    assert INITIAL == State.OPENED and OPENED_EVENT == "litigation.opened"


@pytest.mark.parametrize(("source", "target"), sorted(EXPECTED))
def test_allowed_transitions_name_their_event(source: str, target: str) -> None:
    assert transition(source, target) == EXPECTED[(source, target)]


@pytest.mark.parametrize(("source", "target"), FORBIDDEN)
def test_every_other_transition_is_refused_in_french(source: str, target: str) -> None:
    with pytest.raises(ForbiddenTransition) as caught:
        transition(source, target)
    message = str(caught.value)
    assert message.startswith("Transition impossible pour le dossier de contentieux : ")
    assert f"« {state_label(source)} » → « {state_label(target)} »" in message
    assert "'" not in message  # typographic apostrophes only


def test_closed_is_final_and_the_live_states_hold_invoices() -> None:
    assert is_final(State.CLOSED) and not is_final(State.OPENED) and not is_final(State.FILED)
    assert allowed_targets(State.OPENED) == {State.FILED, State.REQUEST_FILED, State.CLOSED}
    assert allowed_targets(State.FILED) == {State.REQUEST_FILED, State.CLOSED}
    assert allowed_targets(State.SERVED) == {State.CLOSED}
    assert "« clôturé » est un état final" in str(ForbiddenTransition("closed", "filed"))
    assert LIVE_STATES == set(State) - {State.CLOSED}
    assert STATE_ORDER == (State.OPENED, State.FILED, State.REQUEST_FILED, State.ORDER_ISSUED, State.SERVED,
                           State.CLOSED)


def test_outcomes_and_their_labels() -> None:
    assert OUTCOME_LABELS == {"paid": "Payé", "settled": "Accord amiable", "judgment": "Décision obtenue",
                              "irrecoverable": "Irrécouvrable", "abandoned": "Abandonné", "other": "Autre"}
    assert GIVES_UP == {Outcome.ABANDONED, Outcome.IRRECOVERABLE}


def test_a_procedural_step_falls_between_the_previous_one_and_today() -> None:
    validate_step(State.REQUEST_FILED, FILED, OPENED, TODAY, None)
    validate_step(State.ORDER_ISSUED, TODAY, OPENED, TODAY, FILED)
    with pytest.raises(CaseInputError, match=r"de l’ordonnance .* précède l’étape précédente"):
        validate_step(State.ORDER_ISSUED, date(2026, 11, 5), OPENED, TODAY, FILED)
    with pytest.raises(CaseInputError, match=r"de signification .* dans le futur"):
        validate_step(State.SERVED, date(2026, 11, 30), OPENED, TODAY, FILED)
    with pytest.raises(CaseInputError, match="précède l’ouverture"):
        validate_step(State.REQUEST_FILED, date(2026, 10, 1), OPENED, TODAY, None)


def test_a_filing_names_who_and_a_day_between_opening_and_today() -> None:
    validate_filing(FILED, OPENED, TODAY, "Maître Durand")
    validate_filing(OPENED, OPENED, TODAY, "Maître Durand")
    validate_filing(TODAY, OPENED, TODAY, "Maître Durand")
    with pytest.raises(CaseInputError, match="à qui le dossier est transmis"):
        validate_filing(FILED, OPENED, TODAY, "  ")
    with pytest.raises(CaseInputError, match="précède l’ouverture du dossier"):
        validate_filing(date(2026, 11, 1), OPENED, TODAY, "Maître Durand")
    with pytest.raises(CaseInputError, match="dans le futur"):
        validate_filing(date(2026, 11, 24), OPENED, TODAY, "Maître Durand")


def test_a_closing_has_a_known_outcome_and_a_day_after_the_filing() -> None:
    assert validate_closing("paid", TODAY, OPENED, TODAY, "", FILED) == Outcome.PAID
    assert validate_closing("abandoned", OPENED, OPENED, TODAY, "") == Outcome.ABANDONED
    with pytest.raises(CaseInputError, match=r"Issue inconnue : « gagné » \(attendu : paid \(« Payé »\)"):
        validate_closing("gagné", TODAY, OPENED, TODAY, "")
    with pytest.raises(CaseInputError, match="précisez-la dans la note"):
        validate_closing("other", TODAY, OPENED, TODAY, " ")
    assert validate_closing("other", TODAY, OPENED, TODAY, "Débiteur introuvable") == Outcome.OTHER
    with pytest.raises(CaseInputError, match="précède la transmission du dossier"):
        validate_closing("judgment", date(2026, 11, 9), OPENED, TODAY, "", FILED)
    with pytest.raises(CaseInputError, match="dans le futur"):
        validate_closing("paid", date(2026, 12, 1), OPENED, TODAY, "")
