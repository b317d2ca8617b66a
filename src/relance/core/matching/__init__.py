"""Matching bank receipts (credit lines of a statement) to open invoices — pure Python.

The caller loads, in bulk, the organisation's open invoices (:class:`OpenItem`) and its
customers with what identifies them on a transfer (:class:`Payer`: payment reference, payer
IBANs and names seen before); :class:`Matcher` indexes them once (by RF reference, by invoice
number, by amount, by IBAN, by name) and then decides each receipt with dictionary look-ups
only, so that 100 000 lines cost no more than 100 000 look-ups.

Order of the rules (issue #4):

1. an ISO 11649 creditor reference (« RF… », the structured field or found in the text)
   equal to an invoice's or a customer's payment reference: exact;
2. invoice numbers found in the remittance text, tolerant to spaces and punctuation
   (``F 2025/0042`` finds ``F-2025-0042``), longest match first so that a number that is the
   prefix of another (``F-12`` / ``F-123``) is never taken for it;
3. the amount with the customer: the customer is recognised by the payer's IBAN or a payer
   name already seen (learnt aliases), then one open invoice of exactly that amount, or a set
   of open invoices summing exactly to it; otherwise the payment is imputed by C. civ. 1342-10
   (debts due first, oldest first).

A decision is ``matched`` (confident: applied at once), ``review`` (candidates for a person:
several candidates, an over-payment, a partial payment of an unidentified customer, a
customer known only by a similar name) or ``unmatched`` (nothing found). Amounts are
Decimal; allocations never exceed the receipt nor an invoice's amount due, and
``sum(allocations) + unallocated == amount`` always holds.

With ``consume=True`` (an import), what a matched receipt pays is deducted from the invoices
before the next receipt is decided, so two transfers of the same amount never settle the
same invoice twice.

The package, in the order of a decision: ``text`` (words and keys), ``model`` (what is read and
decided), ``index`` (built once), ``finding`` (what a receipt points at), ``candidates`` (the
customer's open invoices and the readings proposed), ``matcher`` (the rules), ``allocation``
(C. civ. 1342-10 imputation and the exact-subset search).
"""

from __future__ import annotations

from .allocation import SUBSET_BUDGET, allocate, exact_subsets
from .candidates import SUBSET_MAX_ITEMS
from .finding import COMMON_TOKEN, MAX_CANDIDATES, NAME_THRESHOLD, RF_MAX, lookup_keys
from .index import Indexes, PayerIndex
from .matcher import AMOUNT_ONLY_MAX, Matcher
from .model import ZERO, Candidate, Decision, OpenItem, Outcome, Part, Payer, Receipt
from .text import compact, fold, name_key, name_similarity, name_tokens, tokens

__all__ = [
    "AMOUNT_ONLY_MAX", "COMMON_TOKEN", "MAX_CANDIDATES", "NAME_THRESHOLD", "RF_MAX", "SUBSET_BUDGET", "SUBSET_MAX_ITEMS",
    "ZERO", "Candidate", "Decision", "Indexes", "Matcher", "OpenItem", "Outcome", "Part", "Payer", "PayerIndex",
    "Receipt", "allocate", "compact", "exact_subsets", "fold", "lookup_keys", "name_key", "name_similarity",
    "name_tokens", "tokens",
]
