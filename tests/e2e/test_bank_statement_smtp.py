"""End to end: a customer with two overdue invoices has been reminded; its next reminder is
already planned when the bank statement arrives. The camt.053 statement (a self-made fixture)
pays both invoices in one transfer: the planned reminder is cancelled before dispatch, never
reaches the SMTP server, and exactly one thank-you email arrives."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from relance import clock
from relance.banking.models import BankTransaction
from relance.banking.services.statements import import_statement
from relance.dunning.models import Reminder
from relance.dunning.services.planner import plan_day
from relance.events.models import Event
from relance.events.services import verify_chain
from relance.ledger.models import CustomerAlias, Invoice
from relance.ledger.services.imports import import_file
from relance.operations.daily import moment_of, run_day
from tests.builders import CUSTOMERS_CSV, make_org, write

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]

DUE = date(2025, 6, 16)  # a Monday, as in test_reminders_over_smtp.py
STATEMENT = Path(__file__).resolve().parents[1] / "fixtures" / "bank" / "camt053_e2e_two_invoices.xml"
PAID_ON = date(2025, 7, 15)  # booking date of the transfer in the statement (J+29)


@pytest.fixture
def org(tmp_path, smtp):
    org = make_org()  # its IBAN FR76 3000 6000 0112 3456 7890 189 is the statement's account
    import_file(org, write(tmp_path, "clients.csv", CUSTOMERS_CSV))
    import_file(org, write(tmp_path, "factures.csv", (
        "Numéro facture;Code client;Date;Échéance;Montant TTC;Libellé\n"
        "F-2025-0101;C001;16/05/2025;16/06/2025;400,00;Fournitures de mai\n"
        "F-2025-0102;C001;16/05/2025;16/06/2025;600,00;Livraison de mai\n"
    )))
    return org


def run_days(org, first: int, last: int) -> None:
    for offset in range(first, last + 1):
        run_day(org, DUE + timedelta(days=offset), queue=True)


def subjects(smtp) -> list[str]:
    return [str(r.message["Subject"]).strip() for r in smtp.received]


def test_statement_paying_both_invoices_cancels_the_next_reminder_and_thanks_once(org, smtp) -> None:
    run_days(org, -10, 28)
    before = subjects(smtp)
    assert before == [
        "Rappel : 2 factures arrivent prochainement à échéance",
        "Factures impayées n° F-2025-0101 et F-2025-0102",
        "Deuxième relance : factures n° F-2025-0101 et F-2025-0102 impayées",
    ]
    assert all(r.rcpt_tos == ["claire.martin@boulangerie-martin.test"] for r in smtp.received)

    # the J+30 reminder is planned (the planner ran in the morning), not sent yet
    plan_day(org, DUE + timedelta(days=30))
    pending = Reminder.objects.get(kind=Reminder.Kind.REMINDER, status=Reminder.Status.PLANNED)
    assert pending.planned_for == DUE + timedelta(days=30)
    assert set(pending.lines.values_list("invoice__number", flat=True)) == {"F-2025-0101", "F-2025-0102"}

    # the statement of 15 July arrives and is imported (as « relance import bank » would)
    with clock.frozen(moment_of(org, PAID_ON)):
        report = import_statement(org, STATEMENT, actor="cli")
    assert (report.lines, report.matched, report.to_review, report.unmatched, report.debits_ignored) == (2, 1, 0, 0, 1)
    assert {i.status for i in Invoice.objects.filter(organisation=org)} == {Invoice.Status.PAID}
    line = BankTransaction.objects.get()
    assert line.method == "number" and line.payment is not None
    assert line.payment.reference == f"BANQUE-{line.pk}"
    pending.refresh_from_db()
    assert pending.status == Reminder.Status.CANCELLED  # before any dispatch
    assert CustomerAlias.objects.filter(kind="iban", value="FR1420041010050500013M02606", customer__code="C001").exists()

    run_days(org, 30, 80)
    after = subjects(smtp)[len(before):]
    assert after == ["Merci pour votre règlement"]
    body = smtp.received[-1].message.get_body(preferencelist=("plain",)).get_content()
    assert "F-2025-0101" in body and "F-2025-0102" in body
    assert pending.pk not in set(Reminder.objects.filter(status=Reminder.Status.SENT).values_list("pk", flat=True))
    assert Reminder.objects.filter(kind=Reminder.Kind.THANKS, status=Reminder.Status.SENT).count() == 1
    kinds = set(Event.objects.filter(organisation=org).values_list("kind", flat=True))
    assert {"bank_statement.imported", "bank_line.matched", "payment.recorded", "invoice.settled",
            "reminder.cancelled", "thanks.planned", "thanks.sent"} <= kinds
    assert not verify_chain(org)

    # the same statement again changes nothing and sends nothing
    assert import_statement(org, STATEMENT).already_imported
    run_days(org, 81, 82)
    assert len(smtp.received) == len(before) + 1
