"""Data produced by the bank statement readers, and helpers shared by them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Literal

from stdnum import iban as _iban

from ..decoding import UTF8_THEN_WINDOWS, decode
from ..problems import Problem

Direction = Literal["credit", "debit"]


@dataclass(frozen=True)
class BankLine:
    """One booked movement; ``amount`` is always positive, ``direction`` carries the sign."""

    booking_date: date | None
    value_date: date | None
    amount: Decimal
    direction: Direction
    currency: str
    counterparty_name: str = ""
    counterparty_iban: str = ""
    remittance: str = ""
    structured_reference: str = ""
    end_to_end_id: str = ""
    bank_reference: str = ""
    line_no_or_element: int | str = ""

    @property
    def signed_amount(self) -> Decimal:
        return self.amount if self.direction == "credit" else -self.amount


@dataclass
class Statement:
    """One account's statement. Balances are signed (negative = debit balance), None when absent."""

    account_iban: str
    account_id: str
    currency: str
    opening_balance: Decimal | None = None
    closing_balance: Decimal | None = None
    lines: list[BankLine] = field(default_factory=list)


@dataclass
class StatementResult:
    statements: list[Statement] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    format: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


class BankFormatError(Exception):
    """Raised inside a reader for a fatal problem; turned into a Problem by the caller."""

    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem


_DECIMAL = re.compile(r"[+-]?\d{1,18}([.,]\d{1,6})?")


def parse_decimal(text: str) -> Decimal:
    """Plain decimal as written in bank files (``123.45``, ``-12,5``); ValueError otherwise."""
    s = text.strip()
    if not _DECIMAL.fullmatch(s):
        raise ValueError(f"montant illisible : {text[:40]!r}")
    try:
        return Decimal(s.replace(",", "."))
    except InvalidOperation as exc:  # pragma: no cover - guarded by the regex
        raise ValueError(f"montant illisible : {text[:40]!r}") from exc


def as_iban(text: str) -> str:
    """The compact IBAN when ``text`` is a valid one, else an empty string."""
    compact = re.sub(r"\s", "", text or "").upper()
    return compact if compact and _iban.is_valid(compact) else ""


def decode_text(raw: bytes, filename: str, encodings: Sequence[str] = UTF8_THEN_WINDOWS) -> str:
    """UTF-8 (with or without BOM), else Windows-1252 (:func:`..decoding.decode`), without NUL; a
    Problem when neither fits."""
    return without_nul(decode(raw, filename, BankFormatError, encodings=encodings), filename)


def without_nul(text: str, filename: str) -> str:
    """The text without the NUL bytes that pad some files at their end; a NUL anywhere else is refused (a
    damaged or UTF-16 file — and PostgreSQL cannot store it: found by bench/fuzz.py, issue #11)."""
    text = text.rstrip("\x00")
    at = text.find("\x00")
    if at >= 0:
        raise BankFormatError(Problem(filename, text.count("\n", 0, at) + 1, None,
                                      "caractère nul (0x00) dans le fichier : fichier abîmé, ou encodé en UTF-16 ?"))
    return text
