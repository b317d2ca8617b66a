"""Step 4: the unapplied credits applied to the customer's FEC invoices still open, oldest credit first,
each in the order of C. civ. 1342-10, and their events."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, cast

from relance.bulk import chunks, insert_objects, instance
from relance.core.formats.fec import key_part
from relance.core.law import Debt, allocation_order
from relance.core.money import ZERO
from relance.events import kinds
from relance.events.services import NewEvent
from relance.ledger.models import Allocation, Invoice, Organisation

from .identities import _ROLES, CREDIT_NOTE, PAYMENT, _designated_piece, _role
from .state import _Owned, _Rec


def _record_event(record: _Rec, verb: str, actor: str, old: _Rec | None = None,
                  allocations: Sequence[tuple[int | str, Decimal]] = ()) -> NewEvent:
    more: dict[str, Any] = {"date": record.on, "allocations": [{"invoice": i, "amount": a} for i, a in allocations]}
    if record.kind == CREDIT_NOTE:
        more["number"] = record.number
    if old is not None:
        more["previous"] = {"amount": old.amount, "date": old.on, "customer_id": old.customer_id}
    return kinds.accounting_entry(kinds.ACCOUNTING_ENTRIES[(record.kind, verb)], customer_id=record.customer_id,
                                  reference=record.ident, amount=record.amount, source="fec",
                                  role=_ROLES[_role(record.ident)], actor=actor, **more)


@dataclass
class _Applied:
    touched: set[int]  # invoices whose allocations changed
    amount: Decimal = ZERO  # applied in all
    credits: int = 0  # credits applied, at least in part
    records: list[_Rec] = field(default_factory=list)  # the unapplied credits considered
    allocations: dict[tuple[str, int], list[tuple[str, Decimal]]] = field(default_factory=dict)  # by credit
    changed: set[tuple[str, int]] = field(default_factory=set)  # credits whose allocations changed


def _reallocate(organisation: Organisation, customer_ids: set[int]) -> _Applied:
    """Apply the unapplied FEC credits of these customers to their FEC invoices still open
    in the accounts (not settled by a « Lettrage FEC »), oldest credit first, each in the
    order of C. civ. 1342-10 over what the invoices still owe once the partial letterings
    and the payments recorded in relance are counted; write only the allocations that
    change."""
    if not customer_ids:
        return _Applied(set())
    ids = sorted(customer_ids)
    invoices: list[tuple[int, str, int, date, date, Decimal]] = []
    for chunk in chunks(ids, 5000):
        invoices += Invoice.objects.filter(organisation=organisation, customer_id__in=list(chunk)).exclude(
            source_key="").values_list("id", "number", "customer_id", "due_date", "issue_date", "amount_incl_tax")
    owned = _Owned.load(organisation, ids if len(ids) <= 5000 else None)
    settled = owned.settled_invoices()
    left: dict[int, Decimal] = {pk: amount for pk, _n, _c, _d, _i, amount in invoices}
    for invoice_id, kind, record_id, amount in owned.allocations.values():
        ident = owned.ident_of.get((kind, record_id)) if kind else None
        if invoice_id in left and (ident is None or _role(ident) != "C"):
            left[invoice_id] -= amount
    debts: dict[int, list[Debt]] = defaultdict(list)
    numbers: dict[int, str] = {}
    pk_of: dict[str, int] = {}
    for pk, invoice_number, customer_id, due, issued, _amount in invoices:
        numbers[pk], pk_of[invoice_number] = invoice_number, pk
        if pk not in settled and left[pk] > 0:
            debts[customer_id].append(Debt(invoice_number, due, issued, left[pk]))
    # C. civ. 1342-10 sorts by « due on the payment date », then due date, issue date, number: sorted
    # by due date once, the debts due on any date are a prefix — one sort per customer is enough
    ordered = {customer_id: [pk_of[str(d.id)] for d in allocation_order(found, date.max)]
               for customer_id, found in debts.items()}
    by_piece: dict[tuple[int, str], list[int]] = defaultdict(list)
    for customer_id, pks in ordered.items():
        for pk in pks:
            by_piece[(customer_id, key_part(numbers[pk]))].append(pk)
    head: dict[int, int] = defaultdict(int)  # first invoice of each customer not yet fully covered
    credits = sorted((r for r in owned.records.values() if _role(r.ident) == "C" and r.customer_id in customer_ids),
                     key=lambda r: (r.on, r.ident))
    target: dict[tuple[str, int, int], Decimal] = {}
    on: dict[tuple[str, int], date] = {}
    for credit in credits:
        record = (credit.kind, cast(int, credit.id))
        on[record] = credit.on
        order = ordered.get(credit.customer_id, [])
        start = head[credit.customer_id]
        while start < len(order) and left[order[start]] <= 0:
            start += 1
        head[credit.customer_id] = start
        piece = _designated_piece(credit.ident)
        designated = by_piece.get((credit.customer_id, piece), []) if piece else []
        remaining = credit.amount
        for invoice_id in [*designated, *order[start:]]:
            if remaining <= 0:
                break
            if left[invoice_id] <= 0:
                continue
            part = min(remaining, left[invoice_id])
            target[(*record, invoice_id)] = part
            left[invoice_id] -= part
            remaining -= part
    existing: dict[tuple[str, int, int], tuple[int, Decimal]] = {}
    for pk, (invoice_id, kind, record_id, amount) in owned.allocations.items():
        ident = owned.ident_of.get((kind, record_id)) if kind else None
        if ident is not None and _role(ident) == "C" and owned.records[ident].customer_id in customer_ids:
            existing[(kind, record_id, invoice_id)] = (pk, amount)
    touched: set[int] = set()
    changed: set[tuple[str, int]] = set()
    delete: list[int] = []
    update: list[Allocation] = []
    create: list[Allocation] = []
    for key, (pk, amount) in existing.items():
        wanted = target.get(key)
        if wanted is None:
            delete.append(pk)
        elif wanted != amount:
            update.append(Allocation(pk=pk, amount=wanted))
        else:
            continue
        touched.add(key[2])
        changed.add(key[:2])
    for key, amount in target.items():
        if key not in existing:
            kind, record_id, invoice_id = key
            create.append(instance(Allocation, organisation_id=organisation.pk, invoice_id=invoice_id, amount=amount,
                               date=on[(kind, record_id)],
                               payment_id=record_id if kind == PAYMENT else None,
                               credit_note_id=record_id if kind == CREDIT_NOTE else None))
            touched.add(invoice_id)
            changed.add(key[:2])
    for chunk in chunks(delete):
        Allocation.objects.filter(pk__in=list(chunk)).delete()
    Allocation.objects.bulk_update(update, ["amount"], batch_size=500)
    insert_objects(Allocation, create)
    by_record: dict[tuple[str, int], list[tuple[str, Decimal]]] = defaultdict(list)
    for (kind, record_id, invoice_id), amount in target.items():
        by_record[(kind, record_id)].append((numbers[invoice_id], amount))
    return _Applied(touched, sum(target.values(), ZERO), len(by_record), credits, dict(by_record), changed)


def _credit_events(applied: _Applied, actor: str, created: dict[tuple[str, int], _Rec] | None = None,
                   updated: dict[tuple[str, int], tuple[_Rec, _Rec]] | None = None) -> list[NewEvent]:
    """« recorded » for the credits created, « updated » for those whose amount changed,
    « allocated » for the others whose allocations changed; each with its allocations."""
    created, updated = created or {}, updated or {}
    events = []
    for credit in applied.records:
        record = (credit.kind, cast(int, credit.id))
        parts = applied.allocations.get(record, [])
        if record in created:
            events.append(_record_event(credit, "recorded", actor, allocations=parts))
        elif record in updated:
            events.append(_record_event(credit, "updated", actor, updated[record][0], parts))
        elif record in applied.changed:
            event = _record_event(credit, "allocated", actor, allocations=parts)
            event.data.update(rule="C. civ. 1342-10", unallocated=credit.amount - sum((a for _i, a in parts), ZERO))
            events.append(event)
    return events
