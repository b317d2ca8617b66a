"""The one way a send is deferred (``dunning/services/queue.py``): in the transaction when the
queue is the database backend of the same database, after the commit otherwise."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import transaction
from django_tasks import task_backends
from django_tasks_db.models import DBTaskResult

from relance.dunning.services.queue import queue_in_transaction, queue_send
from relance.dunning.tasks import send_reminder_task

pytestmark = pytest.mark.django_db(transaction=True)

LATER = datetime(2026, 11, 23, 11, 5, tzinfo=UTC)
DUMMY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend", "QUEUES": ["default"]}}
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default"]}}


class Boom(Exception):
    pass


def test_the_database_queue_writes_its_row_in_the_transaction_and_a_rollback_drops_it() -> None:
    assert queue_in_transaction(send_reminder_task)
    with pytest.raises(Boom), transaction.atomic():
        queue_send(41)
        assert DBTaskResult.objects.count() == 1  # already written, inside the transaction
        raise Boom
    assert not DBTaskResult.objects.exists()


def test_a_commit_keeps_every_task_with_its_run_after_and_business_moment() -> None:
    with transaction.atomic():
        queue_send([41, 42], run_after=LATER, at=LATER)
    rows = list(DBTaskResult.objects.order_by("args_kwargs"))
    assert [r.args_kwargs["args"] for r in rows] == [[41, LATER.isoformat()], [42, LATER.isoformat()]]
    assert {r.run_after for r in rows} == {LATER} and {r.task_path for r in rows} == {send_reminder_task.module_path}


def test_another_backend_is_called_only_once_the_commit_is_done(settings) -> None:
    settings.TASKS = DUMMY
    backend = task_backends["default"]
    assert not queue_in_transaction(send_reminder_task)
    with pytest.raises(Boom), transaction.atomic():
        queue_send(41)
        raise Boom
    assert backend.results == []  # rolled back: never handed to the backend
    with transaction.atomic():
        queue_send(42)
        assert backend.results == []  # not before the commit
    assert [r.args for r in backend.results] == [[42]]


def test_a_backend_that_cannot_wait_gets_no_deferred_task(settings, monkeypatch) -> None:
    settings.TASKS = IMMEDIATE  # the demo's: it runs the send at once, after the commit
    sent: list[int] = []
    monkeypatch.setattr("relance.dunning.services.dispatcher.send_reminder", lambda rid, now: sent.append(rid) or "sent")
    with transaction.atomic():
        queue_send(41, run_after=LATER)  # not before its back-off: left to the next run, which sends it when due
        queue_send(42)
        assert sent == []
    assert sent == [42]
