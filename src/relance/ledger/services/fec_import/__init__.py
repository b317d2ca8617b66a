"""Import the open customer items of a FEC into the ledger (issue #4).

The parser (``core.formats.fec``) gives, for every customer account of the prefix
(``411`` by default), its open items — unlettered lines and the residuals of partial
letterings, see the notes there — and how the lines of the invoices imported earlier
are lettered in this file. The import turns them into the ledger, all-or-nothing (one
transaction; any anomaly of the file, such as an entry that does not balance, rejects it
whole) and idempotent (a file already imported, recognised by its SHA-256, changes
nothing):

* **Customers.** The sub-ledger account (CompAuxNum), failing that the individual 411
  account, is the customer code; a customer of that code already in the ledger (CSV
  import) is the same customer and keeps its name. Customers guessed from entry labels
  (collective account only) get a code « FEC-<NOM> » and an alias (``CustomerAlias``
  FEC_LABEL) that :func:`map_fec_label` points to the right customer.
* **Invoices** are the open debit lines, identified by their key (``source_key``).
  Number: PieceRef; journal-EcritureNum when PieceRef is empty, a placeholder (« x »,
  « - »), shared by several open lines or already another invoice's number. Issue date:
  PieceDate, else EcritureDate. A FEC has no due date (one warning): issue date + the
  customer's terms, else the organisation's.
* **Credits.** An open credit line is an unapplied credit note when it is booked in a
  sales journal (one with lines on 70… accounts) other than the opening entries, else an
  unapplied payment (bank, cash, OD, à-nouveaux). Credits are applied to the customer's
  open FEC invoices, oldest credit first, in the order of C. civ. 1342-10 (a credit whose
  PieceRef is the number of one of those invoices designates it, as in the Quadra
  exports), so that the amounts due of a customer's FEC invoices add up to its open
  balance. What is left stays on the account: a customer in credit is a warning.
* **Partial lettering**: the lettered part of an invoice left partly open is one payment
  (or credit note) « Lettrage partiel FEC <n°> ».
* **Re-import** of a newer FEC of the same company: invoices matched on their key are
  updated (amount, date); an invoice imported earlier that is lettered now — or absent
  from the file and not carried forward in its à-nouveaux — is settled by a payment (or a
  credit note, when lettered against sales-journal credits only) « Lettrage FEC <n°> » of
  what it still owed: ``refresh_balances`` then sends ``invoices_settled``, and dunning
  cancels its pending reminders and plans the thank-you. An open invoice of the previous
  year reappears in the next year's FEC as an à-nouveau line (another key): it is
  recognised by customer and amount, and keeps its number and its dunning history.

The payments and credit notes the importer creates are its own (payment reference,
credit note reason starting with « FEC » or « Lettrage … FEC ») and are brought to what
the latest file says at each import. Payments and credit notes recorded in relance
itself are never touched: they count as already paid.

The package, in the order of an import: ``importer`` (:func:`import_fec`, the transaction and the
steps), ``customers``, ``invoices``, ``records``, ``credits`` (the steps, each reconciling the file with the
ledger then writing what differs), ``warnings`` and ``report`` (what the import says); ``state`` (the ledger
as read, and what a run carries), ``identities`` (how the importer names what it owns), ``corrections``
(:func:`map_fec_label`) and ``collective`` (the unattributed credits of collective accounts and their holds).
"""

from __future__ import annotations

from .collective import (
    NO_LABEL_CODE,
    NOT_A_CUSTOMER_REASON,
    UNATTRIBUTED_REASON,
    CollectiveHold,
    collective_hold_plan,
    sync_collective_holds,
    unattributed_credits,
)
from .corrections import map_fec_label
from .identities import credit_ident
from .importer import import_fec
from .report import FecImportReport, Unattributed

__all__ = [
    "NOT_A_CUSTOMER_REASON",
    "NO_LABEL_CODE",
    "UNATTRIBUTED_REASON",
    "CollectiveHold",
    "FecImportReport",
    "Unattributed",
    "collective_hold_plan",
    "credit_ident",
    "import_fec",
    "map_fec_label",
    "sync_collective_holds",
    "unattributed_credits",
]
