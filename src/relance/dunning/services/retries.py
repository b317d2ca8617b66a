"""Retrying a failed reminder (« Renvoyer »), decided by a person.

A reminder the dispatcher marked ``FAILED`` (SMTP 5xx, no address, a formal notice without
its rate, an error before the hand-over) is never retried by itself. :func:`retry` puts it
back to ``PLANNED``, due now, and on the task queue; the dispatcher then claims it as any
other reminder, so the invariants hold unchanged:

* sent at most once: only a ``FAILED`` reminder can be retried (a ``SENT``, ``SENDING`` or
  ``UNCERTAIN`` one never — the last one may have left: it is resolved by a person with
  ``dunning.services.uncertain``, and the refusal says how), and the claim takes it once;
* never about a paid, disputed or held invoice: the dispatcher re-checks the invoices when it
  sends, and cancels the reminder when nothing is left to chase;
* never behind the sequence: a reminder is not retried once a later reminder on one of its
  invoices has been planned or sent (the later one says more, and says it better).

The retry is one more attempt (``attempts`` keeps counting) and leaves a ``reminder.retried``
event with the actor.
"""

from __future__ import annotations

from datetime import date

from django.db import transaction

from relance.clock import today_for
from relance.errors import Conflict, NotFound
from relance.events import kinds
from relance.events.services import record_many
from relance.ledger.models import Organisation
from relance.ledger.queries import visible
from relance.locks import lock_organisation

from ..models import Reminder, ReminderLine
from .queue import queue_send

#: a later reminder in one of these states makes an old failure pointless to retry
LATER_STATES = (Reminder.Status.PLANNED, Reminder.Status.SENDING, Reminder.Status.SENT, Reminder.Status.UNCERTAIN,
                Reminder.Status.AWAITING_APPROVAL)


class NotRetryable(Conflict):
    """Only a failed reminder can be sent again (``Conflict``: exit code 6, HTTP 409)."""


def retry(organisation: Organisation, reminder_id: int, *, actor: str, collector_id: int | None = None,
          today: date | None = None, enqueue: bool = True) -> Reminder:
    """Put a failed reminder back on the queue, due now. ``enqueue=False`` leaves the sending to
    the caller (``relance retry --now``, which sends it in the same process)."""
    today = today or today_for(organisation)
    with transaction.atomic():
        lock_organisation(organisation)
        wanted = visible(Reminder.objects.filter(organisation=organisation, pk=reminder_id), collector_id, "customer__")
        reminder = Reminder.objects.select_for_update().filter(pk__in=wanted.values("pk")).first()
        if reminder is None:
            raise NotFound(f"relance n° {reminder_id} introuvable")
        if reminder.status == Reminder.Status.UNCERTAIN:
            where = f" (Message-ID {reminder.message_id})" if reminder.message_id else ""
            raise NotRetryable(f"seule une relance en échec peut être renvoyée ainsi ; la relance n° {reminder.pk} est "
                               f"« à vérifier » : elle est peut-être partie (connexion coupée ou sans réponse après "
                               f"la transmission du message). Vérifiez auprès du client ou dans la boîte d’envoi"
                               f"{where}, puis « relance uncertain sent {reminder.pk} » si elle est partie, ou "
                               f"« relance uncertain resend {reminder.pk} » pour la renvoyer")
        if reminder.status != Reminder.Status.FAILED:
            raise NotRetryable(f"seule une relance en échec peut être renvoyée ; la relance n° {reminder.pk} est "
                               f"« {reminder.get_status_display().lower()} »")
        later = _later_reminder(reminder)
        if later is not None:
            raise NotRetryable(f"une relance plus récente sur les mêmes factures a déjà été planifiée ou envoyée "
                               f"(n° {later.pk}, {later.get_status_display().lower()}) : celle-ci n’est pas renvoyée")
        error = reminder.last_error
        reminder.status = Reminder.Status.PLANNED
        reminder.next_attempt_at, reminder.claimed_at, reminder.last_error = None, None, ""
        reminder.save(update_fields=["status", "next_attempt_at", "claimed_at", "last_error"])
        record_many(organisation, [kinds.reminder_retried(customer_id=reminder.customer_id, reminder_id=reminder.pk,
                                                          previous_error=error, attempts=reminder.attempts,
                                                          planned_for=reminder.planned_for, actor=actor)])
        if enqueue and reminder.planned_for <= today:
            queue_send(reminder.pk)  # part of this transaction (services/queue.py)
    return reminder


def _later_reminder(reminder: Reminder) -> Reminder | None:
    invoices = ReminderLine.objects.filter(reminder=reminder).values("invoice_id")
    return (Reminder.objects.filter(customer_id=reminder.customer_id, pk__gt=reminder.pk, status__in=LATER_STATES,
                                    kind=reminder.kind, lines__invoice_id__in=invoices)
            .order_by("pk").first())
