"""Recovering the work of a worker that died (kill -9, power cut, OOM) in the middle of a send.

Keyed on the reminder's state, not on the worker: a reminder stays ``SENDING`` for as long as a
worker holds it (from its claim), so one ``SENDING`` past :data:`LEASE` lost its worker.

* never handed over (``handed_over_at`` null: the channel had not begun transmitting it — for
  SMTP, the DATA content) → back to ``PLANNED``, due now: nothing can have left, it is sent
  again automatically (event ``reminder.recovered``);
* handed over → ``UNCERTAIN`` (« À vérifier »): it may have left; a person decides
  (``dunning.services.uncertain``), it is never resent blindly (event ``reminder.uncertain``).

Both are conditional updates (``status = SENDING`` and the same claim, ``attempts``): a worker
still alive past the lease either wrote its hand-over first (then the reminder becomes
uncertain, which is true) or finds its claim gone when it tries to, and stops before handing
anything over (``dispatcher._mark_handed_over``).

Task rows of the database queue (``django_tasks_db``) left ``RUNNING`` by a dead worker past
:data:`TASK_LEASE` are marked ``FAILED`` (``WorkerLost``); a reminder task whose reminder is
``PLANNED`` again is put back on the queue.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction

from relance import clock
from relance.events import kinds
from relance.events.services import record_many

from ..models import Reminder
from .queue import queue_send

logger = logging.getLogger(__name__)

#: a reminder claimed longer ago than this lost its worker (a send takes at most a few SMTP timeouts)
LEASE = timedelta(minutes=10)
#: a task row RUNNING for longer than this lost its worker
TASK_LEASE = timedelta(minutes=15)
SEND_TASK_PATH = "relance.dunning.tasks.send_reminder_task"
WORKER_LOST = "relance.dunning.services.recovery.WorkerLost"


class WorkerLost(Exception):
    """The worker running a task stopped without finishing it."""


@dataclass
class RecoveryReport:
    replanned: list[int] = field(default_factory=list)  # SENDING, not handed over -> PLANNED
    uncertain: list[int] = field(default_factory=list)  # SENDING, handed over -> UNCERTAIN
    tasks_failed: list[str] = field(default_factory=list)  # task rows RUNNING past their lease
    requeued: list[int] = field(default_factory=list)  # reminders put back on the queue

    def as_dict(self) -> dict[str, Any]:
        return {k: len(v) for k, v in self.__dict__.items()}

    def __bool__(self) -> bool:
        return any(self.__dict__.values())


def recover_orphans(now: datetime | None = None, *, enqueue: bool = True, lease: timedelta = LEASE,
                    task_lease: timedelta = TASK_LEASE) -> RecoveryReport:
    """Recover what dead workers left. ``now`` is a real instant (``clock.wall()``: never a
    simulated day's), compared with the claim's time; ``enqueue=False`` leaves the sending of the
    replanned reminders to the caller (``dispatch_now`` sends them right after)."""
    now = now or clock.wall()
    report = RecoveryReport()
    stale = (Reminder.objects.filter(status=Reminder.Status.SENDING, claimed_at__lt=now - lease)
             | Reminder.objects.filter(status=Reminder.Status.SENDING, claimed_at__isnull=True))
    for reminder in stale.select_related("organisation").order_by("pk"):
        outcome = _recover_reminder(reminder, now)
        if outcome:
            getattr(report, outcome).append(reminder.pk)
    _recover_tasks(now - task_lease, report)
    if enqueue:
        queue_send(sorted(set(report.replanned) | set(report.requeued)))
        report.requeued = sorted(set(report.replanned) | set(report.requeued))
    if report:
        logger.warning("reprise après un arrêt de travailleur : %s", report.as_dict())
    return report


def _recover_reminder(reminder: Reminder, now: datetime) -> str | None:
    claim = Reminder.objects.filter(pk=reminder.pk, status=Reminder.Status.SENDING, attempts=reminder.attempts)
    with transaction.atomic():
        if reminder.handed_over_at is None and claim.filter(handed_over_at__isnull=True).update(
                status=Reminder.Status.PLANNED, next_attempt_at=None, claimed_at=None,
                last_error="envoi interrompu avant la remise au serveur : renvoyée automatiquement"):
            record_many(reminder.organisation, [kinds.reminder_recovered(
                customer_id=reminder.customer_id, reminder_id=reminder.pk, attempt=reminder.attempts,
                claimed_at=reminder.claimed_at)], at=now)
            return "replanned"
        fresh = claim.filter(handed_over_at__isnull=False).first()
        if fresh is not None and claim.filter(handed_over_at__isnull=False).update(
                status=Reminder.Status.UNCERTAIN,
                last_error="envoi interrompu après la remise au serveur : vérifiez s’il est parti"):
            record_many(reminder.organisation, [kinds.reminder_uncertain(
                customer_id=reminder.customer_id, reminder_id=reminder.pk, reason="worker_lost",
                attempt=reminder.attempts, claimed_at=reminder.claimed_at, handed_over_at=fresh.handed_over_at,
                recipient=fresh.recipient, message_id=fresh.message_id)], at=now)
            return "uncertain"
    return None


def _recover_tasks(cutoff: datetime, report: RecoveryReport) -> None:
    from django.utils import timezone
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    stuck = list(DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING, started_at__lt=cutoff))
    for row in stuck:
        done = DBTaskResult.objects.filter(pk=row.pk, status=TaskResultStatus.RUNNING).update(
            status=TaskResultStatus.FAILED, finished_at=timezone.now(), exception_class_path=WORKER_LOST,
            traceback=f"{WORKER_LOST}: travailleur arrêté pendant la tâche (démarrée le {row.started_at})",
            return_value=None)
        if not done:
            continue
        report.tasks_failed.append(str(row.pk))
        if row.task_path != SEND_TASK_PATH:
            continue
        args = (row.args_kwargs or {}).get("args") or []
        if args and Reminder.objects.filter(pk=args[0], status=Reminder.Status.PLANNED).exists():
            report.requeued.append(int(args[0]))
