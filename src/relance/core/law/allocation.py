"""Allocation of a payment across several debts (C. civ. 1342-10).

« Le débiteur de plusieurs dettes peut indiquer, lorsqu’il paie, celle qu’il entend acquitter. À
défaut d’indication par le débiteur, l’imputation a lieu comme suit : d’abord sur les dettes
échues ; parmi celles-ci, sur les dettes que le débiteur avait le plus d’intérêt d’acquitter. À
égalité d’intérêt, l’imputation se fait sur la plus ancienne ; toutes choses égales, elle se fait
proportionnellement. »

Implemented order: the designated debts first, in the order given; then the debts already due
on the payment date before those not yet due; among each group the oldest due date first, then
the oldest issue date, then the number (natural order: ``F-9`` before ``F-10``). *Choices*: the
debtor’s « interest » in paying a debt is not known to the software and is not used; the pro rata
rule is replaced by the issue date and number tie-breakers; a payment is put on the not-yet-due
debts once the due ones are paid, and what is left stays unallocated. Within one debt, C. civ.
1343-1 puts a partial payment on interest before principal: ``amount_due`` is what the caller
chases (principal, or principal and accrued interest).
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ..formatting import money
from ._accrual import amount_of, check_date
from .errors import LawInputError

_DIGITS = re.compile(r"(\d+)")


@dataclass(frozen=True)
class Debt:
    id: Hashable
    due_date: date
    issue_date: date
    amount_due: Decimal


@dataclass(frozen=True)
class Allocation:
    debt_id: Hashable
    amount: Decimal
    reason: str


@dataclass(frozen=True)
class AllocationResult:
    allocations: tuple[Allocation, ...]
    unallocated: Decimal
    legal_basis: tuple[str, ...] = ("C. civ. 1342-10",)


def _natural(value: Hashable) -> tuple[object, ...]:
    if isinstance(value, int):
        return ((0, value, ""),)
    parts = _DIGITS.split(str(value))
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts if p != "")


def allocation_order(debts: Sequence[Debt], payment_date: date, designated: Sequence[Hashable] = ()) -> list[Debt]:
    """The debts in C. civ. 1342-10 order (see the module docstring)."""
    by_id = {d.id: d for d in debts}
    first = [by_id[i] for i in dict.fromkeys(designated) if i in by_id]
    chosen = {d.id for d in first}
    rest = sorted((d for d in debts if d.id not in chosen),
                  key=lambda d: (d.due_date > payment_date, d.due_date, d.issue_date, _natural(d.id)))
    return first + rest


def allocate_payment(amount: object, debts: Iterable[Debt | tuple[Hashable, date, date, object]],
                     payment_date: date, designated: Sequence[Hashable] = ()) -> AllocationResult:
    """Allocate a payment of ``amount`` over ``debts`` (``Debt`` or ``(id, due_date, issue_date,
    amount_due)`` tuples) following C. civ. 1342-10. Debts with nothing due are skipped; the rest of
    the payment, if any, is returned as ``unallocated``."""
    total = amount_of(amount, "montant du paiement")
    if total <= 0:
        raise LawInputError(f"le montant d’un paiement doit être strictement positif ({money(total)})")
    day = check_date(payment_date, "date du paiement")
    items: list[Debt] = []
    for debt in debts:
        if not isinstance(debt, Debt):
            try:
                ident, due, issued, due_amount = debt
            except (TypeError, ValueError):
                raise LawInputError(f"dette illisible : {debt!r} (attendu : (id, échéance, date, montant))") from None
            debt = Debt(ident, check_date(due, "date d’échéance"), check_date(issued, "date de la facture"),
                        amount_of(due_amount, f"montant dû de {ident}"))
        items.append(debt)
    ids = [d.id for d in items]
    if len(set(ids)) != len(ids):
        raise LawInputError("identifiants de dettes en double")
    unknown = [str(i) for i in designated if i not in set(ids)]
    if unknown:
        raise LawInputError(f"dette(s) désignée(s) inconnue(s) : {', '.join(unknown)}")
    remaining = total
    allocations = []
    wanted = set(designated)
    for debt in allocation_order(items, day, designated):
        if remaining <= 0:
            break
        if debt.amount_due <= 0:
            continue
        part = min(remaining, debt.amount_due)
        if debt.id in wanted:
            reason = "dette désignée par le débiteur"
        elif debt.due_date <= day:
            reason = "dette échue, la plus ancienne d’abord"
        else:
            reason = "dette non encore échue"
        allocations.append(Allocation(debt.id, part, reason))
        remaining -= part
    return AllocationResult(tuple(allocations), remaining)
