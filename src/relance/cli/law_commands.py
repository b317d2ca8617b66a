"""``relance law …`` and ``relance rates …``: the legal calculator on its own. Amounts in
JSON are strings with two decimals; rates are percentages as strings."""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from relance.clock import DEFAULT_ZONE, today_for
from relance.core import formatting as fmt
from relance.core.law import (
    LawInputError,
    MissingRate,
    Period,
    RateTables,
    Semester,
    check_terms,
    compute_legal_interest,
    compute_penalties,
    prescription,
    semester_of,
)
from relance.errors import InvalidInput, RateMissing

from .output import emit


def _date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(f"{name} : date invalide « {value} » (attendu AAAA-MM-JJ)") from exc


def _amount(value: str, name: str) -> Decimal:
    try:
        amount = Decimal(value.replace(",", ".").replace(" ", ""))
    except InvalidOperation as exc:
        raise InvalidInput(f"{name} : « {value} » n’est pas un montant") from exc
    if not amount.is_finite():
        raise InvalidInput(f"{name} : « {value} » n’est pas un montant")
    return amount


def _basis(value: Any) -> str:
    return value if isinstance(value, str) else " ; ".join(value)


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"


def _periods(periods: Sequence[Period]) -> list[dict[str, Any]]:
    return [{"from": p.start.isoformat(), "to": p.end.isoformat(), "days": p.days, "base": _money(p.base),
             "rate": f"{p.rate}", "amount": _money(p.amount), "semester": str(p.semester)} for p in periods]


def _period_lines(periods: Sequence[Period]) -> list[str]:
    return [f"  du {fmt.short_date(p.start)} au {fmt.short_date(p.end)} : {p.days:>4} j × {fmt.money(p.base):>14}"
            f" × {fmt.number(p.rate)} % = {fmt.money(p.amount):>12}" for p in periods]


@contextmanager
def _law_errors() -> Iterator[None]:
    try:
        yield
    except LawInputError as exc:
        raise InvalidInput(str(exc)) from exc
    except MissingRate as exc:
        raise RateMissing(str(exc)) from exc


def _tables() -> RateTables:
    from relance.rates.services import rate_tables

    return rate_tables()


def cmd_law(args: argparse.Namespace) -> int:
    handler = {"penalties": _penalties, "interest": _interest, "terms": _terms, "prescription": _prescription}
    with _law_errors():
        return handler[args.law_command](args)


def _penalties(args: argparse.Namespace) -> int:
    payments = []
    for item in args.payment:
        day, sep, amount = item.partition(":")
        if not sep:
            raise InvalidInput(f"--payment « {item} » : attendu DATE:MONTANT, p. ex. 2024-06-10:3000")
        payments.append((_date(day, "--payment"), _amount(amount, "--payment")))
    paid = _date(args.paid, "--paid") if args.paid else today_for(DEFAULT_ZONE)
    rate = _amount(args.rate, "--rate") if args.rate else None
    due = _date(args.due, "--due")
    result = compute_penalties(_amount(args.amount, "--amount"), due, paid, payments, rate,
                               _tables(), args.debtor, issue_date=_date(args.issued, "--issued") if args.issued else None,
                               formal_notice_on=_date(args.notice, "--notice") if args.notice else None)
    data = {"principal": _money(result.principal), "due": due.isoformat(),
            "paid": paid.isoformat(), "debtor": result.debtor, "days_late": result.days_late,
            "penalties": _money(result.total), "indemnity": _money(result.indemnity),
            "total": _money(result.total + result.indemnity), "periods": _periods(result.periods),
            "warnings": list(result.warnings), "legal_basis": _basis(result.legal_basis)}
    lines = [f"Principal {fmt.money(result.principal)}, échéance {fmt.long_date(due)}, "
             f"payé le {fmt.long_date(paid)} : {result.days_late} jours de retard",
             *_period_lines(result.periods),
             (f"Pénalités de retard : {fmt.money(result.total)}" if result.debtor == "business"
              else f"Intérêts de retard (clause pénale) : {fmt.money(result.total)}"),
             f"Indemnité forfaitaire : {fmt.money(result.indemnity)}",
             f"Base légale : {_basis(result.legal_basis)}", *[f"Attention : {w}" for w in result.warnings]]
    emit(args, data, "\n".join(lines))
    return 0


def _interest(args: argparse.Namespace) -> int:
    start = _date(args.start, "--from")
    end = _date(args.end, "--to") if args.end else today_for(DEFAULT_ZONE)
    result = compute_legal_interest(_amount(args.amount, "--amount"), start, end,
                                    args.creditor, _date(args.judgment, "--judgment") if args.judgment else None,
                                    _tables())
    data = {"amount": _money(result.amount), "from": start.isoformat(), "to": end.isoformat(),
            "days": result.days, "category": result.category, "interest": _money(result.total),
            "periods": _periods(result.periods), "warnings": list(result.warnings),
            "legal_basis": _basis(result.legal_basis)}
    lines = [f"Intérêts au taux légal sur {fmt.money(result.amount)} du {fmt.long_date(start)} "
             f"au {fmt.long_date(end)} ({result.days} jours)", *_period_lines(result.periods),
             f"Intérêts : {fmt.money(result.total)}", f"Base légale : {_basis(result.legal_basis)}",
             *[f"Attention : {w}" for w in result.warnings]]
    emit(args, data, "\n".join(lines))
    return 0


def _terms(args: argparse.Namespace) -> int:
    r = check_terms(_date(args.issued, "--issued"), _date(args.due, "--due"),
                    _date(args.delivery, "--delivery") if args.delivery else None, args.convention)
    data = {"issued": r.issue_date.isoformat(), "due": r.due_date.isoformat(),
            "max_60_days": r.max_60_days.isoformat(), "max_45_end_of_month": r.max_45_eom.isoformat(),
            "convention": r.convention, "legal_max": r.legal_max.isoformat(), "exceeds": r.exceeds,
            "days_over": r.days_over, "warning": r.warning, "notes": list(r.notes), "legal_basis": _basis(r.legal_basis)}
    text = (f"Échéance {fmt.long_date(r.due_date)} ; maximum légal {fmt.long_date(r.legal_max)} "
            f"(60 jours : {fmt.long_date(r.max_60_days)} ; 45 jours fin de mois : {fmt.long_date(r.max_45_eom)}).\n"
            + (f"Dépassement de {r.days_over} jours : {r.warning}" if r.exceeds else "Délai conforme.")
            + "".join(f"\n{n}" for n in r.notes))
    emit(args, data, text)
    return 0


def _prescription(args: argparse.Namespace) -> int:
    r = prescription(_date(args.due, "--due"), args.debtor,
                     _date(args.performed, "--performed") if args.performed else None,
                     [_date(d, "--interruption") for d in args.interruption],
                     _date(args.as_of, "--as-of") if args.as_of else today_for(DEFAULT_ZONE),
                     issue_date=_date(args.issued, "--issued") if args.issued else None)
    data = {"start": r.start.isoformat(), "years": r.years, "deadline": r.deadline.isoformat(),
            "days_left": r.days_left, "expired": r.expired, "alert": r.alert,
            "restarted_on": r.restarted_on.isoformat() if r.restarted_on else None,
            "warnings": list(r.warnings), "legal_basis": _basis(r.legal_basis)}
    text = (f"Prescription de {r.years} ans à compter du {fmt.long_date(r.start)} : "
            f"{'acquise depuis le' if r.expired else 'agir au plus tard le'} {fmt.long_date(r.deadline)}"
            f"{'' if r.expired else f' ({r.days_left} jours)'}.\nBase légale : {_basis(r.legal_basis)}"
            + "".join(f"\nAttention : {w}" for w in r.warnings))
    emit(args, data, text)
    return 0


def cmd_rates(args: argparse.Namespace) -> int:
    if args.rates_command == "add":
        from relance.rates.services import add_rate

        row = add_rate(args.semester, individual=args.particuliers, other=args.autres, ecb=args.bce,
                       source=args.source, actor="cli")
        data = {"semester": row.semester, "individual": str(row.individual_rate) if row.individual_rate else None,
                "other": str(row.other_rate) if row.other_rate else None,
                "ecb": str(row.ecb_rate) if row.ecb_rate is not None else None, "source": row.source}
        emit(args, data, f"Semestre {row.semester} enregistré ; les relances en attente de ce taux repartent.")
        return 0
    tables = _tables()
    rows = []
    current = semester_of(today_for(DEFAULT_ZONE))
    sem = Semester(2015, 1)
    while sem <= current:
        rows.append(_semester_row(tables, sem))
        sem = sem.next()
    lines = [f"{'semestre':<9} {'particuliers':>12} {'autres cas':>10} {'BCE':>6} {'BCE+10':>7} {'plancher 3×':>11}"]
    def cell(r: dict[str, Any], key: str, width: int) -> str:
        value = r[key]
        return f"{fmt.number(Decimal(value)) + ' %':>{width}}" if value is not None else f"{'manquant':>{width}}"

    for r in rows:
        lines.append(f"{r['semester']:<9} {cell(r, 'individual', 12)} {cell(r, 'other', 10)} {cell(r, 'ecb', 6)} "
                     f"{cell(r, 'default_penalty', 7)} {cell(r, 'floor', 11)}")
    emit(args, {"semesters": rows}, "\n".join(lines))
    return 0


def _semester_row(tables: RateTables, sem: Semester) -> dict[str, Any]:
    def get(fn: Any, *a: Any) -> str | None:
        try:
            return str(fn(*a))
        except MissingRate:
            return None
    return {"semester": str(sem), "individual": get(tables.legal_rate, sem, "individual"),
            "other": get(tables.legal_rate, sem, "other"), "ecb": get(tables.ecb_rate_on, sem.start),
            "default_penalty": get(tables.default_penalty_rate, sem), "floor": get(tables.penalty_floor, sem)}
