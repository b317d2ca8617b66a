"""« Payer en un scan »: every reminder email and letter carries the EPC QR code and the transfer
details; the QR code is decoded from the message as sent and compared with the expected payload."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal
from email.message import Message
from typing import Any

import pytest
import zxingcpp
from django.core import mail
from django.core.files.base import ContentFile
from PIL import Image
from pypdf import PdfReader

from relance.core.references import epc_payload, format_rf, is_valid_rf, make_rf_lenient
from relance.dunning.models import MessageTemplate, Reminder, Step
from relance.dunning.services.dispatcher import dispatch_now
from relance.dunning.services.planner import plan_day
from relance.ledger.models import Customer, Invoice, Organisation
from relance.ledger.services.imports import import_file
from relance.ledger.services.payments import record_payment
from tests.builders import CUSTOMERS_CSV, invoices_csv, make_org, write

pytestmark = pytest.mark.django_db(transaction=True)

IBAN = "FR7630006000011234567890189"
IBAN_GROUPED = "FR76 3000 6000 0112 3456 7890 189"


@pytest.fixture(autouse=True)
def _settings(settings: Any, tmp_path: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path / "media"


def _load(org: Organisation, tmp_path: Any) -> Organisation:
    import_file(org, write(tmp_path, "clients.csv", CUSTOMERS_CSV))
    import_file(org, write(tmp_path, "factures.csv", invoices_csv([
        ("F-001", "C001", "2026-01-10", "2026-02-10", "1200,00"),
        ("F-002", "C001", "2026-02-01", "2026-03-03", "480,50"),
        ("F-003", "C002", "2026-02-15", "2026-03-16", "2 400,00"),
        ("F-004", "C003", "2026-02-15", "2026-03-16", "150,00"),
    ])))
    return org


@pytest.fixture
def org(tmp_path: Any) -> Organisation:
    return _load(make_org(), tmp_path)


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 11, 0, tzinfo=UTC)


FIRST_REMINDER_DAY = date(2026, 3, 24)  # F-001 J+42, F-002 J+21, F-003 J+8: relance_1 to C001 and C002


def send_first_reminders(org: Organisation) -> dict[str, Any]:
    plan_day(org, FIRST_REMINDER_DAY)
    dispatch_now(org, noon(FIRST_REMINDER_DAY))
    return {m.to[0]: m for m in mail.outbox}


def email_to(outbox: dict[str, Any], address_part: str) -> Any:
    return next(m for to, m in outbox.items() if address_part in to)


def expected_payload(org: Organisation, amount: str, reference: str) -> str:
    return epc_payload(name=org.legal_name, iban=org.iban, bic=org.bic, amount=Decimal(amount), reference=reference)


def decode(png: bytes | Image.Image) -> list[str]:
    image = png if isinstance(png, Image.Image) else Image.open(io.BytesIO(png))
    return [b.text for b in zxingcpp.read_barcodes(image) if b.format == zxingcpp.BarcodeFormat.QRCode]


def mime_parts(message: Any) -> list[Message]:
    return list(message.message().walk())


def html_part(message: Any) -> str:
    return next(str(p.get_payload(decode=True).decode("utf-8")) for p in mime_parts(message)
                if p.get_content_type() == "text/html")


def inline_qr(message: Any) -> tuple[str, bytes]:
    """(Content-ID, PNG) of the one inline image, checked to sit in a multipart/related with the HTML."""
    parts = mime_parts(message)
    related = [p for p in parts if p.get_content_type() == "multipart/related"]
    assert len(related) == 1 and related[0].get_param("type") == "text/html"
    children = related[0].get_payload()
    assert [c.get_content_type() for c in children] == ["text/html", "image/png"]
    image = children[1]
    assert image.get_content_disposition() == "inline"
    cid = str(image["Content-ID"]).strip("<>")
    return cid, image.get_payload(decode=True)


def plan_step(org: Organisation, template: str, invoices: list[Invoice], day: date, channel: str = "") -> Reminder:
    step = Step.objects.get(scenario__organisation=org, template=template)
    reminder = Reminder.objects.create(organisation=org, customer=invoices[0].customer, step=step,
                                       channel=channel or step.channel, planned_for=day,
                                       idempotency_key=f"k-{template}-{channel}-{invoices[0].number}")
    for invoice in invoices:
        reminder.lines.create(invoice=invoice, step_position=step.position, amount_due=invoice.amount_due)
    return reminder


def pdf_of(reminder: Reminder) -> bytes:
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.SENT, reminder.last_error
    with reminder.document.open("rb") as fh:
        return bytes(fh.read())


def pdf_text(pdf: bytes) -> str:
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return " ".join(text.replace("\u202f", " ").replace("\u00a0", " ").split())


def pdf_images(pdf: bytes) -> dict[str, Image.Image]:
    """The PDF's images by name (WeasyPrint shares one resource dictionary between the pages)."""
    return {image.name: image.image for page in PdfReader(io.BytesIO(pdf)).pages for image in page.images}


def pdf_qr_codes(pdf: bytes) -> list[str]:
    return [text for image in pdf_images(pdf).values() for text in decode(image)]


# ------------------------------------------------------------------------------------------- emails


def test_one_invoice_email_carries_the_invoice_reference_in_its_qr_code(org: Organisation) -> None:
    message = email_to(send_first_reminders(org), "garageducentre")
    invoice = Invoice.objects.get(number="F-003")
    assert invoice.payment_reference == make_rf_lenient("F-003") and is_valid_rf(invoice.payment_reference)

    cid, png = inline_qr(message)
    assert f'src="cid:{cid}"' in html_part(message)
    assert decode(png) == [expected_payload(org, "2400.00", invoice.payment_reference)]

    text = message.body.replace("\u202f", " ").replace("\u00a0", " ")
    assert "Règlement par virement :" in text
    assert "Bénéficiaire : Atelier Dubois SAS" in text
    assert f"IBAN : {IBAN_GROUPED}" in text
    assert "BIC : AGRIFRPP" in text
    assert "Montant : 2 400,00 €" in text
    assert f"Référence à indiquer : « {format_rf(invoice.payment_reference)} »" in text
    html = html_part(message).replace("\u202f", " ").replace("\u00a0", " ")
    assert IBAN_GROUPED in html and f"« {format_rf(invoice.payment_reference)} »" in html
    assert "Scannez ce QR code" in html


def test_several_invoices_email_carries_the_customer_reference_and_the_total_due(org: Organisation) -> None:
    message = email_to(send_first_reminders(org), "boulangerie-martin")
    customer = Customer.objects.get(organisation=org, code="C001")
    assert is_valid_rf(customer.payment_reference)
    _cid, png = inline_qr(message)
    assert decode(png) == [expected_payload(org, "1680.50", customer.payment_reference)]
    assert f"«\u00a0{format_rf(customer.payment_reference)}\u00a0»" in message.body
    assert "Montant\u00a0: 1\u202f680,50\xa0€" in message.body


def test_the_amount_is_what_remains_due_after_a_partial_payment(org: Organisation) -> None:
    c002 = Customer.objects.get(organisation=org, code="C002")
    record_payment(org, c002, "VIR-1", date(2026, 3, 20), Decimal("400.00"), designated=["F-003"])
    message = email_to(send_first_reminders(org), "garageducentre")
    _cid, png = inline_qr(message)
    invoice = Invoice.objects.get(number="F-003")
    assert decode(png) == [expected_payload(org, "2000.00", invoice.payment_reference)]
    assert "Montant\u00a0: 2\u202f000,00\xa0€" in message.body


def test_english_customer_gets_the_english_wording(org: Organisation) -> None:
    Customer.objects.filter(organisation=org, code="C002").update(language="en")
    message = email_to(send_first_reminders(org), "garageducentre")
    invoice = Invoice.objects.get(number="F-003")
    for line in ("Payment by bank transfer:", "Beneficiary: Atelier Dubois SAS", f"IBAN: {IBAN_GROUPED}",
                 "BIC: AGRIFRPP", "Amount: €2,400.00", f"Reference to quote: “{format_rf(invoice.payment_reference)}”"):
        assert line in message.body
    assert "Scan this QR code" in html_part(message)
    _cid, png = inline_qr(message)
    assert decode(png) == [expected_payload(org, "2400.00", invoice.payment_reference)]


def test_without_iban_no_qr_code_and_the_text_says_how_to_pay(tmp_path: Any) -> None:
    org = _load(make_org(slug="sans-iban", iban="", bic=""), tmp_path)
    message = email_to(send_first_reminders(org), "garageducentre")
    assert Reminder.objects.get(customer__code="C002", organisation=org).status == Reminder.Status.SENT
    assert not [p for p in mime_parts(message) if p.get_content_maintype() == "image"]
    assert "multipart/related" not in [p.get_content_type() for p in mime_parts(message)]
    reference = format_rf(Invoice.objects.get(organisation=org, number="F-003").payment_reference)
    text = message.body.replace("\u202f", " ").replace("\u00a0", " ")
    assert ("Règlement :\n  Montant : 2 400,00 €\n"
            f"  Référence à indiquer : « {reference} »\n"
            "  Merci de régler selon les modalités indiquées sur la facture, en rappelant cette référence. "
            "Pour toute question sur le règlement : 04 78 00 00 00 — recouvrement@atelier-dubois.test.") in text
    assert "IBAN" not in text
    assert "cid:" not in html_part(message)


def test_invoices_attached_and_qr_code_inline(org: Organisation) -> None:
    Step.objects.filter(scenario__organisation=org, template="relance_1").update(attach_invoices=True)
    invoice = Invoice.objects.get(number="F-003")
    invoice.pdf.save("F-003.pdf", ContentFile(b"%PDF-1.4\n%%EOF\n"))
    message = email_to(send_first_reminders(org), "garageducentre")
    types = [p.get_content_type() for p in mime_parts(message)]
    assert types[:3] == ["multipart/mixed", "multipart/alternative", "text/plain"]
    assert "application/pdf" in types
    _cid, png = inline_qr(message)
    assert decode(png) == [expected_payload(org, "2400.00", invoice.payment_reference)]


def test_thank_you_message_has_no_payment_block(org: Organisation) -> None:
    send_first_reminders(org)
    mail.outbox.clear()
    c002 = Customer.objects.get(organisation=org, code="C002")
    day = date(2026, 3, 26)
    record_payment(org, c002, "VIR-2", day, Decimal("2400.00"))
    plan_day(org, day)
    dispatch_now(org, noon(day))
    thanks = [m for m in mail.outbox if "Merci" in m.subject]
    assert len(thanks) == 1
    message = thanks[0]
    assert "Bénéficiaire" not in message.body and "RF" not in message.body and "IBAN" not in message.body
    assert not [p for p in mime_parts(message) if p.get_content_maintype() == "image"]


def test_an_organisation_template_without_the_block_still_gets_it(org: Organisation) -> None:
    MessageTemplate.objects.create(organisation=org, key="relance_1", language="fr", subject="Rappel",
                                   body="{{ salutation }}\n\n{{ tableau_factures }}\n\nMerci.")
    message = email_to(send_first_reminders(org), "garageducentre")
    invoice = Invoice.objects.get(number="F-003")
    assert message.body.index("Merci.") < message.body.index("Bénéficiaire")
    cid, png = inline_qr(message)
    assert f'src="cid:{cid}"' in html_part(message)
    assert decode(png) == [expected_payload(org, "2400.00", invoice.payment_reference)]


def test_a_template_cannot_forge_the_qr_code(org: Organisation) -> None:
    """A template places the block; what it writes around it never reaches the QR code."""
    MessageTemplate.objects.create(
        organisation=org, key="relance_1", language="fr", subject="Rappel",
        body='{% set bloc_paiement = "IBAN FR76 1111 2222 3333 4444 5555 666" %}{{ salutation }}\n\n'
             '{{ bloc_paiement }}\n\n<img src="cid:paiement-0000000000000000@relance">',
    )
    message = email_to(send_first_reminders(org), "garageducentre")
    invoice = Invoice.objects.get(number="F-003")
    _cid, png = inline_qr(message)
    assert decode(png) == [expected_payload(org, "2400.00", invoice.payment_reference)]
    assert f"IBAN\u00a0: {IBAN_GROUPED}" in message.body  # the real details are added after the forged ones


# ------------------------------------------------------------------------------------------ letters


LETTER_DAY = date(2026, 5, 20)


@pytest.mark.parametrize(("template", "channel"), [
    ("courrier", "letter"),
    ("courrier", "registered_letter"),
    ("mise_en_demeure", "registered_letter"),
])
def test_letters_embed_the_qr_code_and_print_the_details(org: Organisation, template: str, channel: str) -> None:
    invoices = list(Invoice.objects.filter(number__in=["F-001", "F-002"]).order_by("number"))
    reminder = plan_step(org, template, invoices, LETTER_DAY, channel)
    dispatch_now(org, noon(LETTER_DAY))
    pdf = pdf_of(reminder)
    customer = invoices[0].customer
    assert pdf_qr_codes(pdf) == [expected_payload(org, "1680.50", customer.payment_reference)]
    text = pdf_text(pdf)
    assert "Règlement par virement" in text
    assert "Bénéficiaire : Atelier Dubois SAS" in text
    assert f"IBAN : {IBAN_GROUPED}" in text and "BIC : AGRIFRPP" in text
    assert "Montant : 1 680,50 €" in text
    assert f"Référence à indiquer : « {format_rf(customer.payment_reference)} »" in text
    assert ("Lettre recommandée" in text) == (channel == "registered_letter")


def test_a_letter_about_one_invoice_uses_its_reference_in_english(org: Organisation) -> None:
    Customer.objects.filter(organisation=org, code="C003").update(language="en")
    invoice = Invoice.objects.get(number="F-004")  # C003 has no email: letters only
    reminder = plan_step(org, "mise_en_demeure", [invoice], LETTER_DAY)
    dispatch_now(org, noon(LETTER_DAY))
    pdf = pdf_of(reminder)
    assert pdf_qr_codes(pdf) == [expected_payload(org, "150.00", invoice.payment_reference)]
    text = pdf_text(pdf)
    assert "Payment by bank transfer" in text and "Amount: €150.00" in text
    assert f"Reference to quote: “{format_rf(invoice.payment_reference)}”" in text


def test_a_letter_without_iban_has_no_qr_code(tmp_path: Any) -> None:
    org = _load(make_org(slug="lettre-sans-iban", iban="", bic=""), tmp_path)
    invoice = Invoice.objects.get(organisation=org, number="F-004")
    reminder = plan_step(org, "courrier", [invoice], LETTER_DAY)
    dispatch_now(org, noon(LETTER_DAY))
    pdf = pdf_of(reminder)
    assert pdf_qr_codes(pdf) == []
    assert pdf_images(pdf) == {}
    text = pdf_text(pdf)
    assert f"Référence à indiquer : « {format_rf(invoice.payment_reference)} »" in text
    assert "Montant : 150,00 €" in text and "en rappelant cette référence" in text


def test_an_email_step_without_address_goes_by_letter_with_the_qr_code(org: Organisation) -> None:
    invoice = Invoice.objects.get(number="F-004")  # C003 has no email address
    reminder = plan_step(org, "relance_1", [invoice], LETTER_DAY)
    dispatch_now(org, noon(LETTER_DAY))
    reminder.refresh_from_db()
    assert reminder.channel == "letter"
    assert pdf_qr_codes(pdf_of(reminder)) == [expected_payload(org, "150.00", invoice.payment_reference)]
