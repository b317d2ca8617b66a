"""What the matcher reads (open invoices, payers, receipts) and what it decides."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class OpenItem:
    """An open invoice as the matcher sees it; ``amount_due`` is what is still to be paid."""

    id: int
    number: str
    customer_id: int
    due_date: date
    issue_date: date
    amount_due: Decimal
    currency: str = "EUR"
    payment_reference: str = ""


@dataclass(frozen=True)
class Payer:
    """A customer and what identifies it on a transfer."""

    id: int
    code: str
    name: str
    payment_reference: str = ""
    ibans: tuple[str, ...] = ()
    names: tuple[str, ...] = ()  # payer names seen on earlier transfers


@dataclass(frozen=True)
class Receipt:
    """A credit line of a bank statement (``amount`` > 0)."""

    key: Hashable
    amount: Decimal
    on: date
    currency: str = "EUR"
    counterparty_name: str = ""
    counterparty_iban: str = ""
    remittance: str = ""
    structured_reference: str = ""
    end_to_end_id: str = ""


class Outcome(StrEnum):
    MATCHED = "matched"
    REVIEW = "review"
    UNMATCHED = "unmatched"


@dataclass(frozen=True)
class Candidate:
    """A possible reading of a receipt: this customer's invoices (none: on account)."""

    customer_id: int
    invoice_ids: tuple[int, ...]
    amount: Decimal  # what those invoices still owe (the customer's total when none)
    score: int  # 0 to 100
    reason: str
    method: str


@dataclass(frozen=True)
class Part:
    invoice_id: int
    amount: Decimal


@dataclass(frozen=True)
class Decision:
    receipt: Receipt
    outcome: Outcome
    customer_id: int | None = None
    designated: tuple[int, ...] = ()
    allocations: tuple[Part, ...] = ()
    unallocated: Decimal = ZERO
    method: str = ""
    reason: str = ""
    candidates: tuple[Candidate, ...] = field(default=())

    @property
    def allocated(self) -> Decimal:
        return sum((p.amount for p in self.allocations), ZERO)
