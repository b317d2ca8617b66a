"""Durable tasks (django-tasks, database backend): workers on any number of machines
share the sending through PostgreSQL."""

from __future__ import annotations

from datetime import datetime

from django_tasks import task

from relance.dunning.services.dispatcher import send_reminder


@task()
def send_reminder_task(reminder_id: int, at: str | None = None) -> str:
    """``at`` (ISO timestamp) fixes the business moment of a simulated day; None is now."""
    return send_reminder(reminder_id, datetime.fromisoformat(at) if at else None)
