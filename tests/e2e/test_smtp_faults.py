"""SMTP down, 4xx and 5xx: nothing lost, nothing sent twice."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from relance import clock
from relance.dunning.models import Reminder
from relance.dunning.services.dispatcher import BACKOFF, dispatch_now
from relance.events.models import Event
from tests.builders import one_planned_reminder
from tests.smtp_server import SMTPServer, free_port

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]

DAY = date(2026, 11, 19)
NOON = datetime(2026, 11, 19, 11, 0, tzinfo=UTC)


@pytest.fixture
def planned(tmp_path, settings):
    return one_planned_reminder(tmp_path, settings, DAY)


def use(settings, port: int) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 3


def test_server_down_then_up_sends_exactly_once(planned, settings):
    org, reminder = planned
    port = free_port()
    use(settings, port)  # nothing listens there
    report = dispatch_now(org, NOON)
    reminder.refresh_from_db()
    assert report.retrying == [reminder.id]
    assert reminder.status == Reminder.Status.PLANNED and reminder.attempts == 1
    assert "injoignable" in reminder.last_error
    assert reminder.next_attempt_at == NOON + BACKOFF[0]
    assert Event.objects.filter(kind="reminder.retry", reminder_id_ref=reminder.id).count() == 1

    # too early for the retry: nothing happens even though the server is back
    server = SMTPServer(port).start()
    try:
        assert dispatch_now(org, NOON + timedelta(minutes=1)).sent == []
        assert server.received == []
        report = dispatch_now(org, NOON + BACKOFF[0])
        assert report.sent == [reminder.id]
        assert len(server.received) == 1
        # and again later: still only once
        dispatch_now(org, NOON + timedelta(hours=5))
        assert len(server.received) == 1
    finally:
        server.stop()
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.SENT and reminder.attempts == 2


def test_temporary_refusal_is_retried_with_backoff(planned, settings):
    org, reminder = planned
    server = SMTPServer().start()
    server.handler.refuse_with = "451 4.3.0 Mailbox busy, try again later"
    use(settings, server.port)
    try:
        moments = [NOON]
        for k in range(3):
            dispatch_now(org, moments[-1])
            reminder.refresh_from_db()
            assert reminder.status == Reminder.Status.PLANNED
            assert "451" in reminder.last_error
            assert reminder.next_attempt_at == moments[-1] + BACKOFF[k]
            moments.append(reminder.next_attempt_at)
        server.handler.refuse_with = None
        dispatch_now(org, moments[-1])
        assert len(server.received) == 1
    finally:
        server.stop()
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.SENT and reminder.attempts == 4
    assert Event.objects.filter(kind="reminder.retry").count() == 3
    assert Event.objects.filter(kind="reminder.sent").count() == 1


def test_permanent_refusal_marks_failed_and_is_never_retried(planned, settings):
    org, reminder = planned
    server = SMTPServer().start()
    server.handler.refuse_with = "550 5.1.1 User unknown"
    use(settings, server.port)
    try:
        report = dispatch_now(org, NOON)
        assert report.failed == [reminder.id]
        server.handler.refuse_with = None
        dispatch_now(org, NOON + timedelta(days=1))
        assert server.received == []
    finally:
        server.stop()
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.FAILED
    assert "550" in reminder.last_error
    event = Event.objects.get(kind="reminder.failed")
    assert "550" in event.data["error"]


def test_a_crash_after_handing_over_is_never_resent(planned, settings, monkeypatch):
    """A worker dying after the channel took the message leaves it SENDING; it becomes
    UNCERTAIN for a person to check, and is not sent again."""
    org, reminder = planned
    server = SMTPServer().start()
    use(settings, server.port)

    def crash(*args, **kwargs):
        raise RuntimeError("disk full while recording")

    monkeypatch.setattr("relance.dunning.services.dispatcher.record_many", crash)
    try:
        with pytest.raises(RuntimeError), clock.frozen(NOON):
            dispatch_now(org, NOON)
        monkeypatch.undo()
        reminder.refresh_from_db()
        assert reminder.status == Reminder.Status.SENDING and reminder.handed_over_at == NOON
        assert len(server.received) == 1  # it did go out
        # the lease runs from the claim's real time (clock.wall), whatever day is simulated
        with time_machine.travel(clock.wall() + timedelta(hours=1), tick=False):
            report = dispatch_now(org, NOON + timedelta(hours=1))
        assert report.uncertain == [reminder.id]
        assert len(server.received) == 1
    finally:
        server.stop()
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.UNCERTAIN
