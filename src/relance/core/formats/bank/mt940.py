"""SWIFT MT940 statements, read with the ``mt-940`` library (BSD-3-Clause).

The file is cut into statements at each ``:20:`` tag so that every statement keeps its
own account and balances (the library merges them otherwise). The k-th transaction of a
statement is located at the k-th ``:61:`` line.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import mt940 as _mt940

from ..problems import Problem
from .model import BankLine, Statement, StatementResult, as_iban, decode_text

_START = re.compile(r"(?m)^:20:")
_IBAN_IN = re.compile(r"\b([A-Z]{2}\d{2}[A-Z0-9]{11,30})")


def _plain_date(value: Any) -> date | None:
    return date(value.year, value.month, value.day) if value is not None else None


def _balance(value: Any) -> Decimal | None:
    return Decimal(value.amount.amount) if value is not None else None


def _clean(value: Any) -> str:
    text = str(value or "").strip()
    return "" if text.upper() == "NONREF" else text


def _line(tx: Any, line_no: int, currency: str) -> BankLine:
    data = tx.data
    signed = Decimal(data["amount"].amount)
    details = str(data.get("transaction_details") or "").replace("\n", " ").strip()
    remittance = str(data.get("purpose") or "").strip() or details
    name = str(data.get("applicant_name") or data.get("recipient_name") or "").strip()
    iban = as_iban(str(data.get("applicant_iban") or data.get("gvc_applicant_iban") or ""))
    if not iban and name:
        # some banks glue ?31 (IBAN) and ?32 (name): split them back
        found = _IBAN_IN.match(name)
        if found:
            for end in range(len(found.group(1)), 14, -1):
                if as_iban(name[:end]):
                    iban, name = name[:end], name[end:].strip()
                    break
    value = _plain_date(data.get("date"))
    return BankLine(
        _plain_date(data.get("entry_date")) or value,
        value,
        abs(signed),
        "credit" if signed >= 0 else "debit",
        str(data.get("currency") or data["amount"].currency or currency),
        counterparty_name=re.sub(r"\s+", " ", name),
        counterparty_iban=iban,
        remittance=re.sub(r"\s+", " ", remittance),
        end_to_end_id=_clean(data.get("end_to_end_reference")),
        bank_reference=_clean(data.get("bank_reference")),
        line_no_or_element=line_no,
    )


def _tag_lines(chunk: str, first_line: int) -> list[int]:
    """The line of each ``:61:`` of a statement, counting newlines from the previous one (linear)."""
    lines, line, previous = [], first_line, 0
    for m in re.finditer(r"(?m)^:61:", chunk):
        line += chunk.count("\n", previous, m.start())
        previous = m.start()
        lines.append(line)
    return lines


def parse(raw: bytes, filename: str) -> StatementResult:
    text = decode_text(raw, filename).replace("\r\n", "\n").replace("\r", "\n")
    result = StatementResult(format="mt940")
    starts = [m.start() for m in _START.finditer(text)]
    if not starts:
        result.problems.append(Problem(filename, None, ":20:", "aucun relevé MT940 (balise :20: absente)"))
        return result
    first_line, previous = 1, 0
    for i, start in enumerate(starts):
        chunk = text[start : starts[i + 1] if i + 1 < len(starts) else len(text)]
        first_line += text.count("\n", previous, start)  # counted from the previous statement: linear in the file
        previous = start
        tx_lines = _tag_lines(chunk, first_line)
        try:
            parsed = _mt940.models.Transactions()
            parsed.parse(chunk)
            data = parsed.data
            closing = data.get("final_closing_balance") or data.get("intermediate_closing_balance")
            opening = data.get("final_opening_balance") or data.get("intermediate_opening_balance")
            if closing is None:
                result.problems.append(
                    Problem(filename, first_line, ":62F:", "relevé sans solde final (fichier tronqué ?)")
                )
            if len(parsed.transactions) != len(tx_lines):
                result.problems.append(
                    Problem(
                        filename,
                        first_line,
                        ":61:",
                        f"{len(tx_lines)} lignes :61: mais {len(parsed.transactions)} mouvements lus",
                    )
                )
            account = str(data.get("account_identification") or "").strip()
            currency = ""
            for balance in (opening, closing):
                if balance is not None and balance.amount.currency:
                    currency = str(balance.amount.currency)
                    break
            statement = Statement(as_iban(account), account, currency, _balance(opening), _balance(closing))
            for k, tx in enumerate(parsed.transactions):
                statement.lines.append(_line(tx, tx_lines[k] if k < len(tx_lines) else first_line, currency))
        except Exception as exc:  # the library raises many kinds of errors on malformed input
            result.problems.append(Problem(filename, first_line, None, f"relevé MT940 illisible : {str(exc)[:200]}"))
            continue
        result.statements.append(statement)
    return result
