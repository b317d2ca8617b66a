"""Durable tasks (django-tasks, database backend): workers on any number of machines
share the sending through PostgreSQL. Queued only through ``dunning/services/queue.py``."""

from __future__ import annotations

from datetime import datetime

from django_tasks import task


@task()
def send_reminder_task(reminder_id: int, at: str | None = None) -> str:
    """``at`` (ISO timestamp) fixes the business moment of a simulated day; None is now."""
    # imported here: the queue (services/queue.py) imports this module, and the dispatcher the queue
    from relance.dunning.services.dispatcher import send_reminder

    return send_reminder(reminder_id, datetime.fromisoformat(at) if at else None)
