"""Durable tasks (django-tasks, database backend): workers on any number of machines
share the sending through PostgreSQL."""

from __future__ import annotations

from django_tasks import task

from relance.dunning.services.dispatcher import send_reminder


@task()
def send_reminder_task(reminder_id: int) -> str:
    return send_reminder(reminder_id)
