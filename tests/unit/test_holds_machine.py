"""The hold state machines (core.holds): every transition allowed and forbidden, and the
promise rules (grace period, verdict, validation)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import product

import pytest

from relance.core.calendar import FRANCE
from relance.core.holds import (
    CREATED_EVENTS,
    INITIAL,
    PROMISE_GRACE_BUSINESS_DAYS,
    STATE_LABELS,
    TRANSITIONS,
    ForbiddenTransition,
    Machine,
    PromiseInputError,
    PromiseVerdict,
    State,
    add_business_days,
    allowed_targets,
    is_final,
    promise_broken_key,
    promise_grace_end,
    promise_verdict,
    state_label,
    transition,
    validate_promise,
)

EXPECTED: dict[tuple[str, str, str], str] = {
    ("promise", "active", "kept"): "promise.kept",
    ("promise", "active", "broken"): "promise.broken",
    ("promise", "active", "cancelled"): "promise.cancelled",
    ("dispute", "active", "resolved"): "dispute.resolved",
    ("dispute", "active", "credited"): "dispute.credited",
    ("dispute", "active", "written_off"): "dispute.written_off",
    ("pause", "active", "lifted"): "pause.lifted",
    ("pause", "active", "expired"): "pause.expired",
    ("stop", "active", "lifted"): "stop.lifted",
    ("plan", "proposed", "active"): "plan.accepted",
    ("plan", "proposed", "cancelled"): "plan.cancelled",
    ("plan", "active", "completed"): "plan.completed",
    ("plan", "active", "broken"): "plan.broken",
    ("plan", "active", "cancelled"): "plan.cancelled",
    ("cover", "active", "ended"): "hold.ended",
}

ALL = [(m.value, s.value, t.value) for m, s, t in product(Machine, State, State)]
FORBIDDEN = [x for x in ALL if x not in EXPECTED]


def test_the_table_is_exactly_the_documented_one() -> None:
    assert {(str(m), str(s), str(t)): e for (m, s, t), e in TRANSITIONS.items()} == EXPECTED


@pytest.mark.parametrize(("machine", "source", "target"), list(EXPECTED), ids=lambda x: str(x))
def test_every_allowed_transition_has_its_event(machine: str, source: str, target: str) -> None:
    assert transition(machine, source, target) == EXPECTED[(machine, source, target)]
    assert target in allowed_targets(machine, source)


@pytest.mark.parametrize(("machine", "source", "target"), FORBIDDEN, ids=lambda x: str(x))
def test_every_other_transition_is_refused(machine: str, source: str, target: str) -> None:
    with pytest.raises(ForbiddenTransition) as caught:
        transition(machine, source, target)
    assert caught.value.machine == machine and (caught.value.source, caught.value.target) == (source, target)
    assert caught.value.message.startswith("Transition impossible pour ")


def test_final_states_cannot_move() -> None:
    finals = {
        Machine.PROMISE: {State.KEPT, State.BROKEN, State.CANCELLED},
        Machine.DISPUTE: {State.RESOLVED, State.CREDITED, State.WRITTEN_OFF},
        Machine.PAUSE: {State.LIFTED, State.EXPIRED},
        Machine.STOP: {State.LIFTED},
        Machine.PLAN: {State.COMPLETED, State.BROKEN, State.CANCELLED},
        Machine.COVER: {State.ENDED},
    }
    for machine, states in finals.items():
        for state in states:
            assert is_final(machine, state), (machine, state)
        assert not is_final(machine, INITIAL[machine])
        assert set(STATE_LABELS[machine]) >= states | {INITIAL[machine]}


def test_the_refusal_says_what_and_why_in_french() -> None:
    with pytest.raises(ForbiddenTransition) as caught:
        transition("promise", "kept", "broken")
    assert str(caught.value) == ("Transition impossible pour la promesse de règlement : « tenue » → « non tenue » : "
                                 "« tenue » est un état final.")
    with pytest.raises(ForbiddenTransition) as caught:
        transition("plan", "proposed", "completed")
    assert str(caught.value) == ("Transition impossible pour l’échéancier : « proposé » → « soldé » "
                                 "(depuis « proposé » : « annulé », « en cours »).")
    with pytest.raises(ForbiddenTransition) as caught:
        transition("dispute", "resolved", "active")
    assert "le litige" in str(caught.value)


def test_each_creation_has_its_event() -> None:
    assert CREATED_EVENTS == {"promise": "promise.recorded", "dispute": "dispute.opened", "pause": "pause.started",
                              "stop": "stop.started", "plan": "plan.proposed", "cover": "hold.created"}
    assert state_label("plan", "broken") == "rompu" and state_label("promise", "broken") == "non tenue"


# ------------------------------------------------------------------------------------------ promises


def test_grace_period_counts_business_days() -> None:
    assert PROMISE_GRACE_BUSINESS_DAYS == 3
    # Friday 20 November 2026 + 3 business days = Wednesday 25
    assert promise_grace_end(date(2026, 11, 20), FRANCE) == date(2026, 11, 25)
    # Wednesday 23 December: 24, (25 holiday, 26-27 weekend), 28, 29
    assert promise_grace_end(date(2026, 12, 23), FRANCE) == date(2026, 12, 29)
    assert add_business_days(FRANCE, date(2026, 11, 20), 0) == date(2026, 11, 20)


@pytest.mark.parametrize(("received", "settled", "today", "verdict"), [
    (Decimal("0"), False, date(2026, 11, 25), PromiseVerdict.PENDING),   # last day of grace
    (Decimal("0"), False, date(2026, 11, 26), PromiseVerdict.BROKEN),
    (Decimal("999.99"), False, date(2026, 11, 26), PromiseVerdict.BROKEN),
    (Decimal("1000"), False, date(2026, 11, 26), PromiseVerdict.KEPT),
    (Decimal("1000"), False, date(2026, 11, 10), PromiseVerdict.KEPT),    # paid early
    (Decimal("0"), True, date(2026, 12, 31), PromiseVerdict.KEPT),        # settled (credit note…)
])
def test_promise_verdict(received: Decimal, settled: bool, today: date, verdict: PromiseVerdict) -> None:
    assert promise_verdict(Decimal("1000"), received, settled, today, date(2026, 11, 25)) == verdict


def test_a_promise_in_the_past_is_refused_with_a_clear_message() -> None:
    with pytest.raises(PromiseInputError) as caught:
        validate_promise(date(2026, 11, 18), Decimal("100"), Decimal("500"), date(2026, 11, 19))
    assert str(caught.value) == ("La date promise (18 novembre 2026) est déjà passée : indiquez la date à laquelle le "
                                 "client s’engage à régler, aujourd’hui ou plus tard.")
    validate_promise(date(2026, 11, 19), Decimal("100"), Decimal("500"), date(2026, 11, 19))  # today is fine


@pytest.mark.parametrize(("amount", "message"), [
    (Decimal("0"), "Le montant promis doit être positif."),
    (Decimal("-5"), "Le montant promis doit être positif."),
    (Decimal("10.005"), "Le montant promis a plus de deux décimales."),
    (Decimal("500.01"), "Le montant promis (500,01\xa0€) dépasse le reste dû des factures concernées (500,00\xa0€)."),
])
def test_bad_promise_amounts(amount: Decimal, message: str) -> None:
    with pytest.raises(PromiseInputError) as caught:
        validate_promise(date(2026, 12, 1), amount, Decimal("500.00"), date(2026, 11, 19))
    assert str(caught.value) == message


def test_promise_key_is_stable_and_distinct() -> None:
    assert promise_broken_key(1, 2) == promise_broken_key(1, 2)
    assert len({promise_broken_key(1, 2), promise_broken_key(1, 3), promise_broken_key(2, 2)}) == 3
    assert len(promise_broken_key(1, 2)) == 32
