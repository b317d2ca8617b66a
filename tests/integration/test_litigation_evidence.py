"""The evidence file of a litigation case (issue #16): one PDF (cover, table of contents with
page numbers, the numbered pièces: statement of account, invoices with their originals,
reminders with the hash of their send event, formal notices with their letter and scanned
receipt, replies/promises/disputes, the computation article by article, the event log's
verification) and a ZIP of the originals whose manifests check. A consumer's file never names
the business-only articles nor the 40 € indemnity."""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image
from pypdf import PdfReader
from weasyprint import HTML

from relance import clock
from relance.core.formatting import money
from relance.dunning.models import Reminder, ReminderLine
from relance.events import kinds
from relance.events.models import Event
from relance.events.services import record_many
from relance.holds.models import Hold, Promise
from relance.ledger.models import Allocation, Customer, Invoice, Organisation, Payment
from relance.litigation.claim import claim_for
from relance.litigation.evidence import EVIDENCE_NAME, EvidenceFile, build_evidence
from relance.litigation.models import LitigationCase
from relance.litigation.services import open_cases
from relance.rates.services import add_rate
from tests.builders import make_customer, make_org

pytestmark = pytest.mark.django_db

DAY = date(2026, 11, 23)
NOON = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _world(settings: Any, tmp_path: Path, pinned_clock: Any) -> Iterator[None]:
    settings.MEDIA_ROOT = tmp_path / "media"
    # the shipped tables stop before 2026-S2: hypothetical rates for it (the charges need them)
    add_rate("2026-S2", individual="6,50", other="2,50", ecb="2,40", source="hypothèse de test")
    with clock.frozen(NOON):
        yield


# --------------------------------------------------------------------------- builders


def pdf_of(text: str) -> bytes:
    """A real one-page PDF saying ``text``."""
    pdf: bytes = HTML(string=f"<html><body><h1>{text}</h1></body></html>").write_pdf()
    return pdf


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 80), (230, 230, 250)).save(out, format="PNG")
    return out.getvalue()


def invoice(customer: Customer, number: str, due: date, amount: str, *, original: str = "") -> Invoice:
    found = Invoice.objects.create(organisation=customer.organisation, customer=customer, number=number,
                                   issue_date=date(due.year, due.month, 1), due_date=due,
                                   amount_incl_tax=Decimal(amount), amount_due=Decimal(amount), last_step_position=5)
    if original:
        found.pdf.save(f"{number}.pdf", ContentFile(pdf_of(original)))
    return found


def pay(inv: Invoice, amount: str, on: date, reference: str) -> None:
    payment = Payment.objects.create(organisation=inv.organisation, customer=inv.customer, reference=reference,
                                     date=on, amount=Decimal(amount), method="virement")
    Allocation.objects.create(organisation=inv.organisation, invoice=inv, payment=payment, amount=Decimal(amount),
                              date=on)
    inv.amount_due -= Decimal(amount)
    inv.save(update_fields=["amount_due"])


def send(org: Organisation, customer: Customer, invoices: list[Invoice], on: date, *, channel: str = "email",
         subject: str = "Rappel de facture", body: str = "Bonjour, sauf erreur de notre part…",
         letter: str = "", tracking: str = "", received_on: date | None = None,
         scan: tuple[str, bytes] | None = None) -> Reminder:
    """A reminder sent on ``on`` with the events the dispatcher (and the registered-mail
    services) record: its send, and for a letter its tracking number, receipt and scan."""
    at = datetime(on.year, on.month, on.day, 8, 30, tzinfo=UTC)
    reminder = Reminder.objects.create(
        organisation=org, customer=customer, channel=channel, planned_for=on, status=Reminder.Status.SENT,
        idempotency_key=f"k-{customer.pk}-{on}-{channel}", sent_at=at, subject=subject, body_text=body,
        recipient="compta@client.test" if channel == "email" else f"{customer.legal_name}, 1 rue de la Paix",
        message_id=f"<{on}@relance.test>" if channel == "email" else "", tracking_number=tracking,
        received_on=received_on)
    if letter:
        content = pdf_of(letter)
        reminder.document.save(f"letter-{reminder.pk}.pdf", ContentFile(content), save=False)
        reminder.document_sha256 = hashlib.sha256(content).hexdigest()
    if scan is not None:
        reminder.receipt_scan.save(scan[0], ContentFile(scan[1]), save=False)
    reminder.save()
    ReminderLine.objects.bulk_create([ReminderLine(reminder=reminder, invoice=i, step_position=3,
                                                   amount_due=i.amount_due) for i in invoices])
    events = [kinds.reminder_sent(customer_id=customer.pk, reminder_id=reminder.pk, data={
        "channel": channel, "recipient": reminder.recipient, "subject": subject,
        "body_sha256": hashlib.sha256(body.encode()).hexdigest(), "document_sha256": reminder.document_sha256})]
    if tracking:
        events.append(kinds.letter_tracking_recorded(customer_id=customer.pk, reminder_id=reminder.pk,
                                                     tracking_number=tracking))
    if received_on:
        events.append(kinds.letter_received(customer_id=customer.pk, reminder_id=reminder.pk, received_on=received_on))
    if scan is not None:
        events.append(kinds.letter_receipt_attached(customer_id=customer.pk, reminder_id=reminder.pk,
                                                    sha256=hashlib.sha256(scan[1]).hexdigest(), file=scan[0]))
    record_many(org, events, at=at)
    return reminder


def promise(customer: Customer, inv: Invoice, obtained: date, promised: date, amount: str,
            state: str = Promise.State.BROKEN) -> Promise:
    found = Promise.objects.create(organisation=customer.organisation, customer=customer, promised_on=promised,
                                   amount=Decimal(amount), obtained_via=Promise.Via.PHONE, obtained_by="sophie",
                                   obtained_on=obtained, covered_due=inv.amount_due, grace_until=promised,
                                   state=state, closed_on=promised if state != Promise.State.ACTIVE else None)
    Hold.objects.create(organisation=customer.organisation, customer=customer, invoice=inv, kind=Hold.Kind.PROMISE,
                        state=Hold.State.ENDED, promise=found, ended_on=promised)
    record_many(customer.organisation, [kinds.PROMISE_RECORDED.event(
        customer_id=customer.pk, data={"promise": found.pk, "amount": amount, "promised_on": promised})],
        at=datetime(obtained.year, obtained.month, obtained.day, 14, 0, tzinfo=UTC))
    return found


def opened(org: Organisation, customer: Customer, invoices: list[Invoice]) -> LitigationCase:
    (case,) = open_cases(org, DAY, {customer.pk: [i.pk for i in invoices]}, step_label="Transmission au contentieux")
    return case


@pytest.fixture
def org() -> Organisation:
    return make_org()


@pytest.fixture
def business(org: Organisation) -> tuple[LitigationCase, dict[str, Any]]:
    martin = make_customer(org, "C001", "Boulangerie Martin SARL", siren="732829320",
                           address1="12 rue des Lilas", postal_code="69003", city="Lyon")
    fa1 = invoice(martin, "FA-2026-0101", date(2026, 9, 1), "1200.00", original="FACTURE ORIGINALE FA-2026-0101")
    fa2 = invoice(martin, "FA-2026-0107", date(2026, 9, 8), "480.50")
    pay(fa2, "250.00", date(2026, 10, 20), "VIR-0042")
    first = send(org, martin, [fa1, fa2], date(2026, 9, 15), subject="Rappel : factures échues")
    hold = Hold.objects.create(organisation=org, customer=martin, invoice=fa2, kind=Hold.Kind.DISPUTE,
                               state=Hold.State.RESOLVED, reason="quantité livrée contestée", ended_on=date(2026, 10, 5))
    record_many(org, [kinds.dispute_opened(customer_id=martin.pk, invoice_id=fa2.pk, hold=hold.pk, number=fa2.number,
                                           reason="montant_conteste", label="Montant contesté",
                                           note="quantité livrée contestée", attachment="", amount_due=fa2.amount_due)],
                at=datetime(2026, 9, 20, 9, 0, tzinfo=UTC))
    promise(martin, fa1, date(2026, 9, 25), date(2026, 10, 2), "1200.00")
    notice = send(org, martin, [fa1, fa2], date(2026, 10, 12), channel="registered_letter",
                  subject="Mise en demeure de payer", body="Mise en demeure : nous vous demandons de régler…",
                  letter="LETTRE DE MISE EN DEMEURE ORIGINALE", tracking="1A12345678901",
                  received_on=date(2026, 10, 14), scan=("ar.png", png()))
    case = opened(org, martin, [fa1, fa2])
    return case, {"first": first, "notice": notice, "invoices": [fa1, fa2]}


@pytest.fixture
def consumer(org: Organisation) -> tuple[LitigationCase, dict[str, Any]]:
    petit = make_customer(org, "C003", "Jean Petit", is_business=False, address1="8 impasse des Roses",
                          postal_code="69100", city="Villeurbanne")
    fc = invoice(petit, "FC-2026-0033", date(2026, 8, 31), "900.00", original="FACTURE ORIGINALE FC-2026-0033")
    send(org, petit, [fc], date(2026, 9, 10), subject="Votre facture FC-2026-0033")
    promise(petit, fc, date(2026, 9, 14), date(2026, 9, 30), "900.00")
    notice = send(org, petit, [fc], date(2026, 10, 5), channel="registered_letter", subject="Mise en demeure",
                  body="Mise en demeure de payer la somme de 900 euros.", letter="LETTRE MISE EN DEMEURE CONSOMMATEUR",
                  tracking="1A99999999999", received_on=date(2026, 10, 7), scan=("ar.pdf", pdf_of("AVIS DE RECEPTION")))
    fc.formal_notice_on = date(2026, 10, 5)
    fc.notice_received_on = date(2026, 10, 7)
    fc.save(update_fields=["formal_notice_on", "notice_received_on"])
    case = opened(org, petit, [fc])
    return case, {"notice": notice, "invoices": [fc]}


# --------------------------------------------------------------------------- reading


def flat(text: str) -> str:
    """Spaces as a reader sees them: no-break and narrow no-break spaces are spaces, runs are one."""
    return re.sub(r"\s+", " ", text.replace("\u202f", " ").replace("\xa0", " "))


def pages_of(evidence: EvidenceFile) -> list[str]:
    return [flat(page.extract_text() or "") for page in PdfReader(io.BytesIO(evidence.pdf)).pages]


def zip_files(evidence: EvidenceFile) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(evidence.zip)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def check_toc(pages: list[str], evidence: EvidenceFile) -> None:
    """Each pièce is named in the table of contents with the page its section starts on."""
    toc = pages[1]
    assert "Sommaire et bordereau des pièces" in toc
    starts = {}
    for p in evidence.pieces:
        found = [n for n, text in enumerate(pages) if f"Pièce n° {p.number} — " in text]
        assert found, f"section of pièce {p.number} missing"
        starts[p.number] = found[0] + 1
    rows = re.split(r"(?=n° \d+ )", toc)
    for p in evidence.pieces:
        (row,) = [r for r in rows if r.startswith(f"n° {p.number} ")]
        assert flat(p.title)[:30] in row
        assert f"p. {starts[p.number]}" in row, (p.number, row, starts[p.number])


def check_zip(evidence: EvidenceFile, folder: Path) -> dict[str, bytes]:
    """The manifests list every file with its SHA-256 (and ``sha256sum -c`` agrees, when present)."""
    files = zip_files(evidence)
    with zipfile.ZipFile(io.BytesIO(evidence.zip)) as archive:
        archive.extractall(folder)
    if shutil.which("sha256sum"):
        checked = subprocess.run(["sha256sum", "--strict", "-c", "MANIFEST.sha256"], cwd=folder, capture_output=True,
                                 text=True, check=False)
        assert checked.returncode == 0, checked.stdout + checked.stderr
    assert files[EVIDENCE_NAME] == evidence.pdf
    sums = files["MANIFEST.sha256"].decode().splitlines()
    listed = {}
    for line in sums:
        digest, name = line.split("  ", 1)
        listed[name] = digest
    assert set(listed) == set(files) - {"MANIFEST.sha256", "manifest.json"}
    for name, digest in listed.items():
        assert hashlib.sha256(files[name]).hexdigest() == digest
    manifest = json.loads(files["manifest.json"])
    assert [p["number"] for p in manifest["pieces"]] == [p.number for p in evidence.pieces]
    for p in manifest["pieces"]:
        assert hashlib.sha256(files[p["filename"]]).hexdigest() == p["sha256"]
    return files


# --------------------------------------------------------------------------- tests


def test_the_business_evidence_file_holds_every_piece_with_its_proof(
        org: Organisation, business: tuple[LitigationCase, dict[str, Any]], tmp_path: Path) -> None:
    case, made = business
    evidence = build_evidence(org, case, DAY)
    pages = pages_of(evidence)
    text = " ".join(pages)
    claim = claim_for(org, case, DAY)

    kinds_ = [p.kind for p in evidence.pieces]
    assert kinds_ == ["statement", "invoice", "invoice", "reminder", "formal_notice", "receipt", "reply",
                      "computation", "chain"]
    assert [p.number for p in evidence.pieces] == list(range(1, 10))
    assert "Dossier de recouvrement" in pages[0] and "Boulangerie Martin SARL" in pages[0]
    check_toc(pages, evidence)

    # amounts: those of the claim, formatted
    assert claim.total == evidence.claim.total and claim.penalties > 0 and claim.indemnity == Decimal("80.00")
    for amount in (claim.total, claim.principal, claim.penalties, claim.indemnity, Decimal("250.00")):
        assert flat(money(amount)) in text
    assert "Solde dû au 23 novembre 2026" in text and "Règlement reçu, réf. VIR-0042" in text
    # the invoice with an original is appended; the other one is a rendering, said so
    assert "FACTURE ORIGINALE FA-2026-0101" in text
    # each original page is stamped with its pièce and page number
    original = next(n for n, page in enumerate(pages) if "FACTURE ORIGINALE FA-2026-0101" in page)
    assert f"Pièce n° 2 (original) — page {original + 1} / {len(pages)}" in pages[original]
    assert "Ceci n’est pas la facture" in text and "présentation des données" in evidence.pieces[2].title
    # reminders: date, channel, recipient, subject, text and the hash of their send event
    for reminder in (made["first"], made["notice"]):
        event = Event.objects.get(organisation=org, reminder_id_ref=reminder.pk, kind="reminder.sent")
        assert event.hash in text and f"Événement n° {event.seq}" in text
    assert "Rappel : factures échues" in text and "compta@client.test" in text
    # the formal notice: registered letter number, receipt date, letter and scan appended
    assert "1A12345678901" in text and "14 octobre 2026" in text
    assert "LETTRE DE MISE EN DEMEURE ORIGINALE" in text
    receipt = next(p for p in evidence.pieces if p.kind == "receipt")
    assert receipt.filename.endswith(".png")
    assert b"/Subtype /Image" in evidence.pdf or b"/Subtype/Image" in evidence.pdf
    # replies, promises, disputes and their outcome
    assert "Promesses de règlement" in text and "Non tenue" in text
    assert "quantité livrée contestée" in text and "Litige résolu le 05/10/2026" in text
    assert "20/09/2026 FA-2026-0107" in text  # the day the dispute was opened (its event's)
    # computation, article by article, with its periods
    assert "L441-10 II" in text and "D441-5" in text
    line = claim.lines[0]
    assert line.charges is not None and line.charges.penalties is not None
    for period in line.charges.penalties.periods:
        assert flat(money(period.amount)) in text and f"{period.start:%d/%m/%Y}" in text
    # the log's verification and its head
    head = Event.objects.filter(organisation=org).order_by("-seq").first()
    assert head is not None
    assert evidence.chain_ok and evidence.chain_problems == [] and evidence.head_hash == head.hash
    assert head.hash in pages[-1] and "le journal est intègre" in pages[-1]

    files = check_zip(evidence, tmp_path / "zip")
    assert any(name.endswith(".eml") for name in files)
    assert files[receipt.filename] == made["notice"].receipt_scan.open("rb").read()
    fa1 = made["invoices"][0]
    assert files[evidence.pieces[1].filename] == fa1.pdf.open("rb").read()
    assert evidence.pieces[0].filename == EVIDENCE_NAME
    assert evidence.pieces[0].sha256 == hashlib.sha256(evidence.pdf).hexdigest()


def test_the_consumer_evidence_file_claims_legal_interest_from_the_formal_notice_only(
        org: Organisation, consumer: tuple[LitigationCase, dict[str, Any]], tmp_path: Path) -> None:
    case, made = consumer
    evidence = build_evidence(org, case, DAY)
    pages = pages_of(evidence)
    text = " ".join(pages)
    claim = claim_for(org, case, DAY)

    assert [p.kind for p in evidence.pieces] == ["statement", "invoice", "reminder", "formal_notice", "receipt",
                                                "reply", "computation", "chain"]
    check_toc(pages, evidence)
    assert claim.interest > 0 and claim.penalties == 0 and claim.indemnity == 0
    for amount in (claim.total, claim.principal, claim.interest):
        assert flat(money(amount)) in text
    assert "1231-6" in text and "1344-1" in text and "mise en demeure du 5 octobre 2026" in text
    for forbidden in ("L441-10", "D441-5", "40,00 €", "ndemnité forfaitaire", "Pénalités"):
        assert forbidden not in text, forbidden
    # the scanned receipt is a PDF: appended
    assert "AVIS DE RECEPTION" in text and "LETTRE MISE EN DEMEURE CONSOMMATEUR" in text
    assert "1A99999999999" in text and "7 octobre 2026" in text
    head = Event.objects.filter(organisation=org).order_by("-seq").first()
    assert head is not None and evidence.head_hash == head.hash and head.hash in text
    files = check_zip(evidence, tmp_path / "zip")
    receipt = next(p for p in evidence.pieces if p.kind == "receipt")
    assert receipt.filename.endswith(".pdf")
    assert files[receipt.filename] == made["notice"].receipt_scan.open("rb").read()


def test_a_broken_log_is_reported(org: Organisation, business: tuple[LitigationCase, dict[str, Any]]) -> None:
    case, _ = business
    Event.objects.filter(organisation=org, kind="promise.recorded").update(data={"amount": "1.00"})
    evidence = build_evidence(org, case, DAY)
    assert not evidence.chain_ok and evidence.chain_problems
    assert "anomalie" in pages_of(evidence)[-1]


def test_the_same_case_gives_the_same_bytes_and_a_fixed_number_of_queries(
        org: Organisation, business: tuple[LitigationCase, dict[str, Any]]) -> None:
    case, made = business
    first = build_evidence(org, case, DAY)
    with CaptureQueriesContext(connection) as few:  # the rate tables are read once, then cached
        again = build_evidence(org, case, DAY)
    assert first.zip == again.zip and first.pdf == again.pdf
    # more reminders and events: the same number of queries
    fa1, fa2 = made["invoices"]
    for n in range(4):
        send(org, case.customer, [fa1, fa2], date(2026, 9, 16 + n), subject=f"Relance {n}")
    with CaptureQueriesContext(connection) as more:
        bigger = build_evidence(org, case, DAY)
    assert len(bigger.pieces) == len(first.pieces) + 4
    assert len(more.captured_queries) == len(few.captured_queries) <= 15


def test_unreadable_or_lost_originals_are_said_and_kept_as_they_are(
        org: Organisation, business: tuple[LitigationCase, dict[str, Any]], tmp_path: Path) -> None:
    case, made = business
    notice, fa1 = made["notice"], made["invoices"][0]
    broken = b"%PDF-1.4\n% not really a PDF\n%%EOF\n"
    notice.document.storage.delete(notice.document.name)
    notice.document.storage.save(notice.document.name, ContentFile(broken))
    fa1.pdf.storage.delete(fa1.pdf.name)

    evidence = build_evidence(org, case, DAY)
    text = " ".join(pages_of(evidence))
    assert "n’a pas pu être lu comme un PDF" in text and hashlib.sha256(broken).hexdigest() in text
    assert "ne correspond pas" in text  # the letter's hash recorded at the send differs from the file
    assert "est introuvable" in text and "Ceci n’est pas la facture" in text
    files = check_zip(evidence, tmp_path / "zip")
    assert broken in files.values()
    check_toc(pages_of(evidence), evidence)
