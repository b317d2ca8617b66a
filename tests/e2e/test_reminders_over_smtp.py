"""End to end: import a CSV, run every day from J−10 to J+80 through the durable task
queue, and read back exactly what arrived on a real SMTP server."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from relance.core.calendar import FRANCE
from relance.dunning.models import Reminder
from relance.events.services import verify_chain
from relance.ledger.models import Invoice
from relance.ledger.services.imports import import_file
from relance.ledger.services.payments import record_payment
from relance.operations.daily import run_day
from tests.builders import CUSTOMERS_CSV, make_org, write

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]

DUE = date(2025, 6, 16)  # a Monday; the whole sequence falls in semesters whose rates are known
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def business(offset: int) -> date:
    return FRANCE.on_or_after(DUE + timedelta(days=offset))


@pytest.fixture
def org(tmp_path, smtp):
    org = make_org()
    import_file(org, write(tmp_path, "clients.csv", CUSTOMERS_CSV))
    (tmp_path / "pdf").mkdir()
    (tmp_path / "pdf" / "F-2026-0042.pdf").write_bytes(PDF)
    import_file(org, write(tmp_path, "factures.csv", (
        "Numéro facture;Code client;Date;Échéance;Montant HT;TVA;Montant TTC;Libellé;PDF\n"
        "F-2026-0042;C001;16/05/2025;16/06/2025;1 000,00;200,00;1 200,00;Fournitures de mai;pdf/F-2026-0042.pdf\n"
    )))
    return org


def run_days(org, first: int, last: int) -> None:
    for offset in range(first, last + 1):
        run_day(org, DUE + timedelta(days=offset), queue=True)


def test_the_whole_sequence_arrives_in_order(org, smtp):
    run_days(org, -10, 80)
    got = smtp.received
    subjects = [str(r.message["Subject"]).strip() for r in got]
    assert subjects == [
        "Rappel : la facture n° F-2026-0042 arrive à échéance le 16 juin 2025",
        "Facture n° F-2026-0042 impayée",
        "Deuxième relance : facture n° F-2026-0042 impayée",
        "Relance avant mise en demeure : facture n° F-2026-0042",
    ]
    assert all(r.rcpt_tos == ["claire.martin@boulangerie-martin.test"] for r in got)
    assert all(r.message["Reply-To"] == "recouvrement@atelier-dubois.test" for r in got)
    dates = [r.planned_for for r in Reminder.objects.filter(kind="reminder").order_by("planned_for")]
    assert dates == [business(-7), business(7), business(15), business(30), business(45), business(60)]

    bodies = [r.message.get_body(preferencelist=("plain",)).get_content() for r in got]
    for body in bodies:
        assert body.startswith("Bonjour Madame Martin,")
        assert "1\u202f200,00\xa0€" in body
        assert "IBAN\u00a0: FR76 3000 6000 0112 3456 7890 189" in body  # payment block
        assert "Sophie Laurent" in body
    assert "L441-10" in bodies[2] and "40\u00a0€" in bodies[2]  # business customer: penalties and indemnity
    # J+15 = 1 July 2025: 14 days of 2025-S1 at 13,15 % and 1 day of 2025-S2 at 12,15 % on 1 200 €
    # = 1200 × 0.1315 × 14/365 + 1200 × 0.1215 × 1/365 = 6.0526… + 0.3994… = 6.45 €
    assert "s’y ajoutent 6,45\xa0€ de pénalités de retard et 40,00\xa0€ d’indemnité forfaitaire" in bodies[2]
    assert "taux annuel de 13,15\u00a0% puis 12,15\u00a0% (taux de la BCE majoré de 10 points)" in bodies[2]
    assert "L441-10" not in bodies[1]
    assert "Sauf erreur ou omission de notre part" in bodies[1]

    # the invoice PDF goes with the reminders after the due date, not with the courtesy reminder
    attachments = [[p.get_filename() for p in r.message.iter_attachments()] for r in got]
    assert attachments == [[], ["Facture-F-2026-0042.pdf"], ["Facture-F-2026-0042.pdf"], ["Facture-F-2026-0042.pdf"]]
    pdf_part = next(got[1].message.iter_attachments())
    assert pdf_part.get_content() == PDF
    # the HTML part has the same invoice table
    html = got[1].message.get_body(preferencelist=("html",)).get_content()
    assert '<table class="invoices">' in html and "F-2026-0042" in html

    # message ids are derived from the idempotency keys, unique
    ids = [r.message["Message-ID"] for r in got]
    assert len(set(ids)) == 4 and all(i.startswith("<relance.") for i in ids)

    letters = list(Reminder.objects.filter(channel__in=["letter", "registered_letter"]).order_by("planned_for"))
    assert [r.channel for r in letters] == ["letter", "registered_letter"]
    assert all(r.document and r.document_sha256 for r in letters)
    notice = letters[1].body_text
    assert "mettons en demeure" in notice and "huit jours" in notice
    # J+60 falls on Friday 15 August 2025 (a holiday): Monday 18 August, 63 days late
    # = 1200 × 0.1315 × 14/365 + 1200 × 0.1215 × 49/365 = 6.0526… + 19.5731… = 25.63 €
    assert "25,63\xa0€ de pénalités de retard et 40,00\xa0€ d’indemnité forfaitaire" in notice
    assert "soit 1\u202f265,63\xa0€" in notice
    assert "Pénalités" in notice and "Indemnité" in notice  # the table's extra columns
    invoice = Invoice.objects.get(number="F-2026-0042")
    assert invoice.dunning_state == Invoice.Dunning.LITIGATION
    # the hand-over opens a litigation case holding the formal notice as proof; it is never « sent »
    from relance.litigation.models import LitigationCase

    case = LitigationCase.objects.get(customer=invoice.customer)
    assert case.state == "opened" and [line.formal_notice.channel for line in case.lines.all()] == ["registered_letter"]
    assert not Reminder.objects.filter(kind="litigation").exists()
    assert not verify_chain(org)


def test_payment_stops_the_sequence_and_thanks_once(org, smtp):
    run_days(org, -10, 20)
    assert len(smtp.received) == 3
    c001 = Invoice.objects.get(number="F-2026-0042").customer
    record_payment(org, c001, "VIR-0042", DUE + timedelta(days=21), Decimal("1200.00"))
    run_days(org, 21, 80)
    subjects = [str(r.message["Subject"]).strip() for r in smtp.received]
    assert subjects[3:] == ["Merci pour votre règlement"]
    assert "F-2026-0042" in smtp.received[3].message.get_body(preferencelist=("plain",)).get_content()
