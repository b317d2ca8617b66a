"""Signals of dunning, so that the apps above it (litigation) act without dunning importing them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from django.dispatch import Signal

from relance.holds.signals import answers
from relance.ledger.models import Organisation

#: sent with ``organisation``, ``today``, ``handovers`` (customer id -> invoice ids whose scenario
#: reached the hand-over step) and ``step_label``, inside the planner's or the dispatcher's
#: transaction. The litigation app opens the cases and returns them (one per customer and day).
handover_due = Signal()


def hand_over(organisation: Organisation, today: date, handovers: Mapping[int, Sequence[int]],
              step_label: str = "") -> list[Any]:
    """Send ``handover_due`` and return the cases the receiver opened. A hand-over that nobody
    hears would leave the invoices nowhere: that is a configuration error, raised at once."""
    if not handover_due.has_listeners():
        raise RuntimeError("aucun récepteur pour handover_due : l’application relance.litigation est-elle installée ?")
    return [case for opened in answers(handover_due, Organisation, organisation=organisation, today=today,
                                       handovers=handovers, step_label=step_label) for case in opened]
