"""A payment matched after the hand-over still closes the invoices (through the ledger) and, once
nothing of a live case is owed any more, the case itself: receiver of
``ledger.signals.invoices_settled``, in the ledger's transaction. The case closes « payé » on the
day the last invoice was settled (not before the case's latest step: a payment dated earlier than
the opening is recorded on the day of the step), with ``automatic`` in its event. A hand-over email
still waiting is then cancelled by the dispatcher's send-time re-check (nothing left open)."""

from __future__ import annotations

from datetime import date
from typing import Any

from relance.clock import today_for
from relance.core import litigation as machine
from relance.ledger.models import Invoice, Organisation

from ..models import CaseInvoice, LitigationCase
from .cases import close_locked, latest_step_on, lock_case


def on_invoices_settled(sender: Any, organisation: Organisation, invoice_ids: list[int], on: date | None = None,
                        **kwargs: Any) -> list[LitigationCase]:
    """Close the live cases whose every invoice is now settled; returns them."""
    if not invoice_ids:
        return []
    case_ids = sorted(set(CaseInvoice.objects.filter(invoice_id__in=list(invoice_ids),
                                                     case__state__in=machine.LIVE_STATES)
                          .values_list("case_id", flat=True)))
    closed = []
    for pk in case_ids:
        if Invoice.objects.filter(litigation_lines__case_id=pk, status=Invoice.Status.OPEN).exists():
            continue
        # the ledger holds the invoices and the organisation already (its lock order): only the case
        case = lock_case(organisation, pk, with_invoices=False)
        if case.state not in machine.LIVE_STATES:
            continue
        today = today_for(organisation)
        day = min(max(on or today, case.opened_on, latest_step_on(case) or case.opened_on), today)
        kind = machine.transition(case.state, machine.State.CLOSED)
        close_locked(organisation, case, kind, machine.Outcome.PAID, day, "system",
                     "Clôturé automatiquement : toutes les factures du dossier sont réglées.", automatic=True)
        closed.append(case)
    return closed
