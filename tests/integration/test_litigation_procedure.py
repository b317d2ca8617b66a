"""A litigation case along the injonction de payer (issue #16): the steps and their documents, the
court entered by the user, the service that interrupts prescription, the recipients, the hand-over
by email through the dispatcher (once, evented, the ZIP joined and hashed) or by a link valid for a
while, and the case that closes « payé » by itself when a payment settles its last invoice."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email.utils import parseaddr
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from relance import clock
from relance.dunning.models import Reminder
from relance.dunning.services.dispatcher import dispatch_now
from relance.errors import Conflict, InvalidInput, NotFound
from relance.events.models import Event
from relance.events.services import record_many, verify_chain
from relance.ledger.models import Customer, Invoice, Organisation
from relance.ledger.services.payments import record_payment
from relance.litigation.models import CaseDocument, Handover, LitigationCase
from relance.litigation.services import (
    add_document,
    close_case,
    hand_over,
    link_handover,
    link_token,
    open_cases,
    record_step,
    save_recipient,
    set_court,
)
from relance.litigation.services.cases import lock_case
from relance.litigation.services.documents import store_document
from tests.builders import make_customer, make_invoice, make_org

pytestmark = pytest.mark.django_db

DAY = date(2026, 11, 23)
NOON = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
PDF = b"%PDF-1.4\n% ordonnance\n%%EOF\n"


@pytest.fixture(autouse=True)
def _world(settings: Any, tmp_path: Path) -> Iterator[None]:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.RELANCE_PUBLIC_URL = "https://relance.example.fr"
    with clock.frozen(NOON):
        yield


@pytest.fixture
def org() -> Organisation:
    return make_org()


@pytest.fixture
def martin(org: Organisation) -> Customer:
    return make_customer(org, "C001", "Boulangerie Martin", siren="732829320", legal_form="SARL")


@pytest.fixture
def case(org: Organisation, martin: Customer) -> LitigationCase:
    invoices = [make_invoice(martin, "FA-2026-0101", "1200.00", date(2026, 8, 1)),
                make_invoice(martin, "FA-2026-0107", "480.50", date(2026, 8, 8))]
    (opened,) = open_cases(org, date(2026, 11, 2), {martin.pk: [i.pk for i in invoices]})
    return opened


def kinds_of(org: Organisation, prefix: str = "litigation.") -> list[str]:
    return list(Event.objects.filter(organisation=org, kind__startswith=prefix).order_by("seq")
                .values_list("kind", flat=True))


def produced(org: Organisation, case: LitigationCase) -> list[CaseDocument]:
    """Documents as the evidence and request builders would store them (their content is tested
    with those builders)."""
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr("01-releve.pdf", PDF)
        z.writestr("MANIFEST.sha256", f"{hashlib.sha256(PDF).hexdigest()}  01-releve.pdf\n")
    docs = []
    locked = lock_case(org, case, with_invoices=False)
    for kind, name, content in [(CaseDocument.Kind.EVIDENCE_PDF, "dossier.pdf", PDF),
                                (CaseDocument.Kind.EVIDENCE_ZIP, "pieces.zip", inner.getvalue()),
                                (CaseDocument.Kind.REQUEST, "requete.pdf", PDF + b"requete")]:
        doc, event = store_document(org, locked, kind=kind, filename=name, content=content, actor="test", as_of=DAY)
        record_many(org, [event])
        docs.append(doc)
    return docs


# --------------------------------------------------------------------------- the steps


def test_the_injonction_de_payer_steps_in_order_with_their_documents(org: Organisation, case: LitigationCase) -> None:
    with pytest.raises(InvalidInput, match="indiquez la juridiction saisie"):
        record_step(org, case, "request_filed", actor="sophie", on=date(2026, 11, 10))
    with pytest.raises(Conflict, match="« ouvert » → « ordonnance rendue »"):
        record_step(org, case, "order_issued", actor="sophie", on=date(2026, 11, 10))
    set_court(org, case, court_kind="commerce", court_name="Tribunal de commerce de Lyon",
              court_address="Palais de la Bourse, 69002 Lyon", actor="sophie")
    record_step(org, case, "request_filed", actor="sophie", on=date(2026, 11, 10), court_reference="2026F01234")
    with pytest.raises(InvalidInput, match="précède l’étape précédente"):
        record_step(org, case, "order_issued", actor="sophie", on=date(2026, 11, 9), document=("o.pdf", PDF))
    record_step(org, case, "order_issued", actor="sophie", on=date(2026, 11, 17), document=("ordonnance.pdf", PDF))
    with pytest.raises(InvalidInput, match="seuls les fichiers PDF, PNG et JPEG"):
        record_step(org, case, "served", actor="sophie", on=date(2026, 11, 20), document=("acte.exe", b"MZ"))
    with pytest.raises(InvalidInput, match="n’est pas celui d’un fichier PDF"):
        record_step(org, case, "served", actor="sophie", on=date(2026, 11, 20), document=("acte.pdf", b"MZ"))
    record_step(org, case, "served", actor="sophie", on=date(2026, 11, 20), document=("acte.pdf", PDF))
    case.refresh_from_db()
    assert (case.state, case.request_filed_on, case.order_issued_on, case.served_on, case.court_reference) == (
        "served", date(2026, 11, 10), date(2026, 11, 17), date(2026, 11, 20), "2026F01234")
    assert kinds_of(org) == ["litigation.opened", "litigation.request_filed", "litigation.order_issued",
                             "litigation.document_added", "litigation.served", "litigation.document_added"]
    docs = {d.kind: d for d in case.documents.all()}
    assert set(docs) == {"order", "service"} and docs["order"].sha256 == hashlib.sha256(PDF).hexdigest()
    added = Event.objects.filter(organisation=org, kind="litigation.document_added").order_by("seq").first()
    assert added is not None and added.data["sha256"] == docs["order"].sha256
    # the service interrupts prescription for each invoice of the case (C. civ. 2241)
    interrupted = Event.objects.filter(organisation=org, kind="prescription.interrupted")
    assert interrupted.count() == 2 and {e.data["on"] for e in interrupted} == {"2026-11-20"}
    assert verify_chain(org) == []
    close_case(org, case, outcome="irrecoverable", actor="sophie", on=DAY, note="Liquidation judiciaire clôturée")
    assert set(Invoice.objects.filter(litigation_lines__case=case).values_list("dunning_state", flat=True)) == {"done"}


def test_a_case_goes_straight_to_the_court_without_a_lawyer(org: Organisation, case: LitigationCase) -> None:
    record_step(org, case, "request_filed", actor="sophie", on=DAY, court_kind="judiciaire",
                court_name="Tribunal judiciaire de Lyon", court_address="67 rue Servient, 69003 Lyon")
    case.refresh_from_db()
    assert case.state == "request_filed" and case.filed_on is None and case.court_kind == "judiciaire"
    with pytest.raises(InvalidInput, match="juridiction inconnue"):
        set_court(org, case, court_kind="prud’hommes", court_name="x", court_address="", actor="sophie")


def test_an_upload_is_bounded_and_files_of_a_failed_step_do_not_stay(org: Organisation, case: LitigationCase,
                                                                      settings: Any) -> None:
    with pytest.raises(InvalidInput, match="le fichier est vide"):
        add_document(org, case, kind="other", filename="vide.pdf", content=b"", actor="sophie")
    doc = add_document(org, case, kind="other", filename="../../etc/Courrier du débiteur.pdf", content=PDF,
                       actor="sophie", title="Courrier du débiteur")
    assert ".." not in str(doc.file.name) and doc.file.name.endswith("-Courrier_du_débiteur.pdf")
    files_before = sorted(p.name for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file())
    with pytest.raises(InvalidInput):  # the step is refused after the file was written: it is removed
        record_step(org, case, "request_filed", actor="sophie", on=DAY, document=("recu.pdf", PDF))
    assert sorted(p.name for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()) == files_before


# --------------------------------------------------------------------------- recipients


def test_recipients_are_checked(org: Organisation) -> None:
    lawyer = save_recipient(org, kind="lawyer", name="  Maître  Durand ", email="durand@avocats.test", actor="sophie")
    assert lawyer.name == "Maître Durand"
    with pytest.raises(InvalidInput, match="s’appelle déjà"):
        save_recipient(org, kind="agency", name="Maître Durand", actor="sophie")
    with pytest.raises(InvalidInput, match="adresse e-mail invalide"):
        save_recipient(org, kind="lawyer", name="Cabinet B", email="pas-une-adresse", actor="sophie")
    with pytest.raises(InvalidInput, match="profession inconnue"):
        save_recipient(org, kind="notaire", name="Cabinet C", actor="sophie")
    with pytest.raises(NotFound):
        save_recipient(org, pk=lawyer.pk + 100, kind="lawyer", name="X", actor="sophie")
    other = make_org("autre")
    with pytest.raises(NotFound):
        save_recipient(other, pk=lawyer.pk, kind="lawyer", name="X", actor="sophie")


# --------------------------------------------------------------------------- hand-over


def test_the_file_goes_to_the_lawyer_once_through_the_dispatcher(org: Organisation, case: LitigationCase) -> None:
    docs = produced(org, case)
    lawyer = save_recipient(org, kind="lawyer", name="Maître Durand", email="durand@avocats.test", reference="D-77",
                            actor="sophie")
    handover = hand_over(org, case, recipient=lawyer.pk, method="attachment", actor="sophie", on=DAY)
    case.refresh_from_db()
    assert (case.state, case.handled_by, case.recipient_id, case.filed_on) == ("filed", "Maître Durand", lawyer.pk, DAY)
    reminder = handover.reminder
    assert reminder is not None and reminder.kind == "case_handover" and reminder.status == "planned"
    assert set(handover.documents.all()) == set(docs)
    for _ in range(2):
        dispatch_now(org, NOON + timedelta(hours=1))
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert [parseaddr(a)[1] for a in message.to] == ["durand@avocats.test"]
    assert reminder.recipient == "Maître Durand <durand@avocats.test>"
    # a subject's spaces are plain ones (compose.email_subject)
    assert "Boulangerie Martin" in message.subject and "1 680,50 €" in message.subject
    assert "Notre référence chez vous\u00a0: D-77." in message.body
    assert "L441-10" not in message.body and "IBAN" not in message.body
    (name, content, mimetype) = message.attachments[0]
    assert name == f"dossier-contentieux-{case.pk}.zip" and mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        assert z.namelist() == ["01-dossier.pdf", "02-requete.pdf", "pieces/01-releve.pdf", "pieces/MANIFEST.sha256"]
    reminder.refresh_from_db()
    assert reminder.status == "sent"
    sent = Event.objects.get(organisation=org, kind="case_handover.sent")
    assert sent.data["attachments"] == [{"name": name, "sha256": hashlib.sha256(content).hexdigest()}]
    assert kinds_of(org) == ["litigation.opened", "litigation.document_added", "litigation.document_added",
                             "litigation.document_added", "litigation.handed_over", "litigation.filed"]
    # the lawyer's email is not a reminder the debtor received
    assert set(Invoice.objects.filter(litigation_lines__case=case).values_list("reminders_received", flat=True)) == {0}
    assert verify_chain(org) == []


def test_a_link_is_valid_for_its_days_and_each_download_is_recorded(org: Organisation, case: LitigationCase) -> None:
    docs = produced(org, case)
    agency = save_recipient(org, kind="agency", name="Recouvre SA", email="dossiers@recouvre.test", delivery="link",
                            link_days=7, actor="sophie")
    handover = hand_over(org, case, recipient=agency, method="link", actor="sophie", on=DAY)
    dispatch_now(org, NOON + timedelta(hours=1))
    (message,) = mail.outbox
    assert message.attachments == [] and "jusqu’au 30 novembre 2026" in message.body
    found = re.search(r"https://relance\.example\.fr/dossier/([^/\s]+)/", message.body)
    assert found is not None
    token = found.group(1)
    assert link_handover(token) == handover and link_handover(link_token(handover)) == handover
    client = Client()
    page = client.get(f"/dossier/{token}/")
    assert page.status_code == 200 and docs[0].sha256 in page.content.decode()
    got = client.get(f"/dossier/{token}/{docs[0].pk}/")
    assert got.status_code == 200 and b"".join(got.streaming_content) == PDF  # type: ignore[attr-defined]
    assert Event.objects.filter(organisation=org, kind="litigation.link_downloaded").count() == 1
    assert client.get(f"/dossier/{token}x/").status_code == 404
    assert client.get(f"/dossier/{token}/{docs[0].pk + 999}/").status_code == 404
    with clock.frozen(NOON + timedelta(days=8)):
        with pytest.raises(NotFound, match="invalide ou expiré"):
            link_handover(token)
        assert client.get(f"/dossier/{token}/").status_code == 404


def test_a_link_needs_the_public_address(org: Organisation, case: LitigationCase, settings: Any) -> None:
    settings.RELANCE_PUBLIC_URL = ""
    produced(org, case)
    agency = save_recipient(org, kind="agency", name="Recouvre SA", email="dossiers@recouvre.test", actor="sophie")
    with pytest.raises(InvalidInput, match="RELANCE_PUBLIC_URL"):
        hand_over(org, case, recipient=agency, method="link", actor="sophie", on=DAY)
    assert not Handover.objects.exists() and not Reminder.objects.filter(kind="case_handover").exists()


def test_a_download_needs_no_recipient_and_sends_nothing(org: Organisation, case: LitigationCase) -> None:
    produced(org, case)
    handover = hand_over(org, case, recipient=None, method="download", actor="sophie", on=DAY)
    assert handover.reminder is None and mail.outbox == []
    case.refresh_from_db()
    assert case.state == "opened"  # nobody named: a person hands it over themselves
    with pytest.raises(InvalidInput, match="choisissez le destinataire"):
        hand_over(org, case, recipient=None, method="attachment", actor="sophie", on=DAY)


# --------------------------------------------------------------------------- settlement


def test_a_payment_of_the_last_invoice_closes_the_case_and_cancels_a_waiting_email(
        org: Organisation, martin: Customer, case: LitigationCase) -> None:
    produced(org, case)
    lawyer = save_recipient(org, kind="lawyer", name="Maître Durand", email="durand@avocats.test", actor="sophie")
    handover = hand_over(org, case, recipient=lawyer, method="attachment", actor="sophie", on=DAY)
    record_payment(org, martin, "VIR-1", DAY, Decimal("1200.00"))
    case.refresh_from_db()
    assert case.state == "filed"  # one invoice still owed
    record_payment(org, martin, "VIR-2", DAY, Decimal("480.50"))
    case.refresh_from_db()
    assert (case.state, case.outcome, case.closed_on) == ("closed", "paid", DAY)
    closed = Event.objects.get(organisation=org, kind="litigation.closed")
    assert closed.data["automatic"] is True and closed.actor == "system"
    dispatch_now(org, NOON + timedelta(hours=1))
    assert mail.outbox == []
    assert Reminder.objects.get(pk=handover.reminder_id).status == "cancelled"
    with pytest.raises(InvalidInput, match="clôturé"):
        hand_over(org, case, recipient=lawyer, method="attachment", actor="sophie", on=DAY)


# --------------------------------------------------------------------------- what changed before it left


def test_a_name_with_a_comma_never_changes_the_address(org: Organisation, case: LitigationCase) -> None:
    produced(org, case)
    firm = save_recipient(org, kind="lawyer", name="Cabinet Dupont, Avocats; Lyon", email="contact@dupont.test",
                          actor="sophie")
    handover = hand_over(org, case, recipient=firm, method="attachment", actor="sophie", on=DAY)
    dispatch_now(org, NOON + timedelta(hours=1))
    (message,) = mail.outbox
    assert [parseaddr(a)[1] for a in message.to] == ["contact@dupont.test"]
    assert Reminder.objects.get(pk=handover.reminder_id).status == "sent"


def test_a_retry_in_test_mode_still_knows_the_real_recipient_and_subject(org: Organisation,
                                                                       case: LitigationCase) -> None:
    from relance.dunning.services.compose import compose

    produced(org, case)
    lawyer = save_recipient(org, kind="lawyer", name="Maître Durand", email="durand@avocats.test", actor="sophie")
    reminder = hand_over(org, case, recipient=lawyer, method="attachment", actor="sophie", on=DAY).reminder
    assert reminder is not None
    subject = reminder.subject
    # what a first attempt in test mode stored before a temporary failure
    reminder.recipient = "[TEST] test@atelier.test au lieu de Maître Durand <durand@avocats.test>"
    reminder.subject = f"[TEST] {subject}"
    composed = compose(reminder, org, case.customer, [], DAY, [])
    assert composed.contact is not None and composed.contact.email == "durand@avocats.test"
    assert composed.subject == subject


def test_a_payment_or_a_dispute_before_it_leaves_cancels_the_stale_file(org: Organisation, martin: Customer,
                                                                          case: LitigationCase) -> None:
    from relance.holds.services.holds import open_dispute

    produced(org, case)
    lawyer = save_recipient(org, kind="lawyer", name="Maître Durand", email="durand@avocats.test", actor="sophie")
    first = hand_over(org, case, recipient=lawyer, method="attachment", actor="sophie", on=DAY)
    record_payment(org, martin, "VIR-PART", DAY, Decimal("100.00"))  # a partial payment: the total changed
    dispatch_now(org, NOON + timedelta(hours=1))
    assert mail.outbox == []
    cancelled = Event.objects.get(organisation=org, kind="reminder.cancelled", reminder_id_ref=first.reminder_id)
    assert cancelled.data["reason"] == "case_changed_before_sending"
    second = hand_over(org, case, recipient=lawyer, method="attachment", actor="sophie", on=DAY)
    open_dispute(org, Invoice.objects.get(number="FA-2026-0107"), "montant_conteste", today=DAY)
    dispatch_now(org, NOON + timedelta(hours=2))
    assert mail.outbox == [] and Reminder.objects.get(pk=second.reminder_id).status == "cancelled"
