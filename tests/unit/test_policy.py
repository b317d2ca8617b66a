"""Dunning policy: which step comes next, and on which business day."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from relance.core.policy import (
    DEFAULT_FRENCH_SCENARIO,
    POSTAL_CHANNELS,
    Channel,
    StepSpec,
    reminder_key,
    thanks_key,
)

# The default French scenario (J = due date).
DEFAULT_FR = tuple(d.spec for d in DEFAULT_FRENCH_SCENARIO)  # the scenario that ships


def test_default_scenario_shape() -> None:
    assert [(s.position, s.offset_days, s.channel) for s in DEFAULT_FR] == [
        (0, -7, "email"),
        (1, 7, "email"),
        (2, 15, "email"),
        (3, 30, "email"),
        (4, 45, "letter"),
        (5, 60, "registered_letter"),
        (6, 75, "litigation"),
    ]
    assert [s.tone for s in DEFAULT_FR] == [1, 2, 3, 4, 4, 5, 5]  # firmer as it goes
    templates = [d.template for d in DEFAULT_FRENCH_SCENARIO]
    assert templates == ["avant_echeance", "relance_1", "relance_2", "relance_3", "courrier", "mise_en_demeure",
                         "contentieux"]
    assert [d.attach_invoices for d in DEFAULT_FRENCH_SCENARIO] == [False, True, True, True, False, False, False]
    assert [s.call_task for s in DEFAULT_FR] == [False, False, False, True, False, False, False]
    assert [s.before_due for s in DEFAULT_FR] == [True] + [False] * 6
    assert [s.channel in POSTAL_CHANNELS for s in DEFAULT_FR] == [False] * 4 + [True, True, False]


def test_step_before_due_is_strictly_negative_offset() -> None:
    assert StepSpec(0, -1, Channel.EMAIL).before_due
    assert not StepSpec(0, 0, Channel.EMAIL).before_due


def test_channel_values() -> None:
    assert [c.value for c in Channel] == ["email", "letter", "registered_letter", "phone", "litigation"]
    assert POSTAL_CHANNELS == {Channel.LETTER, Channel.REGISTERED_LETTER}


# --- idempotency keys ---------------------------------------------------------------------


def test_reminder_key_is_deterministic_and_short() -> None:
    key = reminder_key(1, 42, 3, date(2026, 12, 2))
    assert key == reminder_key(1, 42, 3, date(2026, 12, 2))
    assert len(key) == 32
    assert all(c in "0123456789abcdef" for c in key)


def test_reminder_key_known_value() -> None:
    import hashlib

    expected = hashlib.sha256(b"relance:1:42:3:2026-12-02").hexdigest()[:32]
    assert reminder_key(1, 42, 3, date(2026, 12, 2)) == expected


key_inputs = st.tuples(
    st.integers(1, 10**6), st.integers(1, 10**6), st.integers(0, 50),
    st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
)


@given(key_inputs, key_inputs)
def test_property_reminder_key_differs_when_any_input_differs(a: tuple, b: tuple) -> None:
    if a == b:
        assert reminder_key(*a) == reminder_key(*b)
    else:
        assert reminder_key(*a) != reminder_key(*b)


@given(key_inputs, st.integers(0, 3))
def test_property_reminder_key_changes_with_each_single_input(a: tuple, which: int) -> None:
    changed = list(a)
    changed[which] = changed[which] + (timedelta(days=1) if which == 3 else 1)
    assert reminder_key(*a) != reminder_key(*changed)


def test_reminder_key_is_not_ambiguous_across_fields() -> None:
    # separators keep (1, 12, ...) and (11, 2, ...) apart
    assert reminder_key(1, 12, 3, date(2026, 1, 1)) != reminder_key(11, 2, 3, date(2026, 1, 1))


def test_thanks_key() -> None:
    assert thanks_key(1, 7) == thanks_key(1, 7)
    assert thanks_key(1, 7) != thanks_key(1, 8)
    assert thanks_key(1, 7) != thanks_key(2, 7)
    assert len(thanks_key(1, 7)) == 32
    assert thanks_key(1, 7) != reminder_key(1, 7, 0, date(2026, 1, 1))
