"""Invoices settled (``ledger.signals.invoices_settled``): the promises they fulfil are kept, the
plans over them brought up to date (completed when all their invoices are settled). Dunning's own
receiver, connected after this one (``holds`` comes before ``dunning`` in INSTALLED_APPS), then
cancels the messages about nothing left to pay and thanks the customer."""

from __future__ import annotations

from datetime import date
from typing import Any

from relance.clock import today_for
from relance.ledger.models import Organisation

from .holds import review_promises
from .plans import refresh_plans_for


def keep_promises_and_refresh_plans(sender: Any, organisation: Organisation, invoice_ids: list[int], on: date | None,
                                    **kwargs: Any) -> None:
    """Receiver of ``ledger.signals.invoices_settled`` (connected in ``holds.apps``); the payment
    holds the invoices and the organisation row already."""
    today = on or today_for(organisation)
    review_promises(organisation, today, invoice_ids=invoice_ids, only_kept=True)
    refresh_plans_for(organisation, invoice_ids, today)
