"""A worker's claim, kept to the end of its send (review of issue #12): a worker that outlived
its lease never records a second send; a person's « parti » / « renvoyer » wins over a late 250;
a reminder released twice before the hand-over is queued for a retry; a retry's task is queued
in the same transaction; « parti » never waits for a reminder its worker holds (lock order).

Real SMTP server on loopback (tests/smtp_faults.py), pinned clocks; SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection, transaction
from django_tasks.base import TaskResultStatus
from django_tasks.signals import task_enqueued
from django_tasks_db.models import DBTaskResult

from relance import clock
from relance.core.policy import Channel
from relance.dunning.models import Reminder
from relance.dunning.services.dispatcher import BACKOFF, Progress, _attempt, _claim, _record_failure, send_reminder
from relance.dunning.services.recovery import LEASE, recover_orphans
from relance.dunning.services.uncertain import NotUncertain, confirm_sent, request_resend
from relance.events.models import Event
from relance.locks import lock_organisation
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
    use_smtp(settings, smtp.port, 5)
    yield smtp
    smtp.stop()


def pdfs(root) -> list:
    return sorted(p for p in root.rglob("*.pdf"))


def test_a_claim_on_a_simulated_day_is_stamped_with_the_real_clock(planned):
    """``relance run --date <past day> --no-queue`` freezes the clock on that day: the claim's
    lease must still run from the real instant, or any worker's recovery finds it stale at once."""
    _, reminder = planned
    wall = NOON + timedelta(days=30)
    with time_machine.travel(wall, tick=False), clock.frozen(NOON):
        claimed = _claim(reminder.pk, NOON)
        assert claimed is not None and claimed.claimed_at == wall
        assert not recover_orphans(enqueue=False)  # another worker, at the real instant: within the lease
    assert Reminder.objects.get(pk=reminder.pk).status == Reminder.Status.SENDING


def test_a_letter_taken_back_by_recovery_is_not_recorded_a_second_time(planned, tmp_path):
    """Worker A claims a letter, then waits longer than the lease (on the invoices' locks);
    recovery replans it, worker B sends it; A resumes: it finds its claim gone and records nothing."""
    _, reminder = planned
    Reminder.objects.filter(pk=reminder.pk).update(channel=Channel.LETTER)
    with time_machine.travel(NOON, tick=False):
        stale = _claim(reminder.pk, NOON)  # worker A
    assert stale is not None
    later = NOON + LEASE + timedelta(seconds=1)
    with time_machine.travel(later, tick=False):
        assert recover_orphans(enqueue=False).replanned == [reminder.pk]
        assert send_reminder(reminder.pk, later) == "sent"  # worker B
        assert _attempt(stale, NOON, Progress(), True) == "skipped"  # worker A, late
    assert Event.objects.filter(kind="reminder.sent").count() == 1
    assert len(pdfs(tmp_path / "media")) == 1
    fresh = Reminder.objects.get(pk=reminder.pk)
    assert fresh.status == Reminder.Status.SENT and fresh.attempts == 2


@pytest.mark.parametrize("decision", ["parti", "renvoyer"])
def test_a_late_250_does_not_overwrite_a_persons_decision(planned, server, decision):
    """The server's 250 comes after recovery made the reminder « à vérifier » and a person
    decided: the decision stands, and the send is not recorded a second time."""
    org, reminder = planned
    server.handler.delay_accept = 2.0
    outcome: list[str] = []

    def worker() -> None:
        try:
            outcome.append(send_reminder(reminder.pk, NOON))
        finally:
            connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert server.handler.after_data.wait(10)
        report = recover_orphans(clock.wall() + LEASE + timedelta(seconds=1), enqueue=False)
        assert report.uncertain == [reminder.pk]
        if decision == "parti":
            confirm_sent(org, reminder.pk, actor="claire")
        else:
            request_resend(org, reminder.pk, actor="claire", enqueue=False)
    finally:
        thread.join(15)
    assert len(server.handler.accepted) == 1  # it did leave
    assert outcome == ["skipped"]
    fresh = Reminder.objects.get(pk=reminder.pk)
    sent_events = Event.objects.filter(kind="reminder.sent")
    if decision == "parti":
        assert fresh.status == Reminder.Status.SENT
        assert sent_events.count() == 1 and sent_events.get().actor == "claire"
    else:
        assert fresh.status == Reminder.Status.PLANNED and fresh.sent_at is None
        assert sent_events.count() == 0


def test_a_late_250_after_recovery_alone_records_the_send(planned, server):
    """Recovery was faster than the server's answer, nobody decided yet: the 250 says it left."""
    _, reminder = planned
    server.handler.delay_accept = 2.0
    outcome: list[str] = []

    def worker() -> None:
        try:
            outcome.append(send_reminder(reminder.pk, NOON))
        finally:
            connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert server.handler.after_data.wait(10)
        assert recover_orphans(clock.wall() + LEASE + timedelta(seconds=1), enqueue=False).uncertain == [reminder.pk]
    finally:
        thread.join(15)
    assert outcome == ["sent"]
    assert Reminder.objects.get(pk=reminder.pk).status == Reminder.Status.SENT
    assert Event.objects.filter(kind="reminder.sent").count() == 1


def test_a_reminder_changed_twice_before_the_hand_over_is_queued_for_a_retry(planned, server, settings):
    """Two payments, each while the worker waits in RCPT TO: the message is composed again after
    the first, and after the second it waits for the first back-off, its task queued — not
    stranded in PLANNED with no date and no task."""
    from relance.ledger.services.payments import record_payment

    org, reminder = planned
    server.fault = "hang_at_rcpt"
    server.handler.hang_seconds = 1.5
    outcome: list[str] = []

    def worker() -> None:
        try:
            with clock.frozen(NOON):
                outcome.append(send_reminder(reminder.pk, NOON))
        finally:
            connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        for k in (1, 2):
            assert server.handler.at_rcpt.wait(10)
            server.handler.at_rcpt.clear()
            record_payment(org, reminder.customer, f"VIR-{k}", DAY, Decimal("100"), designated=["F-1"])
    finally:
        thread.join(20)
    assert outcome == ["retrying"]
    assert server.handler.contents == []
    fresh = Reminder.objects.get(pk=reminder.pk)
    assert fresh.status == Reminder.Status.PLANNED and fresh.handed_over_at is None
    assert fresh.next_attempt_at == NOON + BACKOFF[0]
    queued = DBTaskResult.objects.filter(status=TaskResultStatus.READY)
    assert [(r.args_kwargs["args"][0], r.run_after) for r in queued] == [(reminder.pk, NOON + BACKOFF[0])]
    server.fault = None
    with clock.frozen(NOON + BACKOFF[0]):
        assert send_reminder(reminder.pk, NOON + BACKOFF[0]) == "sent"
    assert len(server.handler.accepted) == 1


def test_a_retry_task_is_queued_in_the_transaction_that_records_the_retry(planned):
    """The database queue lives in the same database: the task row is written with the
    reminder's PLANNED state, so a crash between the commit and an after-commit hook cannot
    leave a reminder waiting for a task that never comes."""
    _, reminder = planned
    seen: list[bool] = []

    def receiver(sender, task_result, **kwargs) -> None:
        seen.append(connection.in_atomic_block)

    task_enqueued.connect(receiver)
    try:
        with clock.frozen(NOON):
            claimed = _claim(reminder.pk, NOON)
            assert claimed is not None
            assert _record_failure(claimed, NOON, "serveur injoignable", permanent=False) == "retrying"
    finally:
        task_enqueued.disconnect(receiver)
    assert seen == [True]
    assert DBTaskResult.objects.filter(status=TaskResultStatus.READY).count() == 1


def test_a_retry_rolled_back_leaves_no_task(planned):
    _, reminder = planned
    with clock.frozen(NOON):
        claimed = _claim(reminder.pk, NOON)
        assert claimed is not None
        with pytest.raises(RuntimeError), transaction.atomic():
            _record_failure(claimed, NOON, "serveur injoignable", permanent=False)
            raise RuntimeError("crash before the commit")
    assert not DBTaskResult.objects.exists()
    assert Reminder.objects.get(pk=reminder.pk).status == Reminder.Status.SENDING


def test_parti_does_not_wait_for_a_reminder_its_worker_holds(planned):
    """Lock order: a worker recording its outcome holds its SENDING reminder, then takes the
    organisation row. « Parti » takes the organisation row and then only an « à vérifier »
    reminder: it answers at once instead of waiting (PostgreSQL broke that circle with
    « deadlock detected »)."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks: the PostgreSQL pass")
    org, reminder = planned
    with clock.frozen(NOON):
        assert _claim(reminder.pk, NOON) is not None
    holding, done = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def person() -> None:
        try:
            assert holding.wait(10)
            confirm_sent(org, reminder.pk, actor="claire")
        except BaseException as exc:
            errors.append(exc)
        finally:
            done.set()
            connection.close()

    thread = threading.Thread(target=person)
    thread.start()
    try:
        with transaction.atomic():  # the worker: its reminder, then the organisation row
            Reminder.objects.select_for_update().get(pk=reminder.pk)
            holding.set()
            assert done.wait(5), "« parti » waited for the worker's reminder"
            lock_organisation(org)
    finally:
        holding.set()
        thread.join(15)
    assert len(errors) == 1 and isinstance(errors[0], NotUncertain)
