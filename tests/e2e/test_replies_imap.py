"""End to end (issue 15): a reminder leaves through a real SMTP server; the customer answers from
their mail client « je vous règle le 15 décembre »; the worker reads the real IMAP mailbox
(Dovecot on loopback); the promise appears, the next reminder waits; then the promise is kept
(a payment) or broken (the broken-promise message leaves). A bounce of a reminder makes it
« non distribuée » and the next step a letter. « Jamais reçu la facture » sends its copy, PDF attached."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.core.management import call_command

from relance.dunning.models import Reminder
from relance.events import kinds
from relance.events.models import Event
from relance.events.services import verify_chain
from relance.holds.models import Promise
from relance.ledger.models import Customer, Invoice
from relance.ledger.services.imports import import_file
from relance.ledger.services.payments import record_payment
from relance.operations.daily import run_day
from relance.operations.scheduler import TickReport, read_mailboxes
from relance.replies.models import Mailbox, Reply
from relance.replies.services import review
from tests import imap_server as imap_fixtures
from tests.builders import CUSTOMERS_CSV, make_org, write
from tests.smtp_server import SMTPServer

dovecot, imap_server = imap_fixtures.dovecot, imap_fixtures.imap_server

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]

DUE = date(2026, 11, 23)  # a Monday: the first reminder after the due date leaves on Monday 30 November
FIRST = date(2026, 11, 30)


@pytest.fixture
def org(tmp_path: Any, smtp: SMTPServer, imap_server: imap_fixtures.ImapAccount) -> Iterator[Any]:
    org = make_org(reply_tag_separator="+")
    import_file(org, write(tmp_path, "clients.csv", CUSTOMERS_CSV))
    import_file(org, write(tmp_path, "factures.csv", (
        "Numéro facture;Code client;Date;Échéance;Montant TTC;Libellé\n"
        "F-2026-0107;C001;23/10/2026;23/11/2026;1 200,00;Fournitures d’octobre\n")))
    Mailbox.objects.create(organisation=org, host=imap_server.host, port=imap_server.port, security="none",
                           username=imap_server.user, password=imap_server.password, every_minutes=5)
    yield org


def at(day: date, hour: int = 14) -> datetime:
    return datetime(day.year, day.month, day.day, hour - 1, 0, tzinfo=UTC)  # Paris time in winter


def the_reply(original: EmailMessage, text: str, when: datetime) -> bytes:
    """The customer's answer as Thunderbird or Gmail write it: the quoted reminder under the answer,
    a plain and an HTML part, accents in quoted-printable, the thread headers."""
    reply = EmailMessage()
    reply["From"] = "Claire Martin <claire.martin@boulangerie-martin.test>"
    reply["To"] = str(original["Reply-To"])
    reply["Subject"] = f"Re: {original['Subject']}"
    reply["Date"] = format_datetime(when)
    reply["Message-ID"] = f"<{when.timestamp():.0f}.claire@boulangerie-martin.test>"
    reply["In-Reply-To"] = str(original["Message-ID"])
    reply["References"] = str(original["Message-ID"])
    quoted = "\n".join(f"> {line}" for line in original.get_body(preferencelist=("plain",)).get_content()
                       .splitlines())
    reply.set_content(f"{text}\n\nClaire Martin\nBoulangerie Martin\n\nLe 30/11/2026 à 08:02, Atelier Dubois a "
                      f"écrit :\n{quoted}\n", cte="quoted-printable")
    reply.add_alternative(f"<div dir=\"ltr\"><p>{text}</p><p>Claire Martin<br>Boulangerie Martin</p></div>"
                          f"<blockquote>…</blockquote>", subtype="html", cte="quoted-printable")
    return bytes(reply)


def worker_reads(day: date, hour: int = 15) -> dict[str, Any]:
    report = TickReport()
    with time_machine.travel(at(day, hour), tick=False):
        read_mailboxes(at(day, hour), report)
    [one] = report.mailboxes
    return one


def chased(org: Any) -> list[Reminder]:
    return list(Reminder.objects.filter(organisation=org, customer__code="C001", status="sent").order_by("pk"))


def promise_answered(org: Any, smtp: SMTPServer, imap: imap_fixtures.ImapAccount) -> Reply:
    run_day(org, FIRST, queue=True)
    [reminder] = smtp.received
    assert reminder.rcpt_tos == ["claire.martin@boulangerie-martin.test"]
    imap.append(the_reply(reminder.message, "Bonjour,\nJe vous règle le 15 décembre, désolée pour le retard.",
                          at(FIRST)))
    read = worker_reads(FIRST)
    assert (read["stored"], read["applied"], read["error"]) == (1, 1, "")
    reply = Reply.objects.get()
    assert (reply.category, reply.state, reply.attached_by) == ("promesse", "traitee", "thread")
    assert reply.reminder == chased(org)[0]
    promise = Promise.objects.get()
    assert (promise.promised_on, promise.amount, promise.state) == (date(2026, 12, 15), Decimal("1200.00"), "active")
    assert "\\Seen" not in imap.flags("INBOX", imap.folder_uids()[0])  # read-only: the message stays unread
    assert worker_reads(FIRST, 16)["stored"] == 0  # read again, nothing new
    return reply


def test_a_promise_by_reply_is_kept(org: Any, smtp: SMTPServer, imap_server: imap_fixtures.ImapAccount) -> None:
    promise_answered(org, smtp, imap_server)
    for offset in range(1, 14):  # up to Sunday 13 December: the J+15 reminder waits for the promise
        run_day(org, FIRST + timedelta(days=offset), queue=True)
    assert len(chased(org)) == 1 and len(smtp.received) == 1
    customer = Customer.objects.get(organisation=org, code="C001")
    record_payment(org, customer, "VIR-CLAIRE", date(2026, 12, 14), Decimal("1200.00"))
    run_day(org, date(2026, 12, 14), queue=True)
    assert Promise.objects.get().state == "kept"
    for offset in range(15, 40):
        run_day(org, FIRST + timedelta(days=offset), queue=True)
    assert [r.kind for r in Reminder.objects.filter(status="sent").order_by("pk")] == ["reminder", "thanks"]
    assert not verify_chain(org)


def test_an_invoice_never_received_is_sent_again_with_its_pdf(org: Any, smtp: SMTPServer, settings: Any,
                                                             tmp_path: Any,
                                                             imap_server: imap_fixtures.ImapAccount) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    pdf = b"%PDF-1.4 F-2026-0107\n%%EOF\n"
    Invoice.objects.get(organisation=org, number="F-2026-0107").pdf.save("F-2026-0107.pdf", ContentFile(pdf))
    run_day(org, FIRST, queue=True)
    [reminder] = smtp.received
    imap_server.append(the_reply(reminder.message, "Bonjour,\nJe n’ai jamais reçu cette facture, pouvez-vous me "
                                 "la renvoyer ?", at(FIRST)))
    assert worker_reads(FIRST)["stored"] == 1
    reply = Reply.objects.get()
    assert (reply.category, reply.state) == ("non_recu", "a_traiter")
    with time_machine.travel(at(FIRST, 16), tick=False):
        review.confirm(org, reply, actor="web:alice")
        call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)  # the worker
    assert len(smtp.received) == 2
    copy = smtp.received[1]
    assert copy.rcpt_tos == ["claire.martin@boulangerie-martin.test"]
    assert str(copy.message["Subject"]) == "Copie de la facture n° F-2026-0107"
    [attached] = [p for p in copy.message.iter_attachments() if p.get_filename() == "Facture-F-2026-0107.pdf"]
    assert attached.get_content() == pdf
    assert Reminder.objects.get(kind="invoice_copy").status == "sent"
    assert Event.objects.filter(organisation=org, kind=kinds.INVOICE_COPY_SENT).count() == 1
    assert not verify_chain(org)


def test_a_promise_by_reply_is_broken(org: Any, smtp: SMTPServer, imap_server: imap_fixtures.ImapAccount) -> None:
    promise_answered(org, smtp, imap_server)
    day = FIRST
    while day < date(2026, 12, 18):  # the promise's grace ends on Friday 18 December
        day += timedelta(days=1)
        run_day(org, day, queue=True)
    assert len(smtp.received) == 1
    run_day(org, date(2026, 12, 21), queue=True)
    assert Promise.objects.get().state == "broken"
    assert [r.kind for r in chased(org)] == ["reminder", "promise_broken"]
    last = smtp.received[-1].message.get_body(preferencelist=("plain",)).get_content()
    assert "15 décembre 2026" in last
    assert Event.objects.filter(kind="promise.broken").exists()


def test_a_bounce_marks_the_reminder_and_the_next_step_is_a_letter(org: Any, smtp: SMTPServer,
                                                                  imap_server: imap_fixtures.ImapAccount) -> None:
    run_day(org, FIRST, queue=True)
    [sent] = smtp.received
    bounce = (
        "From: MAILER-DAEMON@mx.boulangerie-martin.test\r\nTo: compta@atelier-dubois.test\r\n"
        f"Subject: Undelivered Mail Returned to Sender\r\nDate: {format_datetime(at(FIRST, 10))}\r\n"
        "Message-ID: <bounce-1@mx.boulangerie-martin.test>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n"
        "--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.boulangerie-martin.test\r\n\r\n"
        "Final-Recipient: rfc822; claire.martin@boulangerie-martin.test\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 <claire.martin@boulangerie-martin.test>: Recipient address rejected: "
        "User unknown\r\n"
        f"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {sent.message['Message-ID']}\r\n"
        f"Subject: {sent.message['Subject']}\r\n--B--\r\n").encode()
    imap_server.append(bounce)
    read = worker_reads(FIRST, 11)
    assert read["bounces"] == 1
    reminder = chased(org)
    assert reminder == []  # no longer « envoyée »
    undelivered = Reminder.objects.get(customer__code="C001", kind="reminder")
    assert undelivered.status == "undelivered" and "5.1.1" in undelivered.bounce_reason
    for offset in range(1, 16):
        run_day(org, FIRST + timedelta(days=offset), queue=True)
    assert len(smtp.received) == 1  # nothing more by email
    assert Reminder.objects.filter(customer__code="C001", channel="letter").exists()


def test_the_letter_after_a_bounce_does_not_claim_the_email_arrived(org: Any, smtp: SMTPServer,
                                                                    imap_server: imap_fixtures.ImapAccount) -> None:
    from relance.ledger.models import Invoice

    run_day(org, FIRST, queue=True)
    [sent] = smtp.received
    assert Invoice.objects.get(number="F-2026-0107").reminders_received == 1
    imap_server.append((
        "From: MAILER-DAEMON@mx.test\r\nTo: compta@atelier-dubois.test\r\nSubject: Delivery Status Notification\r\n"
        "Message-ID: <bounce-2@mx.test>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n"
        "--B\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.test\r\n\r\n"
        "Final-Recipient: rfc822; claire.martin@boulangerie-martin.test\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        f"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {sent.message['Message-ID']}\r\n--B--\r\n"
    ).encode())
    worker_reads(FIRST, 11)
    assert Invoice.objects.get(number="F-2026-0107").reminders_received == 0
    event = Event.objects.get(kind="reminder.undelivered")
    assert event.data["not_received"] == ["F-2026-0107"]


def test_a_first_reading_skips_old_mail_and_a_new_uidvalidity_stores_nothing_twice(
        org: Any, imap_server: imap_fixtures.ImapAccount) -> None:
    import imaplib

    # the server's internal date, long before the day: far enough that the future pass, where libfaketime also
    # shifts the timestamps Dovecot reads back from its files by +400 days, still sees an old message
    old = (at(FIRST) - timedelta(days=800)).timestamp()
    with imap_server.session() as conn:
        conn.append("INBOX", None, imaplib.Time2Internaldate(old),
                    b"From: x@old.test\r\nSubject: vieux message\r\nMessage-ID: <old@old.test>\r\n\r\nancien\r\n")
    imap_server.append(b"From: compta@garageducentre.test\r\nSubject: RE: relance\r\nMessage-ID: <new@g.test>\r\n"
                       b"\r\nBien recu, merci.\r\n")
    imap_server.append(b"From: compta@atelier-dubois.test\r\nTo: claire.martin@boulangerie-martin.test\r\n"
                       b"Subject: Facture impayee\r\nMessage-ID: <relance.0123456789abcdef.fedcba9876543210@"
                       b"atelier-dubois.test>\r\n\r\nMadame,\r\n")  # a copy of our own reminder (a BCC)
    first = worker_reads(FIRST)
    assert first["stored"] == 1 and first["started_after_uid"] == 1 and first["ours"] == 1
    assert list(Reply.objects.values_list("message_key", flat=True)) == ["<new@g.test>"]
    imap_server.recreate_folder("INBOX")  # the server renumbers: a new UIDVALIDITY
    again = worker_reads(FIRST + timedelta(days=1))
    assert again["uidvalidity_changed"] and again["stored"] == 0
    assert Reply.objects.count() == 1
