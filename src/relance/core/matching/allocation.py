"""Imputing a payment on a customer's invoices (C. civ. 1342-10), and the exact-subset search
(which invoices sum exactly to an amount)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from ..law.allocation import Debt, allocation_order
from .model import OpenItem, Part

#: search budget of the exact-subset search (nodes)
SUBSET_BUDGET = 20_000


def allocate(items: Sequence[OpenItem], amount: Decimal, on: date, designated: Sequence[int] = (),
             remaining: dict[int, Decimal] | None = None) -> tuple[tuple[Part, ...], Decimal]:
    """Impute ``amount`` on a customer's open ``items`` (C. civ. 1342-10): the ``designated``
    invoices first, in the order given, then the debts due, oldest first, then those not yet
    due (``law.allocation.allocation_order``); what is left is returned as unallocated.
    ``remaining`` overrides the amounts due."""
    if amount <= 0:
        raise ValueError("le montant d’un paiement doit être positif")

    def due(item: OpenItem) -> Decimal:
        return remaining[item.id] if remaining is not None and item.id in remaining else item.amount_due

    by_id = {i.id: i for i in items}
    left = amount
    parts: list[Part] = []
    chosen: set[int] = set()
    for invoice_id in designated:
        item = by_id.get(invoice_id)
        if item is None or invoice_id in chosen:
            continue
        chosen.add(invoice_id)
        part = min(left, due(item))
        if part > 0:
            parts.append(Part(invoice_id, part))
            left -= part
        if left <= 0:
            return tuple(parts), left
    rest = [i for i in items if i.id not in chosen and due(i) > 0]
    by_number = {i.number: i for i in rest}
    for debt in allocation_order([Debt(i.number, i.due_date, i.issue_date, due(i)) for i in rest], on):
        if left <= 0:
            break
        part = min(left, debt.amount_due)
        parts.append(Part(by_number[str(debt.id)].id, part))
        left -= part
    return tuple(parts), left


def _cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


class _Budget(Exception):
    pass


def exact_subsets(values: Sequence[int], target: int, limit: int = 2, budget: int = SUBSET_BUDGET) -> tuple[
        list[tuple[int, ...]], bool]:
    """Subsets (index tuples, at most ``limit``) of ``values`` (positive integers) summing
    exactly to ``target``; the flag is False when the search budget ran out before the
    search was complete (more solutions may exist)."""
    order = sorted(range(len(values)), key=lambda i: -values[i])
    vals = [values[i] for i in order]
    suffix = [0] * (len(vals) + 1)
    for i in range(len(vals) - 1, -1, -1):
        suffix[i] = suffix[i + 1] + vals[i]
    found: list[tuple[int, ...]] = []
    steps = 0
    chosen: list[int] = []

    def walk(start: int, left: int) -> bool:
        nonlocal steps
        if left == 0:
            found.append(tuple(sorted(order[i] for i in chosen)))
            return len(found) >= limit
        if suffix[start] < left:
            return False
        for i in range(start, len(vals)):
            if suffix[i] < left:
                break
            v = vals[i]
            if v > left:
                continue
            steps += 1
            if steps > budget:
                raise _Budget
            chosen.append(i)
            if walk(i + 1, left - v):
                return True
            chosen.pop()
        return False

    if target <= 0 or not vals:
        return [], True
    try:
        walk(0, target)
    except _Budget:
        return found, False
    return found, True
