"""ISO 11649 creditor references (« RF… ») for customers and invoices.

Every invoice gets a reference the customer can quote on a transfer; a bank line
carrying it is matched exactly. An invoice that arrived with its own reference
(e-invoice BT-83) keeps it. Ours is derived from the invoice number
(``FA-2026/0012`` → ``RF..FA20260012``); when that is impossible (more than 21
letters and digits) or already used by another invoice or customer of the
organisation, from its database id (``RF..F12345``). Customer references are
``C`` + the customer code, with the same fallback (``RF..K<id>``).

References are assigned when invoices and customers are created — the imports (CSV/XLSX, FEC,
e-invoices), the admin — and migration ``ledger 0010`` gave one to those created before; composing
a message only reads them (``dunning.services.payment_details``).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q

from relance.core.references import PaymentReferenceError, make_rf, make_rf_lenient
from relance.ledger.models import Customer, Invoice, Organisation


def _used(organisation: Organisation) -> set[str]:
    used = set(Invoice.objects.filter(organisation=organisation).exclude(payment_reference="")
               .values_list("payment_reference", flat=True))
    used |= set(Customer.objects.filter(organisation=organisation).exclude(payment_reference="")
                .values_list("payment_reference", flat=True))
    return used


def _pick(preferred: str, fallback: str, used: set[str]) -> str:
    try:
        rf = make_rf_lenient(preferred)
    except PaymentReferenceError:
        rf = ""
    if not rf or rf in used:
        rf = make_rf(fallback)
    used.add(rf)
    return rf


def assign_references(organisation: Organisation, invoice_ids: Iterable[int] | None = None, *,
                      customer_ids: Iterable[int] | None = None) -> int:
    """Give a reference to the organisation's invoices and customers that have none (or only to
    ``invoice_ids`` and their customers, and to ``customer_ids``). Returns how many were set."""
    invoices = Invoice.objects.filter(organisation=organisation, payment_reference="")
    customers = Customer.objects.filter(organisation=organisation, payment_reference="")
    if invoice_ids is not None or customer_ids is not None:
        ids = list(invoice_ids or ())
        invoices = invoices.filter(pk__in=ids)
        customers = customers.filter(Q(invoices__pk__in=ids) | Q(pk__in=list(customer_ids or ()))).distinct()
    todo_invoices = list(invoices.only("id", "number"))
    todo_customers = list(customers.only("id", "code"))
    if not todo_invoices and not todo_customers:
        return 0
    used = _used(organisation)
    for invoice in todo_invoices:
        invoice.payment_reference = _pick(invoice.number, f"F{invoice.id}", used)
    for customer in todo_customers:
        customer.payment_reference = _pick(f"C{customer.code}", f"K{customer.id}", used)
    Invoice.objects.bulk_update(todo_invoices, ["payment_reference"], batch_size=1000)
    Customer.objects.bulk_update(todo_customers, ["payment_reference"], batch_size=1000)
    return len(todo_invoices) + len(todo_customers)
