"""Recovery of a dead worker's work (issue #12): reminders left SENDING past their lease and
task rows left RUNNING, keyed on whether the message was handed over."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from relance.dunning.models import Reminder
from relance.dunning.services.dispatcher import _claim
from relance.dunning.services.planner import plan_day
from relance.dunning.services.recovery import LEASE, SEND_TASK_PATH, TASK_LEASE, WORKER_LOST, recover_orphans
from relance.dunning.tasks import send_reminder_task
from relance.events.models import Event
from relance.ledger.services.imports import import_file
from tests.builders import CUSTOMERS_CSV, invoices_csv, make_org, write

pytestmark = pytest.mark.django_db(transaction=True)

DAY = date(2026, 11, 19)
NOON = datetime(2026, 11, 19, 11, 0, tzinfo=UTC)


@pytest.fixture
def claimed(tmp_path, settings):
    """Two reminders claimed at NOON by a worker that then died: one before the hand-over, one after."""
    settings.MEDIA_ROOT = tmp_path / "media"
    org = make_org()
    import_file(org, write(tmp_path, "clients.csv", CUSTOMERS_CSV))
    import_file(org, write(tmp_path, "factures.csv", invoices_csv([
        ("F-1", "C001", "2026-10-01", "2026-10-31", "900"), ("F-2", "C002", "2026-10-01", "2026-10-31", "500")])))
    plan_day(org, DAY)
    first, second = Reminder.objects.order_by("pk")
    with time_machine.travel(NOON, tick=False):  # the claim's lease runs on the real clock
        assert _claim(first.pk, NOON) is not None and _claim(second.pk, NOON) is not None
    Reminder.objects.filter(pk=second.pk).update(handed_over_at=NOON + timedelta(seconds=2),
                                                 recipient="Jean <jean@example.com>")
    return org, first, second


def test_nothing_is_recovered_within_the_lease(claimed):
    report = recover_orphans(NOON + LEASE - timedelta(seconds=1), enqueue=False)
    assert not report
    assert set(Reminder.objects.values_list("status", flat=True)) == {Reminder.Status.SENDING}


def test_a_reminder_never_handed_over_is_replanned_and_a_handed_over_one_is_uncertain(claimed):
    _, first, second = claimed
    report = recover_orphans(NOON + LEASE + timedelta(seconds=1), enqueue=True)
    first.refresh_from_db()
    second.refresh_from_db()
    assert report.replanned == [first.pk] and report.uncertain == [second.pk]
    assert first.status == Reminder.Status.PLANNED and first.claimed_at is None and first.next_attempt_at is None
    assert second.status == Reminder.Status.UNCERTAIN
    assert Event.objects.get(kind="reminder.recovered").reminder_id_ref == first.pk
    uncertain = Event.objects.get(kind="reminder.uncertain")
    assert uncertain.reminder_id_ref == second.pk and uncertain.data["reason"] == "worker_lost"
    # the replanned one is back on the queue; the uncertain one is not
    queued = [r.args_kwargs["args"][0] for r in DBTaskResult.objects.filter(status=TaskResultStatus.READY)]
    assert queued == [first.pk]
    # a second pass finds nothing more
    assert not recover_orphans(NOON + LEASE * 3)


def test_a_late_worker_cannot_hand_over_a_recovered_reminder(claimed):
    """The hand-over mark is conditional on the claim: once recovery took it back, the worker
    that was only slow stops before transmitting anything."""
    from relance.dunning.services.dispatcher import _mark_handed_over

    _, first, _ = claimed
    recover_orphans(NOON + LEASE * 2, enqueue=False)
    stale = Reminder.objects.get(pk=first.pk)
    stale.status, stale.attempts = Reminder.Status.SENDING, first.attempts
    assert _mark_handed_over(stale, NOON + LEASE * 2) is False
    assert Reminder.objects.get(pk=first.pk).handed_over_at is None


def test_task_rows_left_running_are_failed_and_their_reminder_requeued(claimed, pinned_clock):
    _, first, second = claimed
    rows = [send_reminder_task.enqueue(first.pk), send_reminder_task.enqueue(second.pk)]
    started = timezone.now() - TASK_LEASE - timedelta(minutes=1)
    DBTaskResult.objects.filter(pk__in=[r.id for r in rows]).update(status=TaskResultStatus.RUNNING,
                                                                    started_at=started)
    fresh = send_reminder_task.enqueue(first.pk)
    DBTaskResult.objects.filter(pk=fresh.id).update(status=TaskResultStatus.RUNNING, started_at=timezone.now())
    report = recover_orphans(timezone.now(), enqueue=True)
    assert sorted(report.tasks_failed) == sorted(str(r.id) for r in rows)
    failed = DBTaskResult.objects.filter(exception_class_path=WORKER_LOST)
    assert failed.count() == 2 and all(r.task_path == SEND_TASK_PATH for r in failed)
    assert DBTaskResult.objects.get(pk=fresh.id).status == TaskResultStatus.RUNNING  # within its lease
    assert report.requeued == [first.pk]  # the uncertain one waits for a person
    ready = [r.args_kwargs["args"][0] for r in DBTaskResult.objects.filter(status=TaskResultStatus.READY)]
    assert ready == [first.pk]
