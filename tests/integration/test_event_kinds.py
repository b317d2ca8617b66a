"""Typed events (issue 14): every kind of the log is declared once, in ``relance.events.kinds``,
with its label and its constructor; no code writes or reads a kind as a string literal; and a
constructor builds byte for byte the event the literal wrote (its JSON is hashed into the chain)."""

from __future__ import annotations

import ast
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import relance
from relance.core import holds as hold_machine
from relance.core import litigation as case_machine
from relance.core.hashchain import canonical
from relance.core.replies import inbox as reply_machine
from relance.events import kinds
from relance.events.services import NewEvent, _plain
from relance.web.labels import event_label

SRC = Path(relance.__file__).parent
CODE = re.compile(r"^[a-z_]+\.[a-z_]+$")

# ``core`` imports no Django, so not ``events.kinds``: its state machines name the kind each
# transition leaves, and ``test_the_state_machines_leave_known_kinds`` checks every one of them.
CORE_STATE_MACHINES = ("core/holds.py", "core/litigation.py", "core/replies/inbox.py")


def test_every_kind_has_a_label_and_a_constructor() -> None:
    assert len(kinds.KINDS) >= 57
    for code, kind in kinds.KINDS.items():
        assert CODE.match(code), code
        assert kind == code and kind.code == code
        assert str(kind.label) and str(kind.label) != code, code
        assert code in kinds.CONSTRUCTORS, f"{code} has no constructor"
    assert set(kinds.CONSTRUCTORS) == set(kinds.KINDS)


def test_the_pages_read_the_labels_of_kinds_py() -> None:
    assert event_label(kinds.REMINDER_FAILED) == "Échec d’envoi"
    assert event_label("reminder.failed") == str(kinds.REMINDER_FAILED.label)
    assert event_label("something.new") == "something.new"
    for code, kind in kinds.KINDS.items():
        assert event_label(code) == str(kind.label)


def test_the_state_machines_leave_known_kinds() -> None:
    for code in (*hold_machine.TRANSITIONS.values(), *hold_machine.CREATED_EVENTS.values(),
                 *case_machine.TRANSITIONS.values(), case_machine.OPENED_EVENT, case_machine.INVOICES_ADDED_EVENT):
        assert code in kinds.KINDS, code
    for code in hold_machine.TRANSITIONS.values():
        assert kinds.hold_moved(code, customer_id=1).kind == code  # the constructor the holds use
    for code in case_machine.TRANSITIONS.values():
        assert kinds.litigation_moved(code, customer_id=1).kind == code
    for code in reply_machine.TRANSITIONS.values():
        assert code in kinds.KINDS, code
        if code != kinds.REPLY_RECEIVED:
            assert kinds.reply_moved(kinds.known(code), reply=1, customer_id=1, source="a", target="b",
                                     actor="x").kind == code


def _skipped(rel: str) -> bool:
    return rel == "events/kinds.py" or rel in CORE_STATE_MACHINES


def test_no_event_code_is_written_as_a_literal() -> None:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if "migrations" in path.parts or _skipped(rel):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in kinds.KINDS:
                found.append(f"{rel}:{node.lineno} {node.value}")
    assert not found, "use relance.events.kinds:\n" + "\n".join(found)


def test_the_check_sees_a_literal() -> None:
    tree = ast.parse('record_many(org, [NewEvent("reminder.sent", customer_id=1)])')
    assert any(isinstance(n, ast.Constant) and n.value in kinds.KINDS for n in ast.walk(tree))


def test_a_constructor_refuses_a_kind_of_another_family() -> None:
    with pytest.raises(ValueError):
        kinds.reminder_sent(kinds.REMINDER_FAILED, customer_id=1, reminder_id=2, data={})
    with pytest.raises(ValueError):
        kinds.hold_moved(kinds.REMINDER_SENT, customer_id=1)
    with pytest.raises(KeyError):
        kinds.litigation_moved("litigation.unknown", customer_id=1)


# ------------------------------------------------------------------------------------------
# The hash chain: a constructor's event is the literal's, byte for byte
# ------------------------------------------------------------------------------------------

def _hashed(event: NewEvent) -> bytes:
    """What ``record_many`` hashes of an event, but for seq, time and chain (the same for both)."""
    return canonical({"kind": event.kind, "customer": event.customer_id, "invoice": event.invoice_id,
                      "reminder": event.reminder_id, "actor": event.actor, "data": _plain(event.data)})


ON = date(2026, 11, 23)
AT = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
ALLOCATIONS = [{"invoice": "F-2026-0001", "amount": Decimal("120.00")}]

SAME: list[tuple[str, NewEvent, NewEvent]] = [
    ("payment (bank line)",
     kinds.payment_recorded(customer_id=7, reference="VIR-1", date=ON, amount=Decimal("120.00"), method="virement",
                            bank_line=3, allocations=ALLOCATIONS, actor="web:anne"),
     NewEvent("payment.recorded", customer_id=7, actor="web:anne", data={
         "reference": "VIR-1", "date": ON, "amount": Decimal("120.00"), "method": "virement", "bank_line": 3,
         "allocations": ALLOCATIONS})),
    ("reminder planned, awaiting approval",
     kinds.reminder_planned(customer_id=7, reminder_id=9, key="k", step="Relance 1", channel="email",
                            kind="reminder", invoices=["F-1"], total_due=Decimal("10.50"), awaiting_approval=True),
     NewEvent("reminder.planned", customer_id=7, reminder_id=9, data={
         "key": "k", "step": "Relance 1", "channel": "email", "kind": "reminder", "invoices": ["F-1"],
         "total_due": Decimal("10.50"), "awaiting_approval": True})),
    ("reminder planned",
     kinds.reminder_planned(customer_id=7, reminder_id=9, key="k", step="Relance 1", channel="email",
                            kind="reminder", invoices=["F-1"], total_due=Decimal("10.50")),
     NewEvent("reminder.planned", customer_id=7, reminder_id=9, data={
         "key": "k", "step": "Relance 1", "channel": "email", "kind": "reminder", "invoices": ["F-1"],
         "total_due": Decimal("10.50")})),
    ("reminder approved, one",
     kinds.reminder_approved(customer_id=7, reminder_id=9, planned_for=ON, channel="email", edited=False,
                             actor="web:anne"),
     NewEvent("reminder.approved", customer_id=7, reminder_id=9, actor="web:anne",
              data={"planned_for": ON, "channel": "email", "edited": False})),
    ("reminder approved, in bulk",
     kinds.reminder_approved(customer_id=7, reminder_id=9, planned_for=ON, channel="email", edited=True, bulk=True),
     NewEvent("reminder.approved", customer_id=7, reminder_id=9,
              data={"planned_for": ON, "channel": "email", "edited": True, "bulk": True})),
    ("reminder edited back",
     kinds.reminder_edited(customer_id=7, reminder_id=9, previous_body_sha256="ab", reverted=True, actor="web:a"),
     NewEvent("reminder.edited", customer_id=7, reminder_id=9, actor="web:a",
              data={"reverted": True, "previous_body_sha256": "ab"})),
    ("reminder failed, to retry",
     kinds.reminder_failed(kinds.REMINDER_RETRY, customer_id=7, reminder_id=9, error="421", attempt=2,
                           next_attempt_at=AT),
     NewEvent("reminder.retry", customer_id=7, reminder_id=9,
              data={"error": "421", "attempt": 2, "next_attempt_at": AT})),
    ("call after a reminder",
     kinds.call_task_created(customer_id=7, reminder_id=9, due_on=ON),
     NewEvent("call_task.created", customer_id=7, reminder_id=9, data={"due_on": ON})),
    ("invoice imported (FEC, partly paid)",
     kinds.invoice_imported(customer_id=7, invoice_id=11, number="F-1", amount=Decimal("100"), due_date=ON,
                            actor="cli", source="fec", key="VT-12", amount_due=Decimal("40"), status="open",
                            settled_on=None),
     NewEvent("invoice.imported", customer_id=7, invoice_id=11, actor="cli", data={
         "number": "F-1", "amount": Decimal("100"), "due_date": ON, "source": "fec", "key": "VT-12",
         "amount_due": Decimal("40"), "status": "open", "settled_on": None})),
    ("credit note removed by a FEC",
     kinds.accounting_entry(kinds.ACCOUNTING_ENTRIES[("credit_note", "removed")], customer_id=7, reference="AV-1",
                            number="AV-1", amount=Decimal("5"), source="fec", role="lettrage", actor="cli",
                            reason="plus soldée dans la comptabilité"),
     NewEvent("credit_note.removed", customer_id=7, actor="cli", data={
         "reference": "AV-1", "number": "AV-1", "amount": Decimal("5"), "source": "fec", "role": "lettrage",
         "reason": "plus soldée dans la comptabilité"})),
    ("member's role",
     kinds.member_role_changed(user="anne", from_="collector", to="admin", actor="web:bob"),
     NewEvent("member.role_changed", actor="web:bob", data={"user": "anne", "from": "collector", "to": "admin"})),
    ("digest uncertain",
     kinds.digest(kinds.DIGEST_UNCERTAIN, data={"day": "2026-11-23", "message_id": "<m@x>"}, error=None),
     NewEvent("digest.uncertain", data={"day": "2026-11-23", "message_id": "<m@x>", "error": None})),
    ("bank line to review",
     kinds.bank_line_unmatched(kinds.BANK_LINE_TO_REVIEW, line={"line": 3, "amount": Decimal("9")}, reason="?",
                               candidates=[], actor="cli"),
     NewEvent("bank_line.to_review", actor="cli",
              data={"line": 3, "amount": Decimal("9"), "reason": "?", "candidates": []})),
    ("reminder edited, the first time",
     kinds.reminder_edited(customer_id=7, reminder_id=9, previous_body_sha256=None, actor="web:a", subject="S",
                           body_sha256="cd", invoices=[{"number": "F-1", "amount_due": Decimal("10")}], dropped=[]),
     NewEvent("reminder.edited", customer_id=7, reminder_id=9, actor="web:a", data={
         "subject": "S", "body_sha256": "cd", "previous_body_sha256": None,
         "invoices": [{"number": "F-1", "amount_due": Decimal("10")}], "dropped": []})),
    ("reminder cancelled at send time",
     kinds.reminder_cancelled(customer_id=7, reminder_id=9, reason="paid_or_held_before_sending", invoices=["F-1"]),
     NewEvent("reminder.cancelled", customer_id=7, reminder_id=9,
              data={"reason": "paid_or_held_before_sending", "invoices": ["F-1"]})),
    ("reminder uncertain, worker lost",
     kinds.reminder_uncertain(customer_id=7, reminder_id=9, reason="worker_lost", attempt=1, claimed_at=AT,
                              handed_over_at=AT, recipient="a@b.fr", message_id="<m@x>"),
     NewEvent("reminder.uncertain", customer_id=7, reminder_id=9, data={
         "reason": "worker_lost", "attempt": 1, "claimed_at": AT, "handed_over_at": AT, "recipient": "a@b.fr",
         "message_id": "<m@x>"})),
    ("call retried tomorrow",
     kinds.call_task_created(customer_id=7, due_on=ON, actor="web:a", task=4, attempt=2, reason="not_reached"),
     NewEvent("call_task.created", customer_id=7, actor="web:a",
              data={"task": 4, "due_on": ON, "attempt": 2, "reason": "not_reached"})),
    ("call recorded, a promise",
     kinds.call_recorded(customer_id=7, task=4, outcome="promise", note="", attempt=1, contact=None, also_closed=[],
                         actor="web:a", promise=5),
     NewEvent("call.recorded", customer_id=7, actor="web:a", data={
         "task": 4, "outcome": "promise", "note": "", "attempt": 1, "contact": None, "also_closed": [],
         "promise": 5})),
    ("promise recorded",
     kinds.promise_recorded(customer_id=7, promise=5, invoices=["F-1"], promised_on=ON, amount=None, via="phone",
                            obtained_by="web:a", covered_due=Decimal("10"), grace_until=ON, note="", actor="web:a"),
     NewEvent("promise.recorded", customer_id=7, actor="web:a", data={
         "promise": 5, "invoices": ["F-1"], "promised_on": ON, "amount": None, "via": "phone",
         "obtained_by": "web:a", "covered_due": Decimal("10"), "grace_until": ON, "note": ""})),
    ("a pause of a collective account",
     kinds.pause_started(customer_id=7, hold=3, until=None, reason="R", number="", actor="cli", source="fec",
                         account="411000"),
     NewEvent("pause.started", customer_id=7, actor="cli", data={
         "hold": 3, "until": None, "reason": "R", "number": "", "source": "fec", "account": "411000"})),
    ("a dispute credited",
     kinds.hold_moved(kinds.DISPUTE_CREDITED, customer_id=7, invoice_id=11, actor="web:a", hold=3, number="F-1",
                      credit_note="AV-1", amount=Decimal("5"), amount_due=Decimal("0"), note=""),
     NewEvent("dispute.credited", customer_id=7, invoice_id=11, actor="web:a", data={
         "hold": 3, "number": "F-1", "credit_note": "AV-1", "amount": Decimal("5"), "amount_due": Decimal("0"),
         "note": ""})),
    ("a plan proposed",
     kinds.plan_proposed(customer_id=7, plan=2, invoices=["F-1"], total=Decimal("90"),
                         instalments=[{"due_on": ON, "amount": Decimal("90")}], waive_penalties=False, grace_days=5,
                         note="", actor="web:a"),
     NewEvent("plan.proposed", customer_id=7, actor="web:a", data={
         "plan": 2, "invoices": ["F-1"], "total": Decimal("90"), "instalments": [{"due_on": ON, "amount": Decimal("90")}],
         "waive_penalties": False, "grace_days": 5, "note": ""})),
    ("an instalment notice planned again",
     kinds.instalment_notice_replanned(customer_id=7, reminder_id=9, plan=2, position=1, due_on=ON,
                                       remaining=Decimal("30"), cancelled_notice=9, notice=None),
     NewEvent("instalment.notice_replanned", customer_id=7, reminder_id=9, data={
         "plan": 2, "position": 1, "due_on": ON, "remaining": Decimal("30"), "cancelled_notice": 9, "notice": None})),
    ("a case filed",
     kinds.litigation_moved(case_machine.transition("opened", "filed"), customer_id=7, actor="web:a", case=2,
                            filed_on=ON, handled_by="Me X", note=""),
     NewEvent("litigation.filed", customer_id=7, actor="web:a",
              data={"case": 2, "filed_on": ON, "handled_by": "Me X", "note": ""})),
]


@pytest.mark.parametrize(("built", "literal"), [s[1:] for s in SAME], ids=[s[0] for s in SAME])
def test_a_constructor_hashes_as_the_literal_did(built: NewEvent, literal: NewEvent) -> None:
    assert type(built.kind) is str  # the plain code: the event carries no trace of its Kind
    assert _hashed(built) == _hashed(literal)


@pytest.mark.django_db
def test_what_is_stored_is_the_plain_code(tmp_path: Path) -> None:
    from relance.events.models import Event
    from relance.events.services import record_many, verify_chain
    from tests.builders import make_org

    org = make_org()
    stored = record_many(org, [kinds.member_added(user="anne", role="admin", new_account=True, actor="cli"),
                               kinds.template_reset(key="relance_1", language="fr")])
    assert [type(e.kind) for e in stored] == [str, str]
    read = list(Event.objects.filter(organisation=org, kind=kinds.MEMBER_ADDED))
    assert [e.kind for e in read] == ["member.added"] and type(read[0].kind) is str
    assert verify_chain(org) == []


@pytest.mark.django_db(transaction=True)
def test_every_kind_the_demo_stores_is_known(tmp_path: Path, settings: Any) -> None:
    from relance.demo.run import run_demo
    from relance.events.models import Event
    from relance.events.services import verify_chain
    from relance.ledger.models import Organisation

    settings.MEDIA_ROOT = tmp_path / "fichiers"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    run_demo(tmp_path / "demo")
    stored = set(Event.objects.values_list("kind", flat=True).distinct())
    assert len(stored) >= 10  # imports, payments, reminders, calls, litigation…
    assert stored <= set(kinds.KINDS), stored - set(kinds.KINDS)
    for org in Organisation.objects.all():
        assert verify_chain(org) == []
