"""The pure parts of the inbox (no database): a reply's state machine, the plan of each category's
effect, the invoice numbers a reply quotes, the thread headers of a message."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relance.core.calendar import FRANCE
from relance.core.replies.envelope import read_envelope, tag_of
from relance.core.replies.inbox import (
    TRANSITIONS,
    Action,
    Delays,
    ForbiddenMove,
    ReplyState,
    dispute_reason_code,
    move,
    named_invoices,
    plan_effect,
)

MONDAY = date(2026, 12, 7)


def plan(category: str, *, promised: date | None = None, back: date | None = None,
         named: tuple[str, ...] = ()) -> object:
    return plan_effect(category, received_on=MONDAY, promised_date=promised, return_date=back, named_invoices=named,
                       calendar=FRANCE, delays=Delays())


def test_every_state_is_reachable_and_every_move_names_its_event() -> None:
    reached = {target for (_, target) in TRANSITIONS}
    assert reached == set(ReplyState)
    assert move(ReplyState.TO_REVIEW, ReplyState.APPLIED) == "reply.applied"
    with pytest.raises(ForbiddenMove, match="« traitée » ne peut pas passer à « classée sans suite »"):
        move(ReplyState.APPLIED, ReplyState.DISMISSED)
    with pytest.raises(ForbiddenMove):
        move(ReplyState.TO_ATTACH, ReplyState.APPLIED)  # never applied before a person attached it


def test_the_plan_of_each_category() -> None:
    paid = plan("deja_paye")
    assert paid.action is Action.PAUSE_PAID and paid.pause_until == date(2026, 12, 14)  # 5 business days
    assert plan("non_recu").pause_until == date(2026, 12, 17)
    assert plan("litige", named=("F-1",)).invoice_numbers == ("F-1",) and not plan("litige", named=("F-1",)).needs_person
    assert plan("litige").needs_person  # no invoice named: all of them, to confirm
    assert plan("promesse", promised=date(2026, 12, 15)).promised_on == date(2026, 12, 15)
    assert plan("promesse").needs_person and plan("promesse", promised=date(2026, 12, 1)).needs_person
    assert plan("echeancier").pause_until == date(2026, 12, 21)
    assert plan("absence", back=date(2026, 12, 14)).pause_until == date(2026, 12, 14)
    assert plan("absence").action is Action.NOTHING and not plan("absence").needs_person
    assert plan("mauvais_contact").action is Action.CONTACT
    assert plan("autre").needs_person


def test_paid_claims_wait_business_days_over_a_holiday() -> None:
    before_christmas = plan_effect("deja_paye", received_on=date(2026, 12, 23), promised_date=None, return_date=None,
                                   named_invoices=(), calendar=FRANCE)
    assert before_christmas.pause_until == date(2026, 12, 31)  # 24, 28, 29, 30, 31: the 25th is a holiday


@given(st.lists(st.from_regex(r"F-20[0-9]{2}-[0-9]{3,4}", fullmatch=True), min_size=1, max_size=6, unique=True),
       st.data())
def test_named_invoices_are_whole_numbers_quoted(numbers: list[str], data: st.DataObject) -> None:
    quoted = data.draw(st.lists(st.sampled_from(numbers), unique=True))
    text = "Bonjour, les factures " + ", ".join(quoted) + " sont contestées."
    found = named_invoices(text, numbers)
    assert set(found) == set(quoted)
    assert named_invoices(text + "0", [n + "0" for n in numbers if n not in quoted]) == ()


def test_a_longer_number_is_not_a_shorter_one() -> None:
    assert named_invoices("la facture F2026-0145 est fausse", ["F2026-014", "F2026-0145"]) == ("F2026-0145",)
    assert named_invoices("facture 12 et 123", ["12", "123", "1"]) == ("12", "123")


def test_the_dispute_reason_follows_the_words() -> None:
    assert dispute_reason_code(["la livraison était abîmée"]) == "prestation_contestee"
    assert dispute_reason_code(["le montant ne correspond pas au devis"]) == "montant_conteste"
    assert dispute_reason_code(["je conteste"]) == "autre"


def test_the_envelope_of_a_reply() -> None:
    raw = (b"From: =?utf-8?q?Claire_B=C3=A9ranger?= <Claire@Exemple.FR>\r\n"
           b"To: Recouvrement <recouvrement+3f2a9c0d1e2b4a5c@atelier.fr>, autre@x.fr\r\n"
           b"Cc: compta@atelier.fr\r\nDelivered-To: recouvrement@atelier.fr\r\n"
           b"Message-ID: <abc@exemple.fr>\r\nIn-Reply-To: <relance.aaaa.bbbb@atelier.fr>\r\n"
           b"References: <first@x> <relance.aaaa.bbbb@atelier.fr>\r\n"
           b"Date: Mon, 07 Dec 2026 10:15:00 +0100\r\n\r\nbody")
    envelope = read_envelope(raw)
    assert envelope.message_id == "abc@exemple.fr"
    assert envelope.answers == ("relance.aaaa.bbbb@atelier.fr", "first@x")
    assert envelope.sender == "claire@exemple.fr" and envelope.sender_name == "Claire Béranger"
    assert "recouvrement+3f2a9c0d1e2b4a5c@atelier.fr" in envelope.recipients
    assert envelope.date == datetime(2026, 12, 7, 9, 15, tzinfo=UTC)
    assert tag_of("recouvrement+3f2a9c0d1e2b4a5c@atelier.fr", "recouvrement", "+") == "3f2a9c0d1e2b4a5c"
    assert tag_of("recouvrement@atelier.fr", "recouvrement", "+") == ""
    assert tag_of("autre+x@atelier.fr", "recouvrement", "+") == ""


@given(st.binary(max_size=2000))
def test_the_envelope_of_any_bytes_never_raises(raw: bytes) -> None:
    envelope = read_envelope(raw)
    assert len(envelope.sender) <= 254 and all(len(a) <= 254 for a in envelope.recipients)
