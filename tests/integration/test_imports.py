"""Importing CSV/XLSX exports into the ledger: exact rows, idempotence, updates,
all-or-nothing rejection naming file, line and field, encodings, credit notes."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.db.models import Sum

from relance.dunning.services.planner import plan_day
from relance.errors import ImportRejected
from relance.events.models import Event
from relance.events.services import verify_chain
from relance.ledger.models import (
    Allocation,
    Contact,
    CreditNote,
    Customer,
    ImportBatch,
    Invoice,
    Organisation,
    Payment,
)
from relance.ledger.services.imports import import_file
from relance.ledger.services.payments import record_payment
from tests.builders import make_org, write

pytestmark = pytest.mark.django_db

CSV = Path(__file__).resolve().parents[1] / "fixtures" / "csv"
BAD = CSV / "bad"
D = Decimal

LEDGER_MODELS = (Customer, Contact, Invoice, CreditNote, Payment, Allocation, ImportBatch, Event)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def org() -> Organisation:
    return make_org()


@pytest.fixture
def loaded(org: Organisation) -> Organisation:
    """The organisation with the three documented fixture files imported."""
    for name in ("clients.csv", "factures.csv", "paiements.csv"):
        import_file(org, CSV / name)
    return org


def counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in LEDGER_MODELS}


def state() -> dict[str, Any]:
    """Counts plus the content that an import could change."""
    return {
        "counts": counts(),
        "customers": sorted(Customer.objects.values_list(
            "code", "legal_name", "is_business", "siren", "vat_number", "city", "language", "preferred_channel",
            "terms_days")),
        "contacts": sorted(Contact.objects.values_list(
            "customer__code", "civility", "first_name", "last_name", "email", "phone", "is_billing")),
        "invoices": sorted(Invoice.objects.values_list(
            "number", "customer__code", "issue_date", "due_date", "amount_incl_tax", "amount_due", "status",
            "settled_on", "next_action_date")),
        "allocations": sorted(Allocation.objects.values_list("invoice__number", "amount", "date")),
    }


def assert_amount_due_is_derived() -> None:
    """amount_due is never typed in: it is TTC minus what payments and credit notes allocated."""
    invoices = list(Invoice.objects.annotate(allocated=Sum("allocations__amount")))
    assert invoices
    for invoice in invoices:
        allocated = invoice.allocated or D("0")
        assert invoice.amount_due == invoice.amount_incl_tax - allocated, invoice.number
        if invoice.amount_due > 0:
            assert (invoice.status, invoice.settled_on) == (Invoice.Status.OPEN, None), invoice.number
        else:
            assert invoice.status in (Invoice.Status.PAID, Invoice.Status.CREDITED), invoice.number
            assert invoice.settled_on is not None, invoice.number


def due(number: str) -> Decimal:
    return Invoice.objects.get(number=number).amount_due


def allocations_of(reference: str) -> list[tuple[str, Decimal]]:
    return list(Allocation.objects.filter(payment__reference=reference).order_by("id")
                .values_list("invoice__number", "amount"))


def problems_of(excinfo: pytest.ExceptionInfo[ImportRejected]) -> list[tuple[str, int | None, str | None]]:
    return [(p.file, p.line, p.field) for p in excinfo.value.problems]


# ---------------------------------------------------------------------------------------------------------------
# the documented fixture files


def test_clients_fixture_creates_customers_with_their_billing_contact(org):
    report = import_file(org, CSV / "clients.csv")

    assert not report.already_imported
    assert report.kinds == ["customers"]
    assert dict(report.counts) == {"customers_created": 4, "customers_updated": 0, "contacts_created": 4,
                                   "contacts_updated": 0}
    assert sorted(Customer.objects.filter(organisation=org).values_list(
        "code", "legal_name", "is_business", "siren", "vat_number", "postal_code", "city", "country", "language",
        "preferred_channel", "terms_days")) == [
        ("C001", "Boulangerie Lemoine SARL", True, "412345670", "FR96412345670", "69003", "Lyon", "FR", "fr",
         "email", 30),
        ("C002", "Garage des Deux Rives SAS", True, "512987652", "FR59512987652", "33100", "Bordeaux", "FR", "fr",
         "letter", 45),
        ("C003", "Brightline Consulting France SAS", True, "823456785", "FR72823456785", "75011", "Paris", "FR",
         "en", "email", 60),
        ("P001", "Martine Roussel", False, "", "", "44000", "Nantes", "FR", "fr", "letter", None),
    ]
    assert sorted(Contact.objects.filter(organisation=org).values_list(
        "customer__code", "civility", "first_name", "last_name", "email", "phone", "is_billing")) == [
        ("C001", "Mme", "Claire", "Lemoine", "compta@boulangerie-lemoine.example", "04 78 00 00 01", True),
        ("C002", "M.", "Karim", "Benali", "k.benali@garage-deux-rives.example", "05 56 00 00 02", True),
        ("C003", "Ms", "Emily", "Carter", "accounts.payable@brightline.example", "01 40 00 00 03", True),
        ("P001", "", "Martine", "Roussel", "martine.roussel@example.org", "06 00 00 00 04", True),
    ]
    c001 = Customer.objects.get(code="C001")
    assert c001.billing_contact is not None and c001.billing_contact.email == "compta@boulangerie-lemoine.example"
    assert list(Event.objects.values_list("kind", flat=True)) == ["import.completed"]
    batch = ImportBatch.objects.get()
    assert (batch.filename, batch.kind, len(batch.sha256)) == ("clients.csv", "customers", 64)


def test_factures_fixture_creates_invoices_with_amount_due_derived(org):
    import_file(org, CSV / "clients.csv")
    report = import_file(org, CSV / "factures.csv")

    assert dict(report.counts) == {"invoices_created": 6, "invoices_updated": 0}
    rows = sorted(Invoice.objects.filter(organisation=org).values_list(
        "number", "customer__code", "issue_date", "due_date", "amount_excl_tax", "tax_amount", "amount_incl_tax",
        "amount_due", "status", "currency"))
    assert rows == [
        ("F2026-0101", "C001", date(2026, 9, 1), date(2026, 10, 1), D("1250.00"), D("250.00"), D("1500.00"),
         D("1500.00"), "open", "EUR"),
        ("F2026-0102", "C001", date(2026, 10, 1), date(2026, 10, 31), D("1250.00"), D("250.00"), D("1500.00"),
         D("1500.00"), "open", "EUR"),
        ("F2026-0103", "C002", date(2026, 9, 15), date(2026, 10, 30), D("3480.50"), D("696.10"), D("4176.60"),
         D("4176.60"), "open", "EUR"),
        ("F2026-0104", "C003", date(2026, 10, 5), date(2026, 12, 4), D("2400.00"), D("480.00"), D("2880.00"),
         D("2880.00"), "open", "EUR"),
        ("F2026-0105", "C003", date(2026, 11, 2), date(2026, 12, 31), D("6150.00"), D("1230.00"), D("7380.00"),
         D("7380.00"), "open", "EUR"),
        ("F2026-0106", "P001", date(2026, 10, 20), date(2026, 11, 19), D("375.00"), D("37.50"), D("412.50"),
         D("412.50"), "open", "EUR"),
    ]
    assert Invoice.objects.get(number="F2026-0103").description == \
        "Remplacement du pont élévateur, pièces et main-d’œuvre"
    imported = Event.objects.filter(kind="invoice.imported").order_by("seq")
    assert sorted(e.data["number"] for e in imported) == [f"F2026-010{i}" for i in range(1, 7)]
    f103 = Invoice.objects.get(number="F2026-0103")
    event = imported.get(invoice_id_ref=f103.id)
    assert event.customer_id_ref == f103.customer_id
    assert event.data == {"number": "F2026-0103", "amount": "4176.60", "due_date": "2026-10-30"}
    assert Event.objects.filter(kind="import.completed").count() == 2
    assert_amount_due_is_derived()


def test_paiements_fixture_settles_the_designated_invoice(org):
    import_file(org, CSV / "clients.csv")
    import_file(org, CSV / "factures.csv")
    events_before = Event.objects.count()

    report = import_file(org, CSV / "paiements.csv")

    assert dict(report.counts) == {"payments_created": 1}
    payment = Payment.objects.get()
    assert (payment.reference, payment.customer.code, payment.date, payment.amount, payment.method) == (
        "VIR-20260930-0417", "C001", date(2026, 9, 30), D("1500.00"), "virement")
    assert allocations_of("VIR-20260930-0417") == [("F2026-0101", D("1500.00"))]
    f101 = Invoice.objects.get(number="F2026-0101")
    assert (f101.amount_due, f101.status, f101.settled_on) == (D("0.00"), "paid", date(2026, 9, 30))
    assert (due("F2026-0102"), Invoice.objects.get(number="F2026-0102").status) == (D("1500.00"), "open")
    new = list(Event.objects.filter(seq__gt=events_before).order_by("seq").values_list("kind", flat=True))
    assert new == ["payment.recorded", "invoice.settled", "import.completed"]
    assert_amount_due_is_derived()
    assert verify_chain(org) == []


def test_payment_without_invoice_goes_to_the_oldest_due_date_first(loaded, tmp_path):
    path = write(tmp_path, "paiements.csv", "Référence;Code client;Date;Montant\n"
                                            "VIR-C003;C003;10/12/2026;3 000,00\n")
    import_file(loaded, path)
    # F2026-0104 (due 04/12) before F2026-0105 (due 31/12)
    assert allocations_of("VIR-C003") == [("F2026-0104", D("2880.00")), ("F2026-0105", D("120.00"))]
    assert (due("F2026-0104"), due("F2026-0105")) == (D("0.00"), D("7260.00"))
    assert Invoice.objects.get(number="F2026-0105").status == "open"
    assert_amount_due_is_derived()


def test_payment_designating_a_later_invoice_pays_it_first_then_the_oldest(org, tmp_path):
    import_file(org, CSV / "clients.csv")
    import_file(org, CSV / "factures.csv")
    path = write(tmp_path, "paiements.csv", "Référence;Code client;Date;Montant;Facture\n"
                                            "VIR-C001;C001;05/11/2026;2 000,00;F2026-0102\n")
    import_file(org, path)
    assert allocations_of("VIR-C001") == [("F2026-0102", D("1500.00")), ("F2026-0101", D("500.00"))]
    assert (due("F2026-0101"), due("F2026-0102")) == (D("1000.00"), D("0.00"))
    assert_amount_due_is_derived()


# ---------------------------------------------------------------------------------------------------------------
# idempotence and updates


@pytest.mark.parametrize("name", ["clients.csv", "factures.csv", "paiements.csv"])
def test_reimporting_the_same_file_changes_nothing(loaded, name):
    before = state()
    events = list(Event.objects.values_list("seq", "hash"))

    report = import_file(loaded, CSV / name)

    assert report.already_imported is True
    assert (dict(report.counts), report.kinds) == ({}, [])
    assert report.as_dict() == {"file": name, "already_imported": True, "kinds": [], "counts": {},
                                 "warnings": [], "default_kind": None, "defaulted": 0}
    assert state() == before
    assert list(Event.objects.values_list("seq", "hash")) == events


def test_same_content_under_another_name_is_recognised(loaded, tmp_path):
    copy = tmp_path / "export-du-lundi.csv"
    copy.write_bytes((CSV / "factures.csv").read_bytes())
    before = state()
    assert import_file(loaded, copy).already_imported is True
    assert state() == before


def test_a_newer_invoice_export_updates_only_what_changed(loaded, tmp_path):
    text = (CSV / "factures.csv").read_text(encoding="utf-8")
    text = text.replace("F2026-0104;C003;05/10/2026;04/12/2026;2 400,00;480,00;2 880,00",
                        "F2026-0104;C003;05/10/2026;04/12/2026;2 500,00;500,00;3 000,00")
    text = text.replace("F2026-0106;P001;20/10/2026;19/11/2026", "F2026-0106;P001;20/10/2026;30/11/2026")
    text += "F2026-0107;C002;10/11/2026;10/12/2026;100,00;20,00;120,00;Nettoyage de l’atelier\n"
    path = write(tmp_path, "factures.csv", text)
    Invoice.objects.filter(number="F2026-0106").update(next_action_date=date(2026, 11, 26))
    untouched = {i.number: (i.amount_due, i.status, i.next_action_date)
                 for i in Invoice.objects.exclude(number__in=["F2026-0104", "F2026-0106"])}
    events_before = Event.objects.count()

    report = import_file(loaded, path)

    assert dict(report.counts) == {"invoices_created": 1, "invoices_updated": 2, "invoices_unchanged": 4}
    assert Invoice.objects.count() == 7
    assert Invoice.objects.filter(number="F2026-0104").count() == 1
    f104 = Invoice.objects.get(number="F2026-0104")
    assert (f104.amount_excl_tax, f104.tax_amount, f104.amount_incl_tax, f104.amount_due) == (
        D("2500.00"), D("500.00"), D("3000.00"), D("3000.00"))
    f106 = Invoice.objects.get(number="F2026-0106")
    assert f106.due_date == date(2026, 11, 30)
    assert f106.next_action_date is None  # the planner reschedules from the new due date
    assert due("F2026-0107") == D("120.00")
    # the paid invoice stays paid, the others keep their balance
    assert {i.number: (i.amount_due, i.status, i.next_action_date) for i in Invoice.objects.exclude(
        number__in=["F2026-0104", "F2026-0106", "F2026-0107"])} == untouched
    assert Invoice.objects.get(number="F2026-0101").status == "paid"
    new = sorted(Event.objects.filter(seq__gt=events_before).values_list("kind", flat=True))
    assert new == ["import.completed", "invoice.imported"]
    assert Event.objects.get(kind="invoice.imported", data__number="F2026-0107").data["amount"] == "120.00"
    assert ImportBatch.objects.count() == 4
    assert_amount_due_is_derived()


def test_a_newer_amount_on_a_partly_paid_invoice_keeps_the_payment(loaded, tmp_path):
    c001 = Customer.objects.get(code="C001")
    record_payment(loaded, c001, "VIR-PART", date(2026, 11, 2), D("400.00"), ["F2026-0102"])
    assert due("F2026-0102") == D("1100.00")
    text = (CSV / "factures.csv").read_text(encoding="utf-8").replace(
        "F2026-0102;C001;01/10/2026;31/10/2026;1 250,00;250,00;1 500,00",
        "F2026-0102;C001;01/10/2026;31/10/2026;1 000,00;200,00;1 200,00")
    report = import_file(loaded, write(tmp_path, "factures.csv", text))
    assert report.counts["invoices_updated"] == 1
    assert due("F2026-0102") == D("800.00")  # 1200 - 400
    assert_amount_due_is_derived()


def test_a_newer_customer_export_updates_only_what_changed(loaded, tmp_path):
    text = (CSV / "clients.csv").read_text(encoding="utf-8")
    text = text.replace("4 quai de Brazza;33100;Bordeaux;fr;courrier;45;M. Karim Benali",
                        "4 quai de Brazza;33100;Bordeaux;fr;email;45;M. Karim Benali-Morel")
    text += "C004;Pressing du Parc;entreprise;;;2 allée du Parc;69006;Lyon;fr;email;30;;contact@pressing.example;\n"
    events_before = Event.objects.count()

    report = import_file(loaded, write(tmp_path, "clients.csv", text))

    assert dict(report.counts) == {"customers_created": 1, "customers_updated": 1, "customers_unchanged": 3,
                                   "contacts_created": 1, "contacts_updated": 1}
    assert Customer.objects.count() == 5
    assert Customer.objects.get(code="C002").preferred_channel == "email"
    assert list(Contact.objects.filter(customer__code="C002").values_list("first_name", "last_name", "email")) == [
        ("Karim", "Benali-Morel", "k.benali@garage-deux-rives.example")]
    c004 = Contact.objects.get(customer__code="C004")
    assert (c004.civility, c004.full_name, c004.email, c004.is_billing) == (
        "", "Pressing du Parc", "contact@pressing.example", True)
    assert Contact.objects.count() == 5
    assert list(Event.objects.filter(seq__gt=events_before).values_list("kind", flat=True)) == ["import.completed"]


def test_a_new_billing_email_replaces_the_billing_contact(loaded, tmp_path):
    text = (CSV / "clients.csv").read_text(encoding="utf-8").replace(
        "compta@boulangerie-lemoine.example", "factures@boulangerie-lemoine.example")
    import_file(loaded, write(tmp_path, "clients.csv", text))
    c001 = Customer.objects.get(code="C001")
    billing = list(Contact.objects.filter(customer=c001, is_billing=True).values_list("email", flat=True))
    assert billing == ["factures@boulangerie-lemoine.example"]
    assert c001.billing_contact.email == "factures@boulangerie-lemoine.example"


def test_a_company_without_contact_name_is_not_taken_for_a_person(org, tmp_path):
    path = write(tmp_path, "clients.csv", "Code client;Raison sociale;Type;Email\n"
                                          "B001;M Bricolage Lyon;entreprise;compta@mbricolage.example\n")
    import_file(org, path)
    contact = Contact.objects.get(customer__code="B001")
    assert (contact.civility, contact.first_name, contact.last_name) == ("", "", "M Bricolage Lyon")


def test_a_paid_invoice_reopened_by_a_newer_export_is_chased_again(loaded, tmp_path):
    text = (CSV / "factures.csv").read_text(encoding="utf-8").replace(
        "F2026-0101;C001;01/09/2026;01/10/2026;1 250,00;250,00;1 500,00",
        "F2026-0101;C001;01/09/2026;01/10/2026;1 500,00;300,00;1 800,00")
    import_file(loaded, write(tmp_path, "factures.csv", text))
    invoice = Invoice.objects.get(number="F2026-0101")
    assert (invoice.status, invoice.amount_due, invoice.settled_on) == ("open", D("300.00"), None)
    assert_amount_due_is_derived()
    plan = plan_day(loaded, date(2026, 11, 23))
    c001 = [r for r in plan.reminders if r.customer == "C001"]
    assert [sorted(r.invoices) for r in c001] == [["F2026-0101", "F2026-0102"]]
    assert Invoice.objects.get(number="F2026-0101").dunning_state == "active"


def test_a_newer_amount_below_what_was_paid_is_rejected_with_its_line(loaded, tmp_path):
    text = (CSV / "factures.csv").read_text(encoding="utf-8").replace(
        "F2026-0101;C001;01/09/2026;01/10/2026;1 250,00;250,00;1 500,00",
        "F2026-0101;C001;01/09/2026;01/10/2026;1 000,00;200,00;1 200,00")
    before = state()
    with pytest.raises(ImportRejected) as excinfo:
        import_file(loaded, write(tmp_path, "factures.csv", text))
    assert problems_of(excinfo) == [("factures.csv", 2, "montant TTC")]
    assert state() == before


# ---------------------------------------------------------------------------------------------------------------
# a workbook


def build_workbook(path: Path, *, bad_invoice: bool = False) -> Path:
    book = openpyxl.Workbook()
    # deliberately not in import order: payments first, customers last
    pay = book.active
    pay.title = "Paiements"
    pay.append(["Référence", "Code client", "Date", "Montant", "Facture"])
    pay.append(["CHQ-118", "X01", datetime(2026, 11, 20), 300, "FX-02"])
    pay.append(["VIR-119", "X02", "21/11/2026", "99,90", None])
    inv = book.create_sheet("Factures")
    inv.append(["Numéro facture", "Code client", "Date", "Échéance", "Montant TTC", "Libellé"])
    inv.append(["FX-01", "X01", datetime(2026, 9, 1), datetime(2026, 10, 1), 1200, "Étude préalable"])
    inv.append(["FX-02", "X01", datetime(2026, 10, 1), datetime(2026, 10, 31), 480.5, "Suivi de chantier"])
    inv.append(["FX-03", "X02", datetime(2026, 10, 5), "31/02/2026" if bad_invoice else datetime(2026, 11, 4),
                99.9, "Déplacement"])
    cli = book.create_sheet("Clients")
    cli.append(["Code client", "Raison sociale", "Type", "Contact", "Email"])
    cli.append(["X01", "Menuiserie Vasseur", "entreprise", "M. Hugo Vasseur", "hugo@menuiserie-vasseur.example"])
    cli.append(["X02", "Sandrine Weber", "particulier", None, "s.weber@example.org"])
    book.save(path)
    return path


def test_workbook_with_three_sheets_imports_in_one_go(org, tmp_path):
    report = import_file(org, build_workbook(tmp_path / "export.xlsx"))

    assert report.kinds == ["customers", "invoices", "payments"]
    assert dict(report.counts) == {"customers_created": 2, "customers_updated": 0, "contacts_created": 2,
                                   "contacts_updated": 0, "invoices_created": 3, "invoices_updated": 0,
                                   "payments_created": 2}
    assert sorted(Customer.objects.values_list("code", "legal_name", "is_business")) == [
        ("X01", "Menuiserie Vasseur", True), ("X02", "Sandrine Weber", False)]
    assert sorted(Invoice.objects.values_list("number", "customer__code", "issue_date", "due_date",
                                              "amount_incl_tax", "amount_due", "status")) == [
        ("FX-01", "X01", date(2026, 9, 1), date(2026, 10, 1), D("1200.00"), D("1200.00"), "open"),
        ("FX-02", "X01", date(2026, 10, 1), date(2026, 10, 31), D("480.50"), D("180.50"), "open"),
        ("FX-03", "X02", date(2026, 10, 5), date(2026, 11, 4), D("99.90"), D("0.00"), "paid"),
    ]
    assert allocations_of("CHQ-118") == [("FX-02", D("300.00"))]
    assert allocations_of("VIR-119") == [("FX-03", D("99.90"))]
    assert Invoice.objects.get(number="FX-03").settled_on == date(2026, 11, 21)
    assert ImportBatch.objects.get().kind == "customers,invoices,payments"
    assert_amount_due_is_derived()
    assert import_file(org, tmp_path / "export.xlsx").already_imported is True


def test_workbook_with_an_error_on_its_second_sheet_imports_no_sheet(org, tmp_path):
    path = build_workbook(tmp_path / "export.xlsx", bad_invoice=True)
    before = state()
    with pytest.raises(ImportRejected) as excinfo:
        import_file(org, path)
    assert problems_of(excinfo) == [("export.xlsx [Factures]", 4, "échéance")]
    assert "31/02/2026" in excinfo.value.problems[0].message
    assert "export.xlsx [Factures], ligne 4, champ « échéance »" in excinfo.value.message
    assert state() == before
    assert not Customer.objects.exists()  # the Clients sheet, valid, was not imported either


def test_workbook_reference_problems_name_the_sheet(org, tmp_path):
    path = build_workbook(tmp_path / "export.xlsx")
    book = openpyxl.load_workbook(path)
    book["Paiements"]["E2"] = "FX-99"
    book.save(path)
    with pytest.raises(ImportRejected) as excinfo:
        import_file(org, path)
    assert problems_of(excinfo) == [("export.xlsx [Paiements]", 2, "facture")]


# ---------------------------------------------------------------------------------------------------------------
# malformed files: nothing is imported, every problem is located


BAD_CASES = [
    ("factures_sans_echeance.csv", "factures", [(1, "échéance")], "colonne obligatoire absente"),
    ("factures_date_illisible.csv", "factures", [(3, "date")], "date illisible « 31/02/2026 »"),
    ("factures_montant_negatif.csv", "factures", [(3, "montant TTC")], "le montant doit être positif (lu : -120,00)"),
    ("factures_montant_illisible.csv", "factures", [(3, "montant TTC")], "montant illisible : 'douze'"),
    ("factures_doublon.csv", "factures", [(4, "numéro")], "« F2026-0201 » figure déjà ligne 2"),
    ("factures_client_inconnu.csv", "factures", [(3, "code client")], "client « C042 » inconnu"),
    ("factures_pdf_introuvable.csv", "factures", [(3, "pdf")], "PDF « pdf/F2026-0202.pdf » introuvable ou non autorisé"),
    ("paiements_facture_inconnue.csv", "paiements", [(3, "facture")], "facture « F2026-0999 » inconnue"),
]


@pytest.mark.parametrize(("name", "kind", "where", "message"), BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_a_malformed_file_imports_nothing_and_names_file_line_and_field(loaded, name, kind, where, message):
    before = state()
    with pytest.raises(ImportRejected) as excinfo:
        import_file(loaded, BAD / name, kind)
    assert problems_of(excinfo) == [(name, line, fld) for line, fld in where]
    assert message in excinfo.value.problems[0].message
    line, fld = where[0]
    assert f"{name}, ligne {line}, champ « {fld} » : " in excinfo.value.message
    assert excinfo.value.exit_code == 4
    assert excinfo.value.as_dict()["problems"][0] == {
        "file": name, "line": line, "field": fld, "message": excinfo.value.problems[0].message}
    assert state() == before
    assert verify_chain(loaded) == []


def test_every_problem_of_a_file_is_reported_at_once(loaded, tmp_path):
    text = ("Numéro facture;Code client;Date;Échéance;Montant TTC\n"
            "F-1;C001;01/11/2026;01/12/2026;100,00\n"
            "F-2;C042;01/11/2026;01/12/2026;100,00\n"
            "\n"
            "F-3;C001;01/11/2026;01/12/2026;1,000\n"
            "F-1;C001;99/11/2026;01/12/2026;100,00\n")
    before = state()
    with pytest.raises(ImportRejected) as excinfo:
        import_file(loaded, write(tmp_path, "factures.csv", text))
    assert problems_of(excinfo) == [("factures.csv", 3, "code client"), ("factures.csv", 5, "montant TTC"),
                                    ("factures.csv", 6, "date")]
    assert state() == before


def test_a_rejected_file_can_be_imported_once_corrected(loaded, tmp_path):
    with pytest.raises(ImportRejected):
        import_file(loaded, BAD / "factures_date_illisible.csv", "factures")
    fixed = (BAD / "factures_date_illisible.csv").read_text(encoding="utf-8").replace(
        "31/02/2026;30/03/2026", "28/02/2026;30/03/2026")
    report = import_file(loaded, write(tmp_path, "factures.csv", fixed))
    assert report.counts["invoices_created"] == 3
    assert Invoice.objects.filter(number__startswith="F2026-02").count() == 3


def test_an_existing_pdf_is_attached(loaded, tmp_path):
    (tmp_path / "pdf").mkdir()
    (tmp_path / "pdf" / "F2026-0202.pdf").write_bytes(b"%PDF-1.4\n% facture\n%%EOF\n")
    path = tmp_path / "factures.csv"
    path.write_bytes((BAD / "factures_pdf_introuvable.csv").read_bytes())
    import_file(loaded, path)
    invoice = Invoice.objects.get(number="F2026-0202")
    assert invoice.pdf.name.endswith(".pdf")
    with invoice.pdf.open("rb") as fh:
        assert fh.read() == b"%PDF-1.4\n% facture\n%%EOF\n"
    assert not Invoice.objects.get(number="F2026-0201").pdf


def test_a_file_that_is_not_a_pdf_is_refused(loaded, tmp_path):
    (tmp_path / "pdf").mkdir()
    (tmp_path / "pdf" / "F2026-0202.pdf").write_text("pas un PDF")
    path = tmp_path / "factures.csv"
    path.write_bytes((BAD / "factures_pdf_introuvable.csv").read_bytes())
    before = state()
    with pytest.raises(ImportRejected) as excinfo:
        import_file(loaded, path)
    assert problems_of(excinfo) == [("factures.csv", 3, "pdf")]
    assert state() == before


def test_a_payment_designating_another_customers_invoice_is_rejected_with_its_line(loaded, tmp_path):
    path = write(tmp_path, "paiements.csv", "Référence;Code client;Date;Montant;Facture\n"
                                            "VIR-OK;C003;01/12/2026;100,00;F2026-0104\n"
                                            "VIR-KO;C002;01/12/2026;100,00;F2026-0104\n")
    before = state()
    with pytest.raises(ImportRejected) as excinfo:
        import_file(loaded, path)
    assert problems_of(excinfo) == [("paiements.csv", 3, "facture")]
    assert state() == before


def test_a_credit_note_on_another_customers_invoice_is_rejected_with_its_line(loaded, tmp_path):
    path = write(tmp_path, "avoirs.csv", "Numéro avoir;Code client;Date;Montant TTC;Facture d'origine\n"
                                         "AV-1;C002;05/11/2026;100,00;F2026-0102\n")
    before = state()
    with pytest.raises(ImportRejected) as excinfo:
        import_file(loaded, path)
    assert problems_of(excinfo) == [("avoirs.csv", 2, "facture")]
    assert state() == before


def test_an_unreadable_file_is_rejected_without_line(org, tmp_path):
    with pytest.raises(ImportRejected) as excinfo:
        import_file(org, tmp_path / "absent.csv")
    assert problems_of(excinfo) == [("absent.csv", None, None)]
    path = tmp_path / "clients.csv"
    path.write_bytes(b"")
    with pytest.raises(ImportRejected) as excinfo:
        import_file(org, path)
    assert problems_of(excinfo) == [("clients.csv", None, None)]
    assert counts() == {m.__name__: 0 for m in LEDGER_MODELS}


# ---------------------------------------------------------------------------------------------------------------
# encodings


def test_windows_1252_file_with_accents(org, tmp_path):
    text = ("Code client;Raison sociale;Adresse;Code postal;Ville;Délai de paiement;Contact;Fonction;Email\n"
            "E001;Société Générale d’Électricité;3 chemin de l’Écluse;13002;Marseille;30 jours;"
            "Mme Hélène Bérénice Lefèvre;Trésorière;tresorerie@sge.example\n"
            "E002;Crêperie « Chez Gaëlle »;1 place de l'Église;29200;Brest;45j;M. François Nöel;Gérant;\n")
    path = write(tmp_path, "clients.csv", text, encoding="cp1252")
    raw = path.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    import_file(org, path, default_kind="entreprise")
    assert sorted(Customer.objects.values_list("code", "legal_name", "address1", "city", "terms_days")) == [
        ("E001", "Société Générale d’Électricité", "3 chemin de l’Écluse", "Marseille", 30),
        ("E002", "Crêperie « Chez Gaëlle »", "1 place de l'Église", "Brest", 45),
    ]
    assert sorted(Contact.objects.values_list("customer__code", "civility", "first_name", "last_name", "role")) == [
        ("E001", "Mme", "Hélène", "Bérénice Lefèvre", "Trésorière"),
        ("E002", "M.", "François", "Nöel", "Gérant"),
    ]
    invoices = ("Numéro facture;Code client;Date;Échéance;Montant TTC;Libellé\n"
                "FE-1;E001;01/10/2026;31/10/2026;1\xa0234,56 €;Réparation d'urgence\n")
    import_file(org, write(tmp_path, "factures.csv", invoices, encoding="cp1252"))
    invoice = Invoice.objects.get(number="FE-1")
    assert (invoice.amount_incl_tax, invoice.amount_due, invoice.description) == (
        D("1234.56"), D("1234.56"), "Réparation d'urgence")


def test_utf8_with_bom_as_written_by_excel(org, tmp_path):
    path = tmp_path / "clients.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (CSV / "clients.csv").read_bytes())
    report = import_file(org, path)
    assert report.counts["customers_created"] == 4
    assert Customer.objects.get(code="C001").legal_name == "Boulangerie Lemoine SARL"


# ---------------------------------------------------------------------------------------------------------------
# credit notes


def test_a_credit_note_for_the_whole_invoice_cancels_it(loaded, tmp_path):
    path = write(tmp_path, "avoirs.csv", "Numéro avoir;Code client;Date;Montant TTC;Facture d'origine;Motif\n"
                                         "AV2026-0001;P001;25/10/2026;412,50;F2026-0106;Intervention annulée\n")
    events_before = Event.objects.count()

    report = import_file(loaded, path)

    assert (report.kinds, dict(report.counts)) == (["credit_notes"], {"credit_notes_created": 1})
    note = CreditNote.objects.get()
    assert (note.number, note.customer.code, note.issue_date, note.amount_incl_tax, note.invoice.number,
            note.reason) == ("AV2026-0001", "P001", date(2026, 10, 25), D("412.50"), "F2026-0106",
                             "Intervention annulée")
    invoice = Invoice.objects.get(number="F2026-0106")
    assert (invoice.status, invoice.amount_due, invoice.settled_on) == ("credited", D("0.00"), date(2026, 10, 25))
    assert list(Allocation.objects.filter(credit_note=note).values_list("invoice__number", "amount")) == [
        ("F2026-0106", D("412.50"))]
    new = list(Event.objects.filter(seq__gt=events_before).order_by("seq").values_list("kind", "data"))
    assert [k for k, _ in new] == ["credit_note.recorded", "invoice.settled", "import.completed"]
    assert new[1][1] == {"number": "F2026-0106", "status": "credited", "on": "2026-10-25"}
    assert_amount_due_is_derived()
    assert import_file(loaded, path).already_imported is True
    assert CreditNote.objects.count() == 1


def test_a_partial_credit_note_lowers_amount_due(loaded, tmp_path):
    path = write(tmp_path, "avoirs.csv", "Numéro avoir;Code client;Date;Montant TTC;Facture d'origine;Motif\n"
                                         "AV2026-0007;C002;05/11/2026;176,60;F2026-0103;Geste commercial\n")
    import_file(loaded, path)
    invoice = Invoice.objects.get(number="F2026-0103")
    assert (invoice.status, invoice.amount_due, invoice.settled_on) == ("open", D("4000.00"), None)
    assert not Event.objects.filter(kind="invoice.settled", invoice_id_ref=invoice.id).exists()
    # the rest paid later: the invoice is paid (not credited), settled on the payment date
    record_payment(loaded, invoice.customer, "VIR-REST", date(2026, 11, 20), D("4000.00"))
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_due, invoice.settled_on) == ("paid", D("0.00"), date(2026, 11, 20))
    assert_amount_due_is_derived()


def test_a_known_credit_note_in_a_newer_export_is_not_applied_twice(loaded, tmp_path):
    header = "Numéro avoir;Code client;Date;Montant TTC;Facture d'origine\n"
    import_file(loaded, write(tmp_path, "avoirs.csv", header + "AV-1;C002;05/11/2026;176,60;F2026-0103\n"))
    report = import_file(loaded, write(tmp_path, "avoirs.csv", header + "AV-1;C002;05/11/2026;176,60;F2026-0103\n"
                                                                        "AV-2;C002;06/11/2026;100,00;F2026-0103\n"))
    assert dict(report.counts) == {"credit_notes_unchanged": 1, "credit_notes_created": 1}
    assert due("F2026-0103") == D("3900.00")
    assert CreditNote.objects.count() == 2
    assert_amount_due_is_derived()


def test_a_newer_payment_export_does_not_duplicate_known_payments(loaded, tmp_path):
    text = (CSV / "paiements.csv").read_text(encoding="utf-8") + "CHQ-0001;C001;02/11/2026;500,00;;chèque\n"
    report = import_file(loaded, write(tmp_path, "paiements.csv", text))
    assert dict(report.counts) == {"payments_unchanged": 1, "payments_created": 1}
    assert Payment.objects.count() == 2
    assert allocations_of("VIR-20260930-0417") == [("F2026-0101", D("1500.00"))]
    assert allocations_of("CHQ-0001") == [("F2026-0102", D("500.00"))]
    assert_amount_due_is_derived()


def test_a_legal_form_column_is_read_and_a_file_without_it_keeps_the_form(loaded, tmp_path):
    """The debtor's legal form is a mention of the injonction de payer request (C. proc. civ. 1407, 57)."""
    import_file(loaded, write(tmp_path, "formes.csv", "Code client;Raison sociale;Type;Forme juridique\n"
                                                     "C001;Boulangerie Lemoine;entreprise;SARL\n"))
    assert Customer.objects.get(code="C001").legal_form == "SARL"
    import_file(loaded, write(tmp_path, "sans-forme.csv", "Code client;Raison sociale;Type\n"
                                                         "C001;Boulangerie Lemoine;entreprise\n"))
    assert Customer.objects.get(code="C001").legal_form == "SARL"
