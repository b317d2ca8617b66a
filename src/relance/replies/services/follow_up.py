"""The daily check of « déjà payé » replies: the pause waiting for the bank statement has ended
and no payment was matched — the sequence has resumed by itself; a person is asked to obtain
the proof of payment (a task, once per reply)."""

from __future__ import annotations

from datetime import date

from django.db import transaction

from relance.core import formatting as fmt
from relance.dunning.models import CallTask
from relance.dunning.services.calls import open_task
from relance.events import kinds
from relance.events.services import record_many
from relance.holds.models import Hold
from relance.ledger.models import Invoice, Organisation
from relance.locks import lock_customer_invoices, lock_organisation, lock_row

from ..models import Reply


def follow_paid_claims(organisation: Organisation, today: date) -> list[int]:
    """Open a task for each applied « déjà payé » reply whose pause is over while the customer
    still has open invoices; the ids of the replies followed up. Each reply is looked at once its
    pause is over (``effect["followed_up"]``), task or not: the list checked each day stays the
    replies still waiting."""
    done: list[int] = []
    candidates = list(Reply.objects.filter(organisation=organisation, kind=Reply.Kind.REPLY,
                                           state=Reply.State.APPLIED, category="deja_paye", customer__isnull=False)
                      .exclude(effect__has_key="followed_up").order_by("pk"))
    holds = Hold.objects.in_bulk([h for r in candidates for h in (r.effect or {}).get("holds", [])])
    for reply in candidates:
        mine = [holds[h] for h in (reply.effect or {}).get("holds", []) if h in holds]
        if any(h.state == Hold.State.ACTIVE and (h.until is None or h.until >= today) for h in mine):
            continue  # still waiting for the bank statement
        waited = max((h.until for h in mine if h.until), default=today)
        assert reply.customer_id is not None
        with transaction.atomic():
            lock_customer_invoices(organisation, [reply.customer_id])
            lock_organisation(organisation)
            fresh = lock_row(Reply, organisation, reply.pk)
            if fresh is None or "followed_up" in (fresh.effect or {}):
                continue
            fresh.effect = {**(fresh.effect or {}), "followed_up": today.isoformat()}
            still_open = Invoice.objects.filter(organisation=organisation, customer_id=reply.customer_id,
                                                status=Invoice.Status.OPEN).exists()
            if still_open:
                assert fresh.customer is not None
                task = open_task(organisation, fresh.customer, purpose=CallTask.Purpose.CALL, due_on=today,
                                 note=f"Le client a écrit le {fmt.long_date(fresh.received_on)} avoir payé ; aucun "
                                      f"paiement rapproché au {fmt.long_date(waited)} : demandez la preuve du "
                                      "virement.")
                fresh.follow_up_task = task
                record_many(organisation, [kinds.reply_payment_not_seen(reply=fresh.pk, customer_id=fresh.customer.pk,
                                                                        task=task.pk, waited_until=waited)])
                done.append(fresh.pk)
            fresh.save(update_fields=["effect", "follow_up_task"])
    return done
