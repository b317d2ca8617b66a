"""Signals of the ledger, so that the apps above it (holds, dunning, profiles) react without the ledger
importing them."""

from django.dispatch import Signal

#: sent with ``organisation`` and ``actor`` inside the transaction that created it: dunning installs
#: the default scenario, profiles the default payer profiles
organisation_created = Signal()

#: sent with ``organisation``, ``invoice_ids`` (newly settled) and ``on`` (date)
invoices_settled = Signal()

#: sent with ``organisation``, ``invoice_ids`` and ``from_customer_id`` when invoices are
#: moved to another customer (a FEC label mapped to the right customer)
invoices_moved = Signal()

#: sent with ``organisation``, ``holds`` (the ``fec_import.CollectiveHold`` pauses that must be active
#: now on the customers of collective FEC accounts, see ``fec_import.sync_collective_holds``) and
#: ``actor``: holds creates the missing pauses and lifts the others (``holds.services.collective``)
collective_holds = Signal()
