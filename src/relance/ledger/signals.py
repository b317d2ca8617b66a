"""Signals of the ledger, so that dunning can react without the ledger importing it."""

from django.dispatch import Signal

#: sent with ``organisation``, ``invoice_ids`` (newly settled) and ``on`` (date)
invoices_settled = Signal()
