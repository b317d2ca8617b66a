"""Importing e-invoices into the ledger: customer, invoice, prepayment, PDF, credit notes,
seller check, all-or-nothing, idempotence; the real FNFE and CTC samples when present."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

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
    Source,
)
from relance.ledger.services.einvoice_import import import_einvoices
from relance.ledger.services.payments import record_payment
from tests.builders import make_customer, make_invoice, make_org

pytestmark = pytest.mark.django_db

D = Decimal
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "einvoice"
BAD = FIXTURES / "bad"
CII = FIXTURES / "atelier_cii_en16931.xml"
CII_NOTE = FIXTURES / "atelier_cii_credit_note.xml"
UBL = FIXTURES / "atelier_ubl_invoice.xml"
UBL_NOTE = FIXTURES / "atelier_ubl_credit_note.xml"
PDF = FIXTURES / "atelier_facturx_basicwl.pdf"
SUPPLIER = FIXTURES / "supplier_invoice.xml"
MODELS = (Customer, Contact, Invoice, CreditNote, Payment, Allocation, ImportBatch, Event)


def _realdata(sub: str) -> Path:
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "realdata" / sub
        if candidate.is_dir():
            return candidate
    return Path(__file__).resolve().parents[2].parent / "shared" / "realdata" / sub


REALDATA = _realdata("einvoice")
needs_realdata = pytest.mark.skipif(
    not REALDATA.is_dir(), reason=f"corpus of real e-invoices absent ({REALDATA}): real-data tests skipped"
)


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def org() -> Organisation:
    return make_org(vat_number="FR96552100554")


def counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in MODELS}


def state() -> dict[str, Any]:
    return {
        "counts": counts(),
        "invoices": sorted(Invoice.objects.values_list(
            "number", "customer__code", "issue_date", "due_date", "amount_incl_tax", "amount_due", "status",
            "payment_reference", "pdf")),
        "allocations": sorted(Allocation.objects.values_list("invoice__number", "amount", "date")),
    }


def variant(tmp_path: Path, source: Path, name: str, *replacements: tuple[str, str]) -> Path:
    text = source.read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    target = tmp_path / name
    target.write_text(text, encoding="utf-8")
    return target


def test_cii_invoice_creates_customer_contact_invoice_and_prepayment(org: Organisation) -> None:
    report = import_einvoices(org, [CII], actor="test")

    customer = Customer.objects.get(organisation=org)
    assert (customer.code, customer.legal_name, customer.siren, customer.siret, customer.vat_number) == (
        "BOULMARTIN", "Boulangerie Martin SARL", "732829320", "73282932000074", "FR44732829320")
    assert (customer.address1, customer.address2, customer.postal_code, customer.city, customer.country) == (
        "12 rue des Lilas", "Bâtiment B", "69003", "Lyon", "FR")
    assert customer.payment_reference.startswith("RF")
    contact = Contact.objects.get(customer=customer)
    assert (contact.civility, contact.first_name, contact.last_name, contact.email, contact.phone, contact.is_billing) == (
        "Mme", "Claire", "Martin", "compta@boulangerie-martin.test", "04 72 00 00 01", True)

    invoice = Invoice.objects.get(organisation=org)
    assert (invoice.number, invoice.issue_date, invoice.due_date, invoice.delivery_date) == (
        "FA-2026-0101", date(2026, 3, 2), date(2026, 4, 1), date(2026, 2, 27))
    assert (invoice.amount_excl_tax, invoice.tax_amount, invoice.amount_incl_tax) == (D("1000"), D("200"), D("1200"))
    assert (invoice.amount_due, invoice.status) == (D("900.00"), Invoice.Status.OPEN)
    assert invoice.source == Source.EINVOICE
    assert invoice.payment_reference == "FA-2026-0101"  # BT-83 kept
    assert not invoice.pdf  # pure XML: no PDF

    payment = Payment.objects.get(organisation=org)
    assert (payment.reference, payment.method, payment.amount, payment.date) == (
        "FA-2026-0101-ACOMPTE", "acompte", D("300.00"), date(2026, 3, 2))
    assert list(Allocation.objects.values_list("invoice__number", "payment__reference", "amount")) == [
        ("FA-2026-0101", "FA-2026-0101-ACOMPTE", D("300.00"))]

    data = report.as_dict()
    assert data["invoices"] == [{
        "number": "FA-2026-0101", "issue_date": "2026-03-02", "due_date": "2026-04-01", "amount_due": "900.00",
        "amount_incl_tax": "1200.00", "prepaid": "300.00", "currency": "EUR", "customer": "BOULMARTIN",
        "type_code": "380", "preceding_invoices": [], "profile": "EN 16931", "syntax": "CII",
        "file": "atelier_cii_en16931.xml", "pdf": False, "due_date_from": "document", "status": "created",
    }]
    assert data["credit_notes"] == [] and data["already_imported"] == [] and data["warnings"] == []
    assert data["customers_created"] == ["BOULMARTIN"]
    text = report.as_text()
    assert text.startswith("1 fichier lu : 1 facture, 0 avoir, 1 client créé.")
    assert "Facture FA-2026-0101 (BOULMARTIN) du 02/03/2026, échéance 01/04/2026, reste dû 900,00" in text

    events = list(Event.objects.filter(organisation=org).order_by("seq").values_list("kind", "data"))
    kinds = [k for k, _ in events]
    assert kinds == ["invoice.imported", "payment.recorded", "import.completed"]
    imported = events[0][1]
    assert imported["source"] == "einvoice" and imported["number"] == "FA-2026-0101" and imported["prepaid"] == "300.00"
    assert verify_chain(org) == []
    assert ImportBatch.objects.get(organisation=org).kind == "einvoice:cii"


def test_facturx_pdf_is_attached_and_the_due_date_comes_from_the_terms(org: Organisation) -> None:
    report = import_einvoices(org, [PDF])
    invoice = Invoice.objects.get(number="FA-2026-0103")
    assert invoice.pdf and invoice.pdf.read() == PDF.read_bytes()
    # « 30 jours fin de mois », counted as the organisation counts: end of March, then 30 days
    assert invoice.due_date == date(2026, 4, 30)
    assert invoice.payment_reference.startswith("RF")  # no BT-83: an RF reference
    assert invoice.customer.code == "732829320"  # no seller's code for the buyer: its SIREN
    (warning,) = report.warnings
    assert "« Paiement à 30 jours fin de mois »" in warning and "30/04/2026" in warning
    assert report.as_dict()["invoices"][0]["pdf"] is True


def test_due_date_from_the_organisation_default_terms(org: Organisation, tmp_path: Path) -> None:
    org.default_terms_days = 45
    org.save()
    path = variant(tmp_path, SUPPLIER, "minimum.xml",
                   ("Fournitures Lyonnaises SA", "Atelier Dubois SAS"), (">404833048<", ">552100554<"),
                   ("<ram:Name>Atelier Dubois SAS</ram:Name>\n        <ram:SpecifiedLegalOrganization>\n"
                    "          <ram:ID schemeID=\"0002\">552100554</ram:ID>\n        </ram:SpecifiedLegalOrganization>\n"
                    "      </ram:BuyerTradeParty>",
                    "<ram:Name>Client Particulier</ram:Name>\n      </ram:BuyerTradeParty>"))
    # a buyer without SIREN, SIRET or VAT number: its kind is not guessed
    with pytest.raises(ImportRejected) as excinfo:
        import_einvoices(org, [path])
    assert "ni SIREN, ni SIRET, ni numéro de TVA" in str(excinfo.value.problems[0])
    assert not Invoice.objects.filter(number="FL-88812").exists()
    report = import_einvoices(org, [path], default_kind="particulier")
    invoice = Invoice.objects.get(number="FL-88812")
    assert invoice.due_date == date(2026, 4, 19)  # 5 March + 45 days
    assert invoice.customer.code == "client-particulier"
    assert invoice.customer.is_business is False
    assert "Type de client par défaut donné pour cet import : particulier (1 nouveau(x) client(s)" in report.as_text()
    assert any("délai de paiement par défaut de l’organisation" in w for w in report.warnings)


def test_credit_note_is_allocated_to_the_invoice_it_names(org: Organisation) -> None:
    # the credit note comes first: invoices are imported before credit notes in one batch
    report = import_einvoices(org, [CII_NOTE, CII])
    note = CreditNote.objects.get(number="AV-2026-0007")
    assert note.invoice is not None and note.invoice.number == "FA-2026-0101"
    assert (note.amount_incl_tax, note.issue_date, note.reason) == (
        D("120.00"), date(2026, 3, 10), "Geste commercial : retard de chantier")
    assert Customer.objects.count() == 1  # the credit note's buyer is the invoice's (SIREN)
    invoice = Invoice.objects.get(number="FA-2026-0101")
    assert invoice.amount_due == D("780.00")  # 1 200 − 300 prepaid − 120 credited
    assert report.as_dict()["credit_notes"] == [{
        "number": "AV-2026-0007", "issue_date": "2026-03-10", "due_date": None, "amount_due": "120.00",
        "currency": "EUR", "customer": "BOULMARTIN", "type_code": "381", "invoice": "FA-2026-0101",
        "preceding_invoices": ["FA-2026-0101"], "profile": "BASIC", "syntax": "CII", "file": "atelier_cii_credit_note.xml",
        "status": "created",
    }]
    assert report.as_dict()["invoices"][0]["amount_due"] == "900.00"  # at the time it was imported
    assert "Avoir AV-2026-0007 (BOULMARTIN) de 120,00" in report.as_text()


def test_ubl_invoice_then_ubl_credit_note_cancelling_it(org: Organisation) -> None:
    report = import_einvoices(org, [UBL])
    invoice = Invoice.objects.get(number="FA-2026-0102")
    assert invoice.due_date == date(2026, 3, 17)  # 45 jours fin de mois, end of month first (eom_before)
    customer = invoice.customer
    assert (customer.code, customer.siren, customer.legal_name) == ("443061841", "443061841", "Garage du Centre")
    contact = Contact.objects.get(customer=customer)
    assert (contact.email, contact.first_name, contact.last_name) == ("compta@garageducentre.test", "Paul", "Durand")
    assert any("45 jours fin de mois" in w for w in report.warnings)

    import_einvoices(org, [UBL_NOTE])
    invoice.refresh_from_db()
    assert (invoice.amount_due, invoice.status) == (D("0.00"), Invoice.Status.CREDITED)
    assert CreditNote.objects.get(number="AV-2026-0008").invoice == invoice


def test_seller_mismatch_is_refused_and_nothing_is_imported(org: Organisation) -> None:
    before = state()
    with pytest.raises(ImportRejected) as exc:
        import_einvoices(org, [CII, SUPPLIER, PDF])
    (problem,) = exc.value.problems
    assert problem.file == "supplier_invoice.xml"
    assert "ram:SellerTradeParty" in (problem.field or "")
    assert problem.message.startswith(
        "cette facture a été émise par « Fournitures Lyonnaises SA », pas par « Atelier Dubois SAS » "
        "(SIREN 404833048 au lieu de 552100554)")
    assert state() == before


def test_no_pdf_is_left_behind_when_the_batch_fails_late(org: Organisation, settings: Any) -> None:
    """A problem found while writing (here: the credit note's customer contradicts its invoice's)
    rolls everything back, including the PDF already stored."""
    customer = make_customer(org, "X", "Autre client", siren="443061841")
    make_invoice(customer, "FA-2026-0101", "10.00", date(2026, 2, 1), issued=date(2026, 1, 1))
    before = state()
    with pytest.raises(ImportRejected) as exc:
        import_einvoices(org, [PDF, CII])
    assert "concerne le client « Autre client » (X)" in exc.value.problems[0].message
    assert state() == before
    media = Path(settings.MEDIA_ROOT)
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


def test_seller_without_comparable_identifier_is_checked_by_name(tmp_path: Path) -> None:
    org = make_org(siren="", vat_number="")
    ok = import_einvoices(org, [CII])
    assert len(ok.invoices) == 1
    other = variant(tmp_path, CII, "other.xml", ("<ram:Name>Atelier Dubois SAS</ram:Name>",
                                                 "<ram:Name>Menuiserie Roux</ram:Name>"),
                    ("FA-2026-0101", "FA-2026-0201"))
    with pytest.raises(ImportRejected) as exc:
        import_einvoices(org, [other])
    assert "pas par « Atelier Dubois SAS » : ni SIREN ni numéro de TVA comparables" in exc.value.problems[0].message


def test_hostile_and_broken_files_reject_the_whole_batch(org: Organisation, tmp_path: Path) -> None:
    big = tmp_path / "enorme.xml"
    with big.open("wb") as handle:
        handle.truncate(20 * 1024 * 1024 + 1)
    before = state()
    with pytest.raises(ImportRejected) as exc:
        import_einvoices(org, [CII, BAD / "xxe.xml", BAD / "billion_laughs.xml", BAD / "plain.pdf",
                               BAD / "truncated.xml", big])
    by_file = {p.file: p.message for p in exc.value.problems}
    assert set(by_file) == {"xxe.xml", "billion_laughs.xml", "plain.pdf", "truncated.xml", "enorme.xml"}
    assert "XML refusé" in by_file["xxe.xml"] and "XML refusé" in by_file["billion_laughs.xml"]
    assert "PDF sans facture électronique intégrée" in by_file["plain.pdf"]
    assert "tronqué" in by_file["truncated.xml"]
    assert "refusé sans être lu" in by_file["enorme.xml"]
    assert state() == before
    assert "rien n’a été importé" in exc.value.message


def test_unknown_type_code_is_refused(org: Organisation, tmp_path: Path) -> None:
    debit = variant(tmp_path, CII, "debit.xml", ("<ram:TypeCode>380</ram:TypeCode>", "<ram:TypeCode>383</ram:TypeCode>"))
    with pytest.raises(ImportRejected) as exc:
        import_einvoices(org, [debit])
    assert "type de document « 383 » (note de débit) non pris en charge" in exc.value.problems[0].message
    assert counts()["Invoice"] == counts()["CreditNote"] == 0


def test_corrective_invoice_keeps_the_preceding_invoice(org: Organisation, tmp_path: Path) -> None:
    import_einvoices(org, [UBL])
    corrective = variant(
        tmp_path, UBL, "rectif.xml", ("<cbc:ID>FA-2026-0102</cbc:ID>", "<cbc:ID>FA-2026-0110</cbc:ID>"),
        ("<cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>",
         "<cbc:InvoiceTypeCode>384</cbc:InvoiceTypeCode>\n  <cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>\n"
         "  <cac:BillingReference><cac:InvoiceDocumentReference><cbc:ID>FA-2026-0102</cbc:ID>"
         "</cac:InvoiceDocumentReference></cac:BillingReference>"),
        ("<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>\n  <cac:AccountingSupplierParty>",
         "<cac:AccountingSupplierParty>"))
    report = import_einvoices(org, [corrective])
    invoice = Invoice.objects.get(number="FA-2026-0110")
    assert invoice.description == "Facture rectificative de FA-2026-0102"
    (entry,) = report.as_dict()["invoices"]
    assert (entry["type_code"], entry["preceding_invoices"]) == ("384", ["FA-2026-0102"])
    assert any("facture rectificative de FA-2026-0102, encore à payer" in w for w in report.warnings)
    event = Event.objects.get(kind="invoice.imported", invoice_id_ref=invoice.id)
    assert event.data["preceding_invoices"] == ["FA-2026-0102"] and event.data["type_code"] == "384"


def test_iban_different_from_the_organisation_is_a_warning(tmp_path: Path) -> None:
    org = make_org(iban="FR1420041010050500013M02606")
    report = import_einvoices(org, [CII])
    assert any("IBAN de paiement FR7630006000011234567890189 différent de celui de l’organisation" in w
               for w in report.warnings)


def test_reimporting_the_same_file_changes_nothing(org: Organisation) -> None:
    import_einvoices(org, [CII, PDF, CII_NOTE])
    before = state()
    report = import_einvoices(org, [CII, PDF, CII_NOTE])
    assert report.already_imported == ["atelier_cii_en16931.xml", "atelier_facturx_basicwl.pdf",
                                       "atelier_cii_credit_note.xml"]
    assert report.invoices == [] and report.credit_notes == []
    assert state() == before
    assert "Déjà importé, rien n’a changé : atelier_cii_en16931.xml" in report.as_text()


def test_same_file_twice_in_one_call(org: Organisation, tmp_path: Path) -> None:
    copy = tmp_path / "copie.xml"
    copy.write_bytes(CII.read_bytes())
    report = import_einvoices(org, [CII, copy])
    assert report.already_imported == ["copie.xml"]
    assert Invoice.objects.count() == 1 and Payment.objects.count() == 1


def test_same_invoice_from_another_file_with_the_same_content_is_unchanged(org: Organisation, tmp_path: Path) -> None:
    import_einvoices(org, [CII])
    before = state()
    same = variant(tmp_path, CII, "renvoi.xml", ("<!-- Self-made", "<!-- Sent again. Self-made"))
    report = import_einvoices(org, [same])
    assert [i["status"] for i in report.invoices] == ["unchanged"]
    assert report.as_dict()["counts"] == {"invoices_unchanged": 1}
    after = state()
    assert (after["invoices"], after["allocations"]) == (before["invoices"], before["allocations"])
    assert after["counts"] == {**before["counts"], "ImportBatch": 2, "Event": before["counts"]["Event"] + 1}


def test_changed_amounts_are_refused_once_something_was_paid(org: Organisation, tmp_path: Path) -> None:
    import_einvoices(org, [CII])  # 300,00 € prepaid: something was paid
    before = state()
    changed = variant(tmp_path, CII, "modif.xml", ("<ram:GrandTotalAmount>1200.00", "<ram:GrandTotalAmount>1260.00"),
                      ("<ram:DuePayableAmount>900.00", "<ram:DuePayableAmount>960.00"),
                      ('<ram:TaxTotalAmount currencyID="EUR">200.00', '<ram:TaxTotalAmount currencyID="EUR">260.00'))
    with pytest.raises(ImportRejected) as exc:
        import_einvoices(org, [changed])
    message = exc.value.problems[0].message
    assert message.startswith("la facture FA-2026-0101 est déjà enregistrée pour 1")
    assert "émettez un avoir plutôt que de modifier la facture" in message
    assert state() == before


def test_changed_amounts_update_the_invoice_when_nothing_was_paid(org: Organisation, tmp_path: Path) -> None:
    import_einvoices(org, [UBL])
    changed = variant(tmp_path, UBL, "modif.xml",
                      ('<cbc:TaxInclusiveAmount currencyID="EUR">300.00', '<cbc:TaxInclusiveAmount currencyID="EUR">360.00'),
                      ('<cbc:PayableAmount currencyID="EUR">300.00', '<cbc:PayableAmount currencyID="EUR">360.00'),
                      ('<cbc:TaxAmount currencyID="EUR">50.00', '<cbc:TaxAmount currencyID="EUR">110.00'),
                      ("<cbc:IssueDate>2026-01-15", "<cbc:IssueDate>2026-01-20"))
    report = import_einvoices(org, [changed])
    assert [i["status"] for i in report.invoices] == ["updated"]
    invoice = Invoice.objects.get(number="FA-2026-0102")
    assert (invoice.amount_incl_tax, invoice.amount_due, invoice.issue_date) == (D("360.00"), D("360.00"), date(2026, 1, 20))
    event = Event.objects.filter(kind="invoice.updated").get()
    assert event.data["changes"]["amount_incl_tax"] == ["300.00", "360.00"]

    record_payment(org, invoice.customer, "VIR-1", date(2026, 2, 1), D("10.00"), ["FA-2026-0102"])
    again = variant(tmp_path, changed, "modif2.xml",
                    ('<cbc:TaxInclusiveAmount currencyID="EUR">360.00', '<cbc:TaxInclusiveAmount currencyID="EUR">300.00'),
                    ('<cbc:PayableAmount currencyID="EUR">360.00', '<cbc:PayableAmount currencyID="EUR">300.00'))
    with pytest.raises(ImportRejected):
        import_einvoices(org, [again])


def test_same_number_with_different_content_in_one_batch_is_refused(org: Organisation, tmp_path: Path) -> None:
    other = variant(tmp_path, CII, "autre.xml", ("<ram:GrandTotalAmount>1200.00", "<ram:GrandTotalAmount>1300.00"),
                    ("<ram:DuePayableAmount>900.00", "<ram:DuePayableAmount>1000.00"))
    with pytest.raises(ImportRejected) as exc:
        import_einvoices(org, [CII, other])
    assert "figure aussi dans atelier_cii_en16931.xml" in exc.value.problems[0].message
    assert counts()["Invoice"] == 0


def test_existing_customer_is_matched_by_siren_then_vat_then_name(org: Organisation) -> None:
    known = make_customer(org, "C001", "Boulangerie Martin", siren="732829320")
    import_einvoices(org, [CII])
    invoice = Invoice.objects.get(number="FA-2026-0101")
    assert invoice.customer == known
    known.refresh_from_db()
    assert (known.siret, known.vat_number, known.address1) == ("73282932000074", "FR44732829320", "12 rue des Lilas")
    assert Contact.objects.count() == 0  # an existing customer's contacts are left alone

    by_name = make_customer(org, "G01", "garage du centre")
    import_einvoices(org, [UBL])
    assert Invoice.objects.get(number="FA-2026-0102").customer == by_name


def test_invoice_already_in_the_ledger_from_csv_gets_its_pdf(org: Organisation) -> None:
    customer = make_customer(org, "C001", "Boulangerie Martin", siren="732829320")
    make_invoice(customer, "FA-2026-0103", "480.00", date(2026, 4, 30), issued=date(2026, 3, 16),
                 amount_excl_tax=D("400.00"), tax_amount=D("80.00"))
    report = import_einvoices(org, [PDF])
    assert [i["status"] for i in report.invoices] == ["unchanged"]
    invoice = Invoice.objects.get(number="FA-2026-0103")
    assert invoice.pdf and invoice.source == Source.CSV and invoice.customer == customer
    event = Event.objects.get(kind="invoice.updated", invoice_id_ref=invoice.id)
    assert event.data["pdf_added"] is True


def test_missing_excl_tax_and_tax_are_filled_in_even_after_a_payment(org: Organisation) -> None:
    customer = make_customer(org, "C001", "Boulangerie Martin", siren="732829320")
    make_invoice(customer, "FA-2026-0103", "480.00", date(2026, 4, 30), issued=date(2026, 3, 16))
    record_payment(org, customer, "VIR-7", date(2026, 3, 20), D("80.00"), ["FA-2026-0103"])
    report = import_einvoices(org, [PDF])
    assert [i["status"] for i in report.invoices] == ["updated"]
    invoice = Invoice.objects.get(number="FA-2026-0103")
    assert (invoice.amount_excl_tax, invoice.tax_amount, invoice.amount_due) == (D("400.00"), D("80.00"), D("400.00"))
    event = Event.objects.get(kind="invoice.updated", invoice_id_ref=invoice.id)
    assert event.data["pdf_added"] is True and set(event.data["changes"]) == {"amount_excl_tax", "tax_amount"}


# --- the real samples -------------------------------------------------------------------------

@pytest.fixture
def moulin() -> Organisation:
    """The seller of the FNFE and akretion UBL samples."""
    return make_org("moulin", legal_name="Au bon moulin", siren="999999998", vat_number="FR11999999998",
                    iban="FR2012421242124212421242124")


@needs_realdata
def test_fnfe_basic_wl_pdf_then_its_credit_note(moulin: Organisation) -> None:
    report = import_einvoices(moulin, [REALDATA / "zugferdcorpus_Facture_FR_BASICWL.pdf"])
    invoice = Invoice.objects.get(organisation=moulin, number="FA-2017-0010")
    assert (invoice.amount_incl_tax, invoice.amount_due) == (D("671.15"), D("470.15"))
    assert invoice.pdf and invoice.pdf.size == (REALDATA / "zugferdcorpus_Facture_FR_BASICWL.pdf").stat().st_size
    assert invoice.due_date == date(2017, 12, 13) and invoice.payment_reference == "FA-2017-0010"
    payment = Payment.objects.get(organisation=moulin)
    assert (payment.reference, payment.amount, payment.method) == ("FA-2017-0010-ACOMPTE", D("201.00"), "acompte")
    customer = invoice.customer
    assert (customer.code, customer.siren, customer.vat_number, customer.city) == (
        "787878784", "787878784", "FR19787878784", "Lyon")
    assert customer.siret == ""  # the sample's SIRET has a wrong check digit
    assert any("SIRET de l’acheteur « 78787878400035 » invalide" in w for w in report.warnings)
    assert report.as_dict()["invoices"][0]["amount_due"] == "470.15"

    import_einvoices(moulin, [REALDATA / "zugferdcorpus_Avoir_FR_type381_BASIC.pdf"])
    note = CreditNote.objects.get(organisation=moulin, number="AV-2017-0005")
    assert note.invoice == invoice and note.amount_incl_tax == D("233.47")
    invoice.refresh_from_db()
    assert invoice.amount_due == D("236.68")

    # the same invoice in MINIMUM (no due date: 30 days by default = 13/12/2017) and as bare XML
    before = state()
    again = import_einvoices(moulin, [REALDATA / "zugferdcorpus_Facture_FR_MINIMUM.pdf",
                                      REALDATA / "zugferdcorpus_Facture_FR_BASICWL.extracted-factur-x.xml"])
    assert [i["status"] for i in again.invoices] == ["unchanged", "unchanged"]
    assert state()["invoices"] == before["invoices"] and state()["allocations"] == before["allocations"]
    assert verify_chain(moulin) == []


@needs_realdata
def test_ubl_ctc_fr_extended(moulin: Organisation) -> None:
    report = import_einvoices(moulin, [REALDATA / "akretion_ubl-21-extended-ctc-fr.xml"])
    invoice = Invoice.objects.get(organisation=moulin, number="F124212")
    assert (invoice.amount_incl_tax, invoice.amount_due, invoice.due_date) == (
        D("308.03"), D("208.03"), date(2026, 7, 16))
    assert invoice.payment_reference == "2026-06-17 00:00:00"
    assert invoice.delivery_date == date(2026, 6, 14)
    assert Payment.objects.get(organisation=moulin).amount == D("100.00")
    customer = invoice.customer
    assert (customer.code, customer.legal_name, customer.siret) == (
        "787878784", "Ma jolie boutique SARL", "78787878400018")
    assert Contact.objects.get(customer=customer).email == "laetita.durand@jolieboutique.com"
    assert report.warnings == []


@needs_realdata
def test_akretion_invoice_of_another_seller_is_refused(moulin: Organisation) -> None:
    with pytest.raises(ImportRejected) as exc:
        import_einvoices(moulin, [REALDATA / "akretion_invoice_EN16931.pdf"])
    (problem,) = exc.value.problems
    assert problem.file == "akretion_invoice_EN16931.pdf"
    assert (problem.field or "").startswith("factur-x.xml › ")
    assert "émise par « LE FOURNISSEUR », pas par « Au bon moulin »" in problem.message
