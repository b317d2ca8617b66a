"""The pauses of the customers of collective FEC accounts (see the notes on unattributed credits
in ``ledger.services.fec_import``): the ledger says which pauses must be active now
(``ledger.signals.collective_holds``, heard by :func:`pause_collective_accounts`), this module
makes it so.

* a pause wanted and missing is created — a :class:`Hold` of kind pause on the whole customer,
  without end date (``until`` empty: it lasts until lifted), with its ``pause.started`` event —
  and announced (``holds.signals.hold_started``: dunning takes the customer's reminders awaiting
  approval whose invoices are all held out of the queue);
* an active pause of this family no longer wanted (the credits were assigned, or a corrected FEC
  was imported) is lifted (``pause.lifted``, ``ended_by`` :data:`AUTO_ENDED_BY`);
* a pause a person lifted by hand is not created again for the same state (same customer, same
  reason — the reason names the account and the amount left to assign): the person has looked at
  it. A new amount is a new state, and pauses again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Q

from relance.clock import today_for
from relance.events import kinds
from relance.events.services import NewEvent, record_many
from relance.ledger.models import Organisation
from relance.ledger.services.fec_import import NOT_A_CUSTOMER_REASON, UNATTRIBUTED_REASON, CollectiveHold
from relance.locks import lock_organisation

from ..models import Hold
from .holds import held_from_now, move

#: who ended a pause that the ledger's state no longer needs
AUTO_ENDED_BY = "relance (paiements affectés)"


def _family(organisation: Organisation) -> Any:
    return Hold.objects.filter(organisation=organisation, kind=Hold.Kind.PAUSE, invoice__isnull=True,
                               until__isnull=True).filter(
        Q(reason__startswith=UNATTRIBUTED_REASON) | Q(reason__startswith=NOT_A_CUSTOMER_REASON))


def pause_collective_accounts(sender: Any, organisation: Organisation, holds: Sequence[CollectiveHold],
                              actor: str = "system", **kwargs: Any) -> None:
    """Receiver of ``ledger.signals.collective_holds`` (connected in ``holds.apps``)."""
    today = today_for(organisation)
    lock_organisation(organisation)  # then the holds (relance.locks: the project's lock order)
    wanted = {(h.customer_id, h.reason[:300]): h for h in holds}
    active = list(_family(organisation).select_for_update().filter(state=Hold.State.ACTIVE).order_by("pk"))
    events: list[NewEvent] = []
    kept: set[tuple[int, str]] = set()
    for hold in active:
        key = (hold.customer_id, hold.reason)
        if key in wanted and key not in kept:
            kept.add(key)
            continue
        kind = move(hold.machine, hold.state, Hold.State.LIFTED)
        hold.state, hold.ended_on, hold.ended_by = Hold.State.LIFTED, today, AUTO_ENDED_BY
        hold.save(update_fields=["state", "ended_on", "ended_by"])
        events.append(kinds.hold_moved(kind, customer_id=hold.customer_id, actor=actor, hold=hold.pk,
                                       reason=hold.reason, source="fec",
                                       note="plus de paiements non attribués sur ce compte collectif"))
    lifted_by_hand = set(_family(organisation).filter(state=Hold.State.LIFTED).exclude(ended_by=AUTO_ENDED_BY)
                         .values_list("customer_id", "reason"))
    new = [h for key, h in wanted.items() if key not in kept and key not in lifted_by_hand]
    created = Hold.objects.bulk_create([
        Hold(organisation=organisation, customer_id=h.customer_id, kind=Hold.Kind.PAUSE, until=None,
             reason=h.reason[:300], note=h.note, created_by=actor[:150]) for h in new])
    for hold, wish in zip(created, new, strict=True):
        events.append(kinds.pause_started(customer_id=hold.customer_id, hold=hold.pk, until=None, reason=hold.reason,
                                          number="", actor=actor, **wish.data))
    record_many(organisation, events)
    for customer_id in sorted({h.customer_id for h in new}):
        held_from_now(organisation, customer_id, today, actor)
