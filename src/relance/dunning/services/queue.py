"""Putting a reminder on the task queue: the one way the project defers a send.

The rule: **a send task is queued as part of the transaction that made the reminder due.**

* The queue is the database backend (``django_tasks_db``) and its table lives in the database of
  that transaction (the default): the task row is written inside the transaction. A rollback
  drops it with the reminder's change; a commit cannot lose it (no window between the commit and
  the enqueue where a crash forgets it), and no worker sees it before the reminder is ``PLANNED``.
* Any other backend (the immediate backend of ``relance run --no-queue`` setups, a broker, or the
  database queue routed to another database): the task is handed over once the commit is done
  (``transaction.on_commit``), never before — an immediate backend would run it on a reminder
  not yet committed, a broker would lose nothing but could run it too early.

Outside a transaction (autocommit) both cases queue at once.

It lives in ``dunning`` and not in a project-wide module because the send task is the only work
the project defers, and it names it (``relance.dunning.tasks.send_reminder_task``); the generic
half, :func:`defer`, takes any django-tasks task and would move as it is if a second one came.
Callers never import ``tasks`` nor call ``enqueue`` themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import DEFAULT_DB_ALIAS, router, transaction
from django_tasks.base import Task

from relance.dunning.tasks import send_reminder_task


def queue_in_transaction(task: Task[Any, Any], using: str = DEFAULT_DB_ALIAS) -> bool:
    """True when ``task``'s backend writes its rows in the database ``using`` (so a row written
    now belongs to the current transaction there)."""
    from django_tasks_db import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    return isinstance(task.get_backend(), DatabaseBackend) and router.db_for_write(DBTaskResult) == using


def defer(task: Task[Any, Any], *args: Any, run_after: datetime | None = None,
          using: str = DEFAULT_DB_ALIAS) -> None:
    """Queue ``task(*args)`` as part of the current transaction of ``using`` (see the module's
    rule); ``run_after``: not before that instant (a retry's back-off). A backend that cannot
    wait (the demo's immediate one) is not given it: the reminder stays ``PLANNED`` with its
    ``next_attempt_at``, and the next run sends it (``dispatcher.due_reminders``)."""
    if run_after is not None:
        if not task.get_backend().supports_defer:
            return
        task = task.using(run_after=run_after)
    if queue_in_transaction(task, using):
        task.enqueue(*args)
    else:
        transaction.on_commit(lambda: task.enqueue(*args), using=using, robust=True)


def queue_send(reminder_ids: int | Iterable[int], *, run_after: datetime | None = None,
               at: datetime | None = None) -> None:
    """Queue the send of one reminder or several, made due by the current transaction.
    ``at``: the business moment of a simulated day the send is to use (``send_reminder``'s ``now``);
    None, the moment the worker runs it."""
    ids = [reminder_ids] if isinstance(reminder_ids, int) else list(reminder_ids)
    extra = (at.isoformat(),) if at is not None else ()
    for rid in ids:
        defer(send_reminder_task, rid, *extra, run_after=run_after)
