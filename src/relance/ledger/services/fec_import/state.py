"""The ledger as an import reads it (invoices, the importer's own payments and credit notes, their
allocations), and what one import run carries from step to step (:class:`ImportRun`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Q

from relance.clock import today_for
from relance.core.formats.fec import FecStats, Receivables
from relance.events.services import NewEvent
from relance.ledger.models import Allocation, CreditNote, Invoice, Organisation, Payment

from .identities import CREDIT_NOTE, CREDIT_PREFIX, PARTIAL_PREFIX, PAYMENT, SETTLED_PREFIX, _References, _role
from .report import FecImportReport


@dataclass(slots=True)
class _Inv:
    id: int
    number: str
    customer_id: int
    key: str
    issue_date: date
    due_date: date
    amount: Decimal
    amount_due: Decimal
    status: str
    description: str
    next_action_date: date | None


@dataclass(slots=True)
class _Rec:
    """A payment or a credit note owned by the importer."""

    kind: str
    id: int | None
    ident: str
    customer_id: int
    on: date
    amount: Decimal
    method: str = ""
    number: str = ""  # credit notes
    invoice_id: int | None = None  # P and S: the one invoice it settles


@dataclass
class _Owned:
    """The importer's payments and credit notes, and the allocations on keyed invoices."""

    records: dict[str, _Rec]
    # (kind, record id) -> ident
    ident_of: dict[tuple[str, int], str]
    # allocation id -> (invoice id, kind or "", record id, amount)
    allocations: dict[int, tuple[int, str, int, Decimal]]

    @classmethod
    def load(cls, organisation: Organisation, customer_ids: Iterable[int] | None = None) -> _Owned:
        owned_payment = Q(reference__startswith=CREDIT_PREFIX) | Q(reference__startswith=PARTIAL_PREFIX) | Q(
            reference__startswith=SETTLED_PREFIX)
        owned_note = Q(reason__startswith=CREDIT_PREFIX) | Q(reason__startswith=PARTIAL_PREFIX) | Q(
            reason__startswith=SETTLED_PREFIX)
        payments = Payment.objects.filter(owned_payment, organisation=organisation)
        notes = CreditNote.objects.filter(owned_note, organisation=organisation)
        allocations = Allocation.objects.filter(organisation=organisation).exclude(invoice__source_key="")
        if customer_ids is not None:
            ids = list(customer_ids)
            payments, notes = payments.filter(customer_id__in=ids), notes.filter(customer_id__in=ids)
            allocations = allocations.filter(invoice__customer_id__in=ids)
        records: dict[str, _Rec] = {}
        ident_of: dict[tuple[str, int], str] = {}
        for pk, ident, on, amount, customer_id, method in payments.values_list(
                "id", "reference", "date", "amount", "customer_id", "method"):
            records[ident] = _Rec(PAYMENT, pk, ident, customer_id, on, amount, method)
            ident_of[(PAYMENT, pk)] = ident
        for pk, ident, on, amount, customer_id, note_number in notes.values_list(
                "id", "reason", "issue_date", "amount_incl_tax", "customer_id", "number"):
            records[ident] = _Rec(CREDIT_NOTE, pk, ident, customer_id, on, amount, number=note_number)
            ident_of[(CREDIT_NOTE, pk)] = ident
        rows: dict[int, tuple[int, str, int, Decimal]] = {}
        for pk, invoice_id, payment_id, note_id, amount in allocations.values_list(
                "id", "invoice_id", "payment_id", "credit_note_id", "amount"):
            kind, record_id = (PAYMENT, payment_id) if payment_id else (CREDIT_NOTE, note_id)
            rows[pk] = (invoice_id, kind if (kind, record_id) in ident_of else "", record_id, amount)
            owner = ident_of.get((kind, record_id))
            if owner is not None and _role(owner) != "C":
                records[owner].invoice_id = invoice_id
        return cls(records, ident_of, rows)

    def settled_invoices(self) -> set[int]:
        return {r.invoice_id for r in self.records.values() if r.invoice_id is not None and _role(r.ident) == "S"}

    def paid_outside(self) -> dict[int, Decimal]:
        """Per invoice, what payments and credit notes recorded in relance itself cover."""
        out: dict[int, Decimal] = defaultdict(Decimal)
        for invoice_id, kind, _record_id, amount in self.allocations.values():
            if not kind:
                out[invoice_id] += amount
        return out


class ImportRun:
    """What an import run carries from step to step (the steps are the mixins of ``importer._Importer``)."""

    def __init__(self, organisation: Organisation, filename: str, prefix: str, actor: str, rec: Receivables,
                 stats: FecStats, report: FecImportReport) -> None:
        self.org = organisation
        self.filename = filename
        self.prefix = prefix
        self.actor = actor
        self.rec = rec
        self.stats = stats
        self.report = report
        self.counts = report.counts
        self.events: list[NewEvent] = []
        self.touched: set[int] = set()  # invoices whose amount or allocations changed
        self.today = today_for(organisation)
        self.customer_of: dict[int, int] = {}  # id(CustomerAccount) -> customer id, when it exists
        self.terms: dict[int, int] = {}  # customer id -> its own terms
        self.key_of: dict[int, str] = {}  # invoice id -> source key
        self.closing: list[_Inv] = []  # invoices of earlier imports to settle
        self.absent: list[_Inv] = []
        self.fallback_numbers = 0
        self.new_invoices: dict[int, Invoice] = {}
        self.new_ids: set[int] = set()
        self.created_credits: dict[tuple[str, int], _Rec] = {}
        self.updated_credits: dict[tuple[str, int], tuple[_Rec, _Rec]] = {}
        self.refs: _References
