"""Exports of the litigation cases for agencies (``litigation.exports``) and write-offs for the
accountant (``litigation.writeoffs``, issue #16): the CSV parses back (``;``, BOM, decimal
comma), the JSON carries decimal strings, the write-off entries balance and split the amount
still due into HT and VAT prorated from the invoice."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from relance import clock
from relance.core.formats.fec import parse_fec, parse_fec_amount
from relance.dunning.models import Reminder, ReminderLine
from relance.ledger.models import Customer, Invoice, Organisation
from relance.litigation import exports, writeoffs
from relance.litigation.models import HandoverRecipient, LitigationCase
from relance.litigation.services import close_case, file_case, open_cases
from tests.builders import make_customer, make_org

pytestmark = pytest.mark.django_db

DAY = date(2026, 11, 23)
NOON = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
TRACKING = "1A12345678901"


@pytest.fixture(autouse=True)
def _clock(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path / "media"
    with clock.frozen(NOON):
        yield


@pytest.fixture
def org() -> Organisation:
    return make_org()


@pytest.fixture
def martin(org: Organisation) -> Customer:
    return make_customer(org, "C001", "Boulangerie Martin; SARL", siren="732829320", address1="12 rue des Lilas",
                         address2="Bâtiment B", postal_code="69003", city="Lyon")


def invoice(org: Organisation, customer: Customer, number: str, amount: str, due: date, *, excl: str | None = None,
            tax: str | None = None, due_amount: str | None = None) -> Invoice:
    return Invoice.objects.create(
        organisation=org, customer=customer, number=number, issue_date=due - timedelta(days=30), due_date=due,
        amount_incl_tax=Decimal(amount), amount_excl_tax=Decimal(excl) if excl else None,
        tax_amount=Decimal(tax) if tax else None, amount_due=Decimal(due_amount or amount), last_step_position=5)


def letter(org: Organisation, customer: Customer, invoices: list[Invoice], sent_on: date) -> Reminder:
    reminder = Reminder.objects.create(
        organisation=org, customer=customer, channel="registered_letter", planned_for=sent_on,
        status=Reminder.Status.SENT, idempotency_key=f"test-{sent_on}-{customer.pk}",
        subject="Mise en demeure de payer", sent_at=datetime(sent_on.year, sent_on.month, sent_on.day, 9, 30, tzinfo=UTC),
        tracking_number=TRACKING, received_on=sent_on + timedelta(days=2))
    ReminderLine.objects.bulk_create([ReminderLine(reminder=reminder, invoice=i, step_position=4,
                                                   amount_due=i.amount_due) for i in invoices])
    return reminder


def opened(org: Organisation, customer: Customer, invoices: list[Invoice]) -> LitigationCase:
    (case,) = open_cases(org, DAY, {customer.pk: [i.pk for i in invoices]}, step_label="Contentieux")
    return case


def parse(text: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:], newline=""), delimiter=";"))


def test_the_agency_csv_and_json(org: Organisation, martin: Customer) -> None:
    fa1 = invoice(org, martin, "FA-2026-0101", "1200.00", date(2026, 9, 1))
    fa2 = invoice(org, martin, "FA-2026-0107", "480.50", date(2026, 9, 8), due_amount="230.50")
    letter(org, martin, [fa1, fa2], date(2026, 10, 12))
    case = opened(org, martin, [fa1, fa2])
    recipient = HandoverRecipient.objects.create(organisation=org, kind="agency", name="Recouvr’Est",
                                                 email="dossiers@recouvrest.test", reference="MANDAT-42")
    file_case(org, case, actor="sophie", on=DAY, handled_by="Recouvr’Est")
    LitigationCase.objects.filter(pk=case.pk).update(recipient=recipient, court_kind="commerce",
                                                     court_name="Tribunal de commerce de Lyon",
                                                     court_reference="RG 26/01234")

    text = exports.cases_csv(org)

    assert "\r\n" in text
    rows = parse(text)
    assert list(rows[0]) == list(exports.CSV_COLUMNS)
    assert [r["Facture"] for r in rows] == ["FA-2026-0101", "FA-2026-0107"]
    first, second = rows
    assert first["Dossier"] == str(case.pk) and first["État"] == "transmis"
    assert first["Client"] == "Boulangerie Martin; SARL" and first["SIREN"] == "732829320"
    assert first["Adresse"] == "12 rue des Lilas, Bâtiment B" and first["Ville"] == "Lyon"
    assert first["Échéance"] == "01/09/2026" and first["Montant TTC"] == "1200,00"
    assert second["Montant TTC"] == "480,50" and second["Reste dû aujourd’hui"] == "230,50"
    assert first["Mise en demeure du"] == "12/10/2026" and first["N° de recommandé"] == TRACKING
    assert first["Avis de réception du"] == "14/10/2026"
    assert first["Transmis à"] == "Recouvr’Est" and first["Transmis le"] == "23/11/2026"
    assert first["Juridiction"] == "Tribunal de commerce" and first["Référence au greffe"] == "RG 26/01234"
    assert parse(exports.cases_csv(org, state="closed")) == []

    (data,) = exports.cases_json(org)
    assert data["case"] == case.pk and data["state"] == "filed" and data["handed_to"] == "Recouvr’Est"
    assert data["recipient_reference"] == "MANDAT-42" and data["court"]["reference"] == "RG 26/01234"
    assert data["total_due_now"] == "1430.50" and data["opened_on"] == "2026-11-23"
    assert data["customer"]["siren"] == "732829320"
    assert [i["amount_due"] for i in data["invoices"]] == ["1200.00", "230.50"]
    assert data["invoices"][0]["formal_notice"] == {"sent_on": "2026-10-12", "tracking_number": TRACKING,
                                                    "received_on": "2026-10-14"}


def test_writeoffs_split_the_amount_still_due(org: Organisation, martin: Customer) -> None:
    other = make_customer(org, "C002", "Garage du Centre")
    # 1 200 TTC = 1 000 HT + 200 TVA, all still due
    fa1 = invoice(org, martin, "FA-1", "1200.00", date(2026, 9, 1), excl="1000.00", tax="200.00")
    # 480,50 TTC of which 230,50 still due: VAT prorated (80,08 × 230,50 / 480,50 = 38,42)
    fa2 = invoice(org, martin, "FA-2", "480.50", date(2026, 9, 8), excl="400.42", due_amount="230.50")
    # no VAT known: written off TTC, flagged
    fa3 = invoice(org, other, "FA-3", "99.99", date(2026, 9, 8))
    # closed « abandoned »: not a write-off
    third = make_customer(org, "C003", "Jean Petit", is_business=False)
    fa4 = invoice(org, third, "FA-4", "50.00", date(2026, 9, 9), excl="50.00", tax="0")
    first = opened(org, martin, [fa1, fa2])
    second = opened(org, other, [fa3])
    close_case(org, first, outcome="irrecoverable", actor="sophie", on=DAY)
    close_case(org, second, outcome="irrecoverable", actor="sophie", on=DAY)
    close_case(org, opened(org, third, [fa4]), outcome="abandoned", actor="sophie", on=DAY)

    found = writeoffs.writeoffs(org, date(2026, 1, 1), DAY)

    assert [w.invoice.number for w in found] == ["FA-1", "FA-2", "FA-3"]
    w1, w2, w3 = found
    assert (w1.amount, w1.excl_tax, w1.vat, w1.vat_known) == (Decimal("1200.00"), Decimal("1000.00"),
                                                              Decimal("200.00"), True)
    assert (w2.amount, w2.excl_tax, w2.vat) == (Decimal("230.50"), Decimal("192.08"), Decimal("38.42"))
    assert (w3.amount, w3.excl_tax, w3.vat, w3.vat_known) == (Decimal("99.99"), Decimal("99.99"), Decimal("0.00"),
                                                              False)
    assert all(w.excl_tax + w.vat == w.amount for w in found)
    assert w1.closed_on == DAY and w1.case == first and w1.customer == martin
    assert writeoffs.writeoffs(org, DAY + timedelta(days=1), DAY + timedelta(days=30)) == []
    assert writeoffs.writeoffs(org, date(2026, 1, 1), DAY - timedelta(days=1)) == []

    rows = parse(writeoffs.writeoffs_csv(org, date(2026, 1, 1), DAY))
    assert list(rows[0]) == list(writeoffs.CSV_COLUMNS)
    assert [(r["Facture"], r["Perte TTC"], r["dont HT"], r["dont TVA à récupérer"], r["TVA connue"]) for r in rows] == [
        ("FA-1", "1200,00", "1000,00", "200,00", "oui"), ("FA-2", "230,50", "192,08", "38,42", "oui"),
        ("FA-3", "99,99", "99,99", "0,00", "non")]
    assert rows[0]["Clôturé le"] == "23/11/2026" and rows[0]["Client"] == "Boulangerie Martin; SARL"


def test_the_fec_entries_balance(org: Organisation, martin: Customer) -> None:
    fa1 = invoice(org, martin, "FA-1", "1200.00", date(2026, 9, 1), excl="1000.00", tax="200.00")
    fa2 = invoice(org, martin, "FA-2", "480.50", date(2026, 9, 8), excl="400.42", due_amount="230.50")
    close_case(org, opened(org, martin, [fa1, fa2]), outcome="irrecoverable", actor="sophie", on=DAY)

    text = writeoffs.writeoffs_fec(org, date(2026, 1, 1), DAY)

    lines = text.split("\r\n")
    assert lines[-1] == "" and lines[0].split("\t") == list(writeoffs.FEC_COLUMNS)
    rows = [dict(zip(writeoffs.FEC_COLUMNS, line.split("\t"), strict=True)) for line in lines[1:-1]]
    assert [(r["EcritureNum"], r["CompteNum"], r["Debit"], r["Credit"], r["CompAuxNum"]) for r in rows] == [
        ("IRR1", "654", "1000,00", "0,00", ""), ("IRR1", "44571", "200,00", "0,00", ""),
        ("IRR1", "411", "0,00", "1200,00", "C001"),
        ("IRR2", "654", "192,08", "0,00", ""), ("IRR2", "44571", "38,42", "0,00", ""),
        ("IRR2", "411", "0,00", "230,50", "C001")]
    for num in ("IRR1", "IRR2"):
        entry = [r for r in rows if r["EcritureNum"] == num]
        assert sum(parse_fec_amount(r["Debit"]) for r in entry) == sum(parse_fec_amount(r["Credit"]) for r in entry)
    assert {r["EcritureDate"] for r in rows} == {"20261123"} and rows[0]["PieceDate"] == "20260802"
    assert rows[0]["JournalCode"] == "OD" and rows[0]["PieceRef"] == "FA-1"
    assert rows[0]["CompteLib"] == "Pertes sur créances irrécouvrables"
    assert rows[2]["CompAuxLib"] == "Boulangerie Martin; SARL"
    assert "FA-1" in rows[0]["EcritureLib"] and "\t" not in rows[0]["EcritureLib"]

    # relance's own FEC reader accepts it: no problem, every entry balanced
    read = parse_fec(text.encode("utf-8"), "irrecouvrables.txt")
    assert read.problems == [] and read.stats.entries == 2 and read.stats.unbalanced_entries == 0
    assert read.stats.total_debit == read.stats.total_credit == Decimal("1430.50")
    assert [(line.account, line.aux_num) for line in read.lines][2] == ("411", "C001")

    custom = writeoffs.fec_lines(org, date(2026, 1, 1), DAY, loss_account=("6541", "Créances irrécouvrables"),
                                 vat_account=("445710", "TVA collectée"), customer_account=("411000", "Clients"),
                                 first_number=7)
    assert [r["CompteNum"] for r in custom[:3]] == ["6541", "445710", "411000"] and custom[0]["EcritureNum"] == "IRR7"
    assert "272" in writeoffs.VAT_NOTE and "rectificative" in writeoffs.VAT_NOTE
