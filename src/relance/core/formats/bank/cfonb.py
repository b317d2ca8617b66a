"""CFONB 120 bank statements ("relevé de compte 120 caractères"), read by hand.

Records: 01 old balance, 04 movement, 05 movement complement, 07 new balance. Amounts
are 14 characters whose last one carries both the sign and the last digit
(``{``/``A``-``I`` = +0..+9, ``}``/``J``-``R`` = -0..-9); the number of decimals is in
column 20. Dates are JJMMAA. Sign is the bank's: positive = credit on the account.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from ..problems import Problem
from .model import BankLine, Statement, StatementResult, as_iban, decode_text

_POSITIVE = {"{": 0, **{chr(ord("A") + i): i + 1 for i in range(9)}}
_NEGATIVE = {"}": 0, **{chr(ord("J") + i): i + 1 for i in range(9)}}


def signed_amount(field: str, decimals: str) -> Decimal:
    """``0000000500000{`` with 2 decimals -> 50000.00; ``0000039261358R`` -> -3926135.89."""
    if len(field) != 14 or not field[:13].isdigit() or not decimals.isdigit() or int(decimals) > 3:
        raise ValueError(f"montant illisible : {field!r} ({decimals!r} décimales)")
    last = field[13]
    if last in _POSITIVE:
        sign, digit = 1, _POSITIVE[last]
    elif last in _NEGATIVE:
        sign, digit = -1, _NEGATIVE[last]
    elif last.isdigit():
        sign, digit = 1, int(last)
    else:
        raise ValueError(f"caractère de signe inconnu {last!r} dans le montant {field!r}")
    return Decimal(sign * int(field[:13] + str(digit))).scaleb(-int(decimals))


def _date(field: str) -> date | None:
    if not field.strip():
        return None
    if len(field) != 6 or not field.isdigit():
        raise ValueError(f"date illisible : {field!r}")
    return date(2000 + int(field[4:6]), int(field[2:4]), int(field[0:2]))


def _records(text: str) -> list[tuple[int, str]]:
    lines = text.splitlines()
    if len(lines) == 1 and len(lines[0]) > 120:
        # no line breaks: a stream of 120-character records
        flat = lines[0]
        return [(i // 120 + 1, flat[i : i + 120]) for i in range(0, len(flat), 120)]
    return [(n, line) for n, line in enumerate(lines, 1) if line.strip()]


def parse(raw: bytes, filename: str) -> StatementResult:
    text = decode_text(raw, filename)
    result = StatementResult(format="cfonb120")
    problems = result.problems
    current: Statement | None = None
    last: tuple[int, BankLine, list[tuple[str, str]]] | None = None

    def flush() -> None:
        nonlocal last
        if last is not None and current is not None:
            current.lines.append(_complete(*last))
        last = None

    for line_no, record in _records(text):
        record = record.rstrip()
        if len(record) > 120:
            problems.append(
                Problem(filename, line_no, None, f"enregistrement de {len(record)} caractères (120 attendus)")
            )
            continue
        record = record.ljust(120)
        code = record[0:2]
        try:
            if code == "01":
                flush()
                if current is not None:
                    problems.append(
                        Problem(filename, line_no, None, "nouveau relevé (01) sans solde final (07) du précédent")
                    )
                account = record[21:32].strip()
                rib = record[2:7] + record[11:16] + account
                current = Statement("", account, record[16:19].strip(), signed_amount(record[90:104], record[19]), None)
                current.account_iban = _iban_from_rib(rib)
            elif code == "04":
                if current is None:
                    raise ValueError("mouvement (04) hors relevé (01 manquant)")
                flush()
                amount = signed_amount(record[90:104], record[19])
                booking = _date(record[34:40])
                line = BankLine(
                    booking,
                    _date(record[42:48]) or booking,
                    abs(amount),
                    "credit" if amount >= 0 else "debit",
                    record[16:19].strip() or current.currency,
                    remittance=" ".join(record[48:79].split()),
                    bank_reference=record[81:88].strip().lstrip("0") or record[104:120].strip(),
                    line_no_or_element=line_no,
                )
                last = (line_no, line, [])
            elif code == "05":
                if last is None:
                    raise ValueError("complément (05) sans mouvement (04) avant lui")
                last[2].append((record[45:48], record[48:118].strip()))
            elif code == "07":
                if current is None:
                    raise ValueError("solde final (07) sans relevé (01)")
                flush()
                current.closing_balance = signed_amount(record[90:104], record[19])
                result.statements.append(current)
                current = None
            else:
                raise ValueError(f"type d'enregistrement inconnu {code!r} (01, 04, 05 ou 07 attendu)")
        except ValueError as exc:
            problems.append(Problem(filename, line_no, None, str(exc)))
    flush()
    if current is not None:
        problems.append(Problem(filename, None, None, "fichier tronqué : relevé sans solde final (07)"))
        result.statements.append(current)
    if not result.statements and not problems:
        problems.append(Problem(filename, None, None, "aucun relevé CFONB 120"))
    return result


def _iban_from_rib(rib: str) -> str:
    """French IBAN from bank (5) + branch (5) + account (11), when the account is well formed."""
    if len(rib) != 21 or not rib.isalnum():
        return ""
    # RIB key: letters of the account map to digits (A,J=1 ... ; CFONB table), key = 97 - (89b + 15g + 3c) mod 97
    table = {c: str(v) for c, v in zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "12345678912345678923456789", strict=True)}
    digits = "".join(table.get(c, c) for c in rib.upper())
    if not digits.isdigit():
        return ""
    key = 97 - (89 * int(digits[0:5]) + 15 * int(digits[5:10]) + 3 * int(digits[10:21])) % 97
    bban = f"{rib.upper()}{key:02d}"
    numeric = "".join(str(int(c, 36)) for c in bban + "FR00")
    check = 98 - int(numeric) % 97
    return as_iban(f"FR{check:02d}{bban}")


def _complete(line_no: int, line: BankLine, extras: list[tuple[str, str]]) -> BankLine:
    texts = [line.remittance] if line.remittance else []
    name = iban = end_to_end = ""
    for qualifier, value in extras:
        if not value:
            continue
        if qualifier in ("NPY", "NBE", "NBU", "NPO") and not name:
            if (qualifier in ("NPY", "NPO")) == (line.direction == "credit"):
                name = value
        elif qualifier in ("IPY", "IBE") and not iban:
            iban = as_iban(value)
        elif qualifier == "RCN" and not end_to_end:
            end_to_end = value
        else:
            texts.append(value)
    return replace(
        line,
        counterparty_name=name,
        counterparty_iban=iban,
        end_to_end_id=end_to_end,
        remittance=" ".join(" ".join(texts).split()),
    )
