"""Signals of the holds, so that dunning plans or cancels its messages without holds importing it.

Each is sent inside the transaction of the service that moved the hold, after the service has
recorded its own events, with the locks it holds (invoices, then the organisation row): the
receivers write below them (reminders), in the project's lock order (``relance.locks``). The
receivers are connected once, in ``dunning.apps.DunningConfig.ready`` (``dunning/handlers.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.dispatch import Signal

#: a hold has just started on ``customer_id`` (a promise's or a plan's cover, a dispute, a pause, a
#: stop), sent with ``organisation``, ``customer_id``, ``today`` and ``actor``: the customer's
#: messages awaiting approval whose invoices are now all held or settled leave the queue
hold_started = Signal()

#: a payment plan has ended (``state``: completed, broken or cancelled), sent with ``organisation``,
#: ``plan`` and ``state``: its messages not yet sent (instalment reminders, agreement) are cancelled
plan_ended = Signal()

#: a promise was found broken, sent with ``organisation``, ``promise`` and ``today``: the receiver
#: plans the « promesse non tenue » message about the promise's invoices that may be chased again
#: and returns it (``None`` when there is nothing to chase or it was planned already)
promise_broken = Signal()

#: an instalment of an active plan needs a message, sent with ``organisation``, ``instalment``,
#: ``invoices`` (the plan's open invoices), ``today`` and ``message``: ``"reminder"`` (J−3),
#: ``"notice"`` (J+3, unpaid) or ``"notice_again"`` (the previous notice was cancelled before
#: leaving). The receiver plans it and returns it (``None`` when it was planned already)
instalment_due = Signal()

#: a question, not an announcement: what became of an instalment's last J+3 notice, sent with
#: ``organisation`` and ``instalment``; the receiver answers a :class:`Notice` (``None`` when no notice
#: was planned). The notice is dunning's message and its fate is written in many places there (sent,
#: cancelled at send time, failed, confirmed sent after a doubt…): holds asks it at the daily review
#: instead of keeping a copy on the instalment, so it never reads dunning's rows nor their values
instalment_notice = Signal()


@dataclass(frozen=True)
class Notice:
    """An instalment's last J+3 notice as dunning answers it (:data:`instalment_notice`)."""

    #: the notice (a dunning ``Reminder``), named in the events about it
    reminder_id: int
    #: when it left, if it did (sent); ``None`` while planned, awaiting, failed, uncertain or cancelled
    sent_at: datetime | None
    #: cancelled before leaving (a stop or a pause of the whole customer came first): never sent
    cancelled: bool


def answers(signal: Signal, sender: type[Any], **kwargs: Any) -> list[Any]:
    """Send ``signal``; the non-empty answers of its receivers (the messages they planned)."""
    return [answer for _receiver, answer in signal.send(sender=sender, **kwargs) if answer is not None]
