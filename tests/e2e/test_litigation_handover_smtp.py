"""End to end (issue #16): an invoice is chased day after day through the task queue, the formal
notice leaves by registered letter and its receipt is recorded, the deadline passes and the case
opens; its evidence file and injonction de payer request are produced, handed to the lawyer by
email on a real SMTP server (one message, the ZIP joined, every file's SHA-256 in the manifest);
then the debtor pays and the case closes by itself."""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import date, timedelta

import pytest
from pypdf import PdfReader

from relance import clock
from relance.clock import today_for
from relance.core.calendar import FRANCE
from relance.core.formatting import money
from relance.dunning.models import Reminder
from relance.dunning.services.registered_mail import record_delivery
from relance.events.models import Event
from relance.events.services import verify_chain
from relance.ledger.models import Invoice
from relance.ledger.services.imports import import_file
from relance.ledger.services.payments import record_payment
from relance.litigation.claim import claim_for
from relance.litigation.models import LitigationCase
from relance.litigation.services import hand_over, produce_documents, save_recipient, set_court
from relance.operations.daily import moment_of, run_day
from tests.builders import CUSTOMERS_CSV, make_org, write

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]

DUE = date(2025, 6, 16)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64  # the scanned avis de réception


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


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)


def test_from_formal_notice_to_the_lawyer_and_back_to_paid(org, smtp, tmp_path):
    # sent inline on each simulated day (queue=False), so that every date is the simulated one
    for offset in range(-10, 64):
        run_day(org, DUE + timedelta(days=offset), queue=False)
    notice = Reminder.objects.get(channel="registered_letter")
    scan = tmp_path / "avis.png"
    scan.write_bytes(PNG)
    received = today_for(org, notice.sent_at) + timedelta(days=1)
    record_delivery(org, notice.pk, tracking_number="1A 123 456 789 01", received_on=received,
                    scan=scan, today=DUE + timedelta(days=64))
    for offset in range(64, 81):
        run_day(org, DUE + timedelta(days=offset), queue=False)
    invoice = Invoice.objects.get(number="F-2026-0042")
    case = LitigationCase.objects.get(customer=invoice.customer)
    assert case.state == "opened" and invoice.dunning_state == "litigation"
    chased = len(smtp.received)

    day = FRANCE.on_or_after(DUE + timedelta(days=81))
    with clock.frozen(moment_of(org, day)):
        set_court(org, case, court_kind="commerce", court_name="Tribunal des activités économiques de Lyon",
                  court_address="44 rue de Bonnel, 69003 Lyon", actor="sophie")
        docs = {d.kind: d for d in produce_documents(org, case, actor="sophie", as_of=day)}
        assert {"evidence_pdf", "evidence_zip", "request", "small_claim"} <= set(docs)  # 1 200 € ≤ 5 000 €
        claim = claim_for(org, case, day)
        evidence = text_of(docs["evidence_pdf"].file.read())
        request = text_of(docs["request"].file.read())
        assert "1A12345678901" in evidence and "F-2026-0042" in evidence
        produced = Event.objects.get(organisation=org, kind="litigation.document_added", data__kind="evidence_pdf")
        assert produced.data["chain_ok"] is True
        assert produced.data["head_hash"] in "".join(evidence.split())  # the log's head when the file was made
        flat = " ".join(request.split())
        for amount in (claim.principal, claim.penalties, claim.indemnity, claim.total):
            assert " ".join(money(amount, "EUR").split()) in flat
        assert "Tribunal des activités économiques de Lyon" in request
        lawyer = save_recipient(org, kind="lawyer", name="Maître Durand", email="durand@avocats.test", actor="sophie")
        handover = hand_over(org, case, recipient=lawyer, method="attachment", actor="sophie", on=day)
    run_day(org, day, queue=True)
    got = smtp.received[chased:]
    assert [r.rcpt_tos for r in got] == [["durand@avocats.test"]]
    (part,) = list(got[0].message.iter_attachments())
    content = part.get_content()
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        names = z.namelist()
        manifest = z.read("pieces/MANIFEST.sha256").decode()
        for line in manifest.splitlines():
            digest, name = line.split(maxsplit=1)
            assert hashlib.sha256(z.read(f"pieces/{name.lstrip('*')}")).hexdigest() == digest
    assert names[0].startswith("01-") and names[0].endswith(".pdf")
    sent = Event.objects.get(organisation=org, kind="case_handover.sent")
    assert sent.data["attachments"][0]["sha256"] == hashlib.sha256(content).hexdigest()
    assert Reminder.objects.get(pk=handover.reminder_id).status == "sent"
    case.refresh_from_db()
    assert case.state == "filed" and case.handled_by == "Maître Durand"

    later = FRANCE.on_or_after(day + timedelta(days=10))
    with clock.frozen(moment_of(org, later)):
        record_payment(org, invoice.customer, "VIR-DEBITEUR", later, invoice.amount_due)
    case.refresh_from_db()
    assert (case.state, case.outcome, case.closed_on) == ("closed", "paid", later)
    run_day(org, later, queue=True)
    # nothing more to the debtor but the thank-you, nothing more to the lawyer
    assert all(r.rcpt_tos != ["durand@avocats.test"] for r in smtp.received[chased + 1:])
    assert not verify_chain(org)
