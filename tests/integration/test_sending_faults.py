"""Exactly-once sending under SMTP faults (issue #12), against a real SMTP server on loopback
that fails at a chosen phase (tests/smtp_faults.py).

Before the hand-over (connection, RCPT refused or dropped) nothing left: retried with back-off.
After it (the DATA content transmitted, then the connection dropped or no final reply) the
message may have left: « À vérifier », never resent automatically."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from relance import clock
from relance.dunning.models import Reminder
from relance.dunning.services.dispatcher import BACKOFF, dispatch_now, send_reminder
from relance.dunning.services.recovery import LEASE, recover_orphans
from relance.events.models import Event
from tests.builders import one_planned_reminder
from tests.smtp_faults import FaultySMTPServer
from tests.smtp_server import use_smtp

pytestmark = pytest.mark.django_db(transaction=True)

DAY = date(2026, 11, 19)
NOON = datetime(2026, 11, 19, 11, 0, tzinfo=UTC)


@pytest.fixture
def planned(tmp_path, settings):
    return one_planned_reminder(tmp_path, settings, DAY)


@pytest.fixture
def server(settings) -> Iterator[FaultySMTPServer]:
    smtp = FaultySMTPServer().start()
    use_smtp(settings, smtp.port, 1)
    yield smtp
    smtp.stop()


def later_days(org, count: int = 3) -> None:
    """Run the dispatcher again well past every back-off."""
    for k in range(1, count + 1):
        dispatch_now(org, NOON + timedelta(days=k))


@pytest.mark.parametrize("fault", ["drop_after_data", "hang_after_data"])
def test_an_unknown_outcome_after_data_is_uncertain_and_never_resent(planned, server, fault):
    org, reminder = planned
    server.fault = fault
    server.handler.hang_seconds = 3  # longer than the client's 1 s timeout
    report = dispatch_now(org, NOON)
    reminder.refresh_from_db()
    assert report.uncertain == [reminder.id] and report.retrying == []
    assert reminder.status == Reminder.Status.UNCERTAIN
    assert reminder.handed_over_at == NOON  # the simulated day's clock
    assert "peut-être parti" in reminder.last_error
    # what went is kept for the person who checks: recipient, subject, text, Message-ID
    assert "@" in reminder.recipient and reminder.subject and reminder.body_text
    assert len(server.handler.contents) == 1
    assert server.handler.contents[0]["Message-ID"] == reminder.message_id
    event = Event.objects.get(kind="reminder.uncertain")
    assert event.data["reason"] == "smtp_no_final_reply" and event.data["message_id"] == reminder.message_id

    server.fault = None
    later_days(org)
    assert len(server.handler.contents) == 1  # never a second copy
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.UNCERTAIN and reminder.attempts == 1


@pytest.mark.parametrize("fault", ["drop_at_rcpt", "hang_at_rcpt"])
def test_a_failure_before_data_is_retried_and_sent_once(planned, server, fault):
    org, reminder = planned
    server.fault = fault
    server.handler.hang_seconds = 3
    report = dispatch_now(org, NOON)
    reminder.refresh_from_db()
    assert report.retrying == [reminder.id]
    assert reminder.status == Reminder.Status.PLANNED and reminder.handed_over_at is None
    assert reminder.next_attempt_at == NOON + BACKOFF[0]
    assert server.handler.contents == []
    server.fault = None
    report = dispatch_now(org, NOON + BACKOFF[0])
    assert report.sent == [reminder.id]
    later_days(org)
    assert len(server.handler.accepted) == 1 and len(server.handler.contents) == 1


def test_a_4xx_answer_to_the_content_is_retried_with_the_same_message_id(planned, server):
    org, reminder = planned
    server.fault = "4xx_after_data"
    assert dispatch_now(org, NOON).retrying == [reminder.id]
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.PLANNED and reminder.handed_over_at is None
    assert "451" in reminder.last_error
    server.fault = None
    assert dispatch_now(org, NOON + BACKOFF[0]).sent == [reminder.id]
    first, second = server.handler.contents
    # the same reminder keeps its Message-ID (random part drawn once), so a copy is recognisable
    assert first["Message-ID"] == second["Message-ID"]
    reminder.refresh_from_db()
    assert reminder.message_nonce and reminder.message_nonce[:16] in second["Message-ID"]
    assert len(server.handler.accepted) == 1


def test_a_5xx_answer_to_the_content_fails_for_good(planned, server):
    org, reminder = planned
    server.fault = "5xx_after_data"
    assert dispatch_now(org, NOON).failed == [reminder.id]
    server.fault = None
    later_days(org)
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.FAILED and "554" in reminder.last_error
    assert len(server.handler.contents) == 1 and server.handler.accepted == []


def test_message_ids_differ_between_installations(planned, server):
    """Another installation has the same database ids, so the same idempotency key for its
    reminder (simulated: the same row, as new): the Message-IDs still differ."""
    org, reminder = planned
    dispatch_now(org, NOON)
    reminder.refresh_from_db()
    first = (reminder.idempotency_key, reminder.message_id)
    Reminder.objects.filter(pk=reminder.pk).update(status=Reminder.Status.PLANNED, message_nonce="", attempts=0,
                                                   message_id="", sent_at=None, handed_over_at=None)
    dispatch_now(org, NOON)
    reminder.refresh_from_db()
    assert reminder.idempotency_key == first[0]
    assert reminder.message_id != first[1]
    a, b = (m["Message-ID"] for m in server.handler.accepted)
    assert a != b and a.startswith("<relance.") and first[0][:16] in a and first[0][:16] in b


def test_sent_at_is_when_the_server_accepted_not_the_business_moment(planned, server):
    """A task enqueued at NOON runs later: ``sent_at`` and the sent event are the moment the
    message left (the clock at the server's 250), the claim's time is when the worker took it."""
    _, reminder = planned
    server.handler.delay_accept = 0.4
    worker_time = NOON + timedelta(seconds=389)
    with time_machine.travel(worker_time, tick=True):
        assert send_reminder(reminder.id, NOON) == "sent"  # ``at`` = the enqueue time
    reminder.refresh_from_db()
    assert reminder.claimed_at is not None and reminder.handed_over_at is not None and reminder.sent_at is not None
    assert worker_time <= reminder.claimed_at <= reminder.handed_over_at < reminder.sent_at
    assert reminder.sent_at - reminder.handed_over_at >= timedelta(seconds=0.4)
    assert reminder.sent_at < worker_time + timedelta(minutes=1)
    event = Event.objects.get(kind="reminder.sent")
    assert event.occurred_at == reminder.sent_at
    assert event.data["handed_over_at"] is not None
    # the business date stays the one of the day (the invoice facts move on that day)
    invoice = reminder.invoices.get()
    assert invoice.last_step_on == DAY


def test_a_worker_dying_after_the_hand_over_leaves_an_uncertain_reminder(planned, server):
    """The hand-over is committed before the content is transmitted: seen from another
    connection while the worker is still in DATA (a kill -9 there loses nothing of it), and
    recovery then makes the reminder uncertain — the late worker does not resend it."""
    org, reminder = planned
    server.fault = "hang_after_data"
    server.handler.hang_seconds = 30
    outcome: list[str] = []

    def worker() -> None:
        from django.db import connection

        try:
            with clock.frozen(NOON):
                outcome.append(send_reminder(reminder.id, NOON))
        finally:
            connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert server.handler.after_data.wait(10)
        seen = Reminder.objects.get(pk=reminder.pk)
        assert seen.status == Reminder.Status.SENDING and seen.handed_over_at == NOON
        assert seen.recipient and seen.body_text and seen.message_id  # what is going is committed with it
        report = recover_orphans(clock.wall() + LEASE + timedelta(seconds=1), enqueue=False)
        assert report.uncertain == [reminder.id] and report.replanned == []
    finally:
        server.handler.released.set()
        thread.join(15)
    assert outcome == ["skipped"]  # the worker found its reminder taken over
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.UNCERTAIN
    assert Event.objects.filter(kind="reminder.uncertain").count() == 1
    later_days(org)
    assert len(server.handler.contents) == 1


def test_a_worker_dying_before_the_hand_over_leaves_a_reminder_sent_again(planned, server, settings):
    org, reminder = planned
    server.fault = "hang_at_rcpt"
    server.handler.hang_seconds = 30
    settings.EMAIL_TIMEOUT = 20
    outcome: list[str] = []

    def worker() -> None:
        from django.db import connection

        try:
            with clock.frozen(NOON):
                outcome.append(send_reminder(reminder.id, NOON))
        finally:
            connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert server.handler.at_rcpt.wait(10)  # the worker is in RCPT TO, its transactions committed
        seen = Reminder.objects.get(pk=reminder.pk)
        assert seen.status == Reminder.Status.SENDING and seen.handed_over_at is None
        report = recover_orphans(clock.wall() + LEASE + timedelta(seconds=1), enqueue=False)
        assert report.replanned == [reminder.id]
    finally:
        server.handler.released.set()
        thread.join(25)
    assert outcome == ["skipped"]  # it lost its claim: it did not hand anything over
    assert server.handler.contents == []
    server.fault = None
    assert dispatch_now(org, NOON + timedelta(minutes=20)).sent == [reminder.id]
    later_days(org)
    assert len(server.handler.contents) == 1


def test_a_letter_whose_transaction_rolls_back_leaves_no_pdf(planned, settings, monkeypatch, tmp_path):
    """The letter's PDF is written inside the send's transaction: when it rolls back, the file
    goes too (before: an orphan PDF per failed attempt)."""
    from relance.core.policy import Channel
    from relance.dunning.services.retries import retry

    org, reminder = planned
    Reminder.objects.filter(pk=reminder.pk).update(channel=Channel.LETTER)
    media = tmp_path / "media"

    def crash(*args, **kwargs):
        raise RuntimeError("base de données indisponible")

    monkeypatch.setattr("relance.dunning.services.dispatcher.record_received", crash)
    assert dispatch_now(org, NOON).failed == [reminder.pk]
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.FAILED and not reminder.document
    assert list(media.rglob("*.pdf")) == []

    monkeypatch.undo()
    retry(org, reminder.pk, actor="test", enqueue=False)
    assert dispatch_now(org, NOON + timedelta(hours=1)).sent == [reminder.pk]
    reminder.refresh_from_db()
    (pdf,) = media.rglob("*.pdf")
    assert reminder.document and pdf.name == reminder.document.name.rsplit("/", 1)[-1]


@pytest.mark.skipif(not os.environ.get("DATABASE_URL", "sqlite").startswith("postgres"),
                    reason="a worker process needs a database it can reach: the PostgreSQL pass")
@pytest.mark.parametrize(("fault", "expected"), [("hang_at_rcpt", "replanned"), ("hang_after_data", "uncertain")])
def test_a_worker_process_killed_mid_send(planned, server, fault, expected, tmp_path):
    """A real worker process, ``kill -9`` in RCPT TO (nothing handed over) or in DATA (handed
    over): recovery replans the first, which then leaves once, and makes the second « à vérifier »."""
    from django.db import connection

    org, reminder = planned
    server.fault = fault
    server.handler.hang_seconds = 120
    db = connection.settings_dict
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "relance.settings",
           "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
           "RELANCE_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
           "RELANCE_EMAIL_HOST": "127.0.0.1", "RELANCE_EMAIL_PORT": str(server.port), "RELANCE_EMAIL_TIMEOUT": "120",
           "RELANCE_DATA_DIR": str(tmp_path / "worker")}
    code = ("import django; django.setup(); from datetime import datetime; "
            "from relance.dunning.services.dispatcher import send_reminder; "
            f"send_reminder({reminder.pk}, datetime.fromisoformat('{NOON.isoformat()}'))")
    worker = subprocess.Popen([sys.executable, "-c", code], env=env)
    try:
        reached = server.handler.at_rcpt if fault == "hang_at_rcpt" else server.handler.after_data
        assert reached.wait(60), "the worker never reached the server"
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
        server.handler.released.set()
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.SENDING and reminder.claimed_at is not None
    assert (reminder.handed_over_at is not None) == (expected == "uncertain")
    report = recover_orphans(reminder.claimed_at + LEASE + timedelta(seconds=1), enqueue=False)
    assert getattr(report, expected) == [reminder.pk]
    reminder.refresh_from_db()
    server.fault = None
    later_days(org)
    reminder.refresh_from_db()
    if expected == "replanned":
        assert reminder.status == Reminder.Status.SENT
        assert len(server.handler.contents) == 1 and len(server.handler.accepted) == 1
    else:
        assert reminder.status == Reminder.Status.UNCERTAIN and reminder.body_text and reminder.recipient
        assert len(server.handler.contents) == 1  # never a second copy


def test_a_payment_recorded_during_the_smtp_exchange_stops_the_message_before_data(planned, server):
    """The invoices are not held across the SMTP exchange; a payment recorded while the worker
    waits for RCPT TO is seen by the last re-check just before DATA: nothing is transmitted, the
    reminder is composed again and cancelled."""
    from decimal import Decimal

    from relance.ledger.services.payments import record_payment

    org, reminder = planned
    server.fault = "hang_at_rcpt"
    server.handler.hang_seconds = 30
    outcome: list[str] = []

    def worker() -> None:
        from django.db import connection

        try:
            with clock.frozen(NOON):
                outcome.append(send_reminder(reminder.id, NOON))
        finally:
            connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert server.handler.at_rcpt.wait(10)
        record_payment(org, reminder.customer, "VIR-9", DAY, Decimal("900"), designated=["F-1"])
    finally:
        server.fault = None
        server.handler.released.set()
        thread.join(20)
    assert outcome == ["cancelled"]
    assert server.handler.contents == []
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.CANCELLED and reminder.handed_over_at is None
