"""Import a bank statement file (camt.053/054, OFX, MT940, CFONB 120) and match its receipts.

All-or-nothing: the file is parsed and checked first (format problems, unknown account,
line without a date); any problem refuses the whole file (:class:`ImportRejected`, naming
the file and the line or XML element). Idempotent: a file already imported is recognised by
its SHA-256 and changes nothing; a line already imported from an overlapping statement
(same account, date, amount and reference) is recognised by its fingerprint and skipped.

Only credits are receipts; debits are counted and ignored. The new credits are stored and
matched by batches of ``locks.BATCH`` lines, each its own transaction (``services.matching``):
confident matches become payments at once, the others wait in the review list. A batch locks
in the project's order (``relance/locks.py``): the invoices it pays and their
customers' first, then the organisation row — never a whole file's invoices at once, never
in a circle with a reminder being sent. The file is recorded as imported (its counts, the
``bank_statement.imported`` event) after its last batch; a write interrupted half-way is
resumed by importing the same file again (its lines already stored are counted, not
duplicated).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import transaction

from relance.core.formats.bank import BankLine, Statement, parse_statement
from relance.core.formats.problems import Problem
from relance.core.formatting import money
from relance.core.iban import compact_iban
from relance.core.matching import compact
from relance.errors import Conflict, ImportRejected, InvalidInput
from relance.events import kinds
from relance.events.services import record_many
from relance.ledger.models import Organisation
from relance.locks import BATCH, customer_invoice_ids, lock_invoices, lock_organisation

from ..models import BankAccount, BankTransaction, StatementFile
from .matching import NewLine, decide_new_lines, match_lines, store_lines

#: end-to-end ids that say « none »
_NO_ID = {"", "NOTPROVIDED", "NONREF", "NONE", "NOREF"}
CHUNK = 2000
CENT = Decimal("0.01")


@dataclass
class StatementImportReport:
    file: str
    format: str = ""
    already_imported: bool = False
    statements: int = 0
    lines: int = 0  # every movement read from the file, credits and debits
    credits: int = 0
    matched: int = 0
    to_review: int = 0
    unmatched: int = 0
    duplicates: int = 0  # credits already imported from an overlapping statement
    debits_ignored: int = 0
    amount_matched: Decimal = Decimal("0.00")
    accounts: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    payments: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file, "format": self.format, "already_imported": self.already_imported,
            "statements": self.statements, "lines": self.lines, "credits": self.credits, "matched": self.matched,
            "to_review": self.to_review, "unmatched": self.unmatched, "duplicates": self.duplicates,
            "debits_ignored": self.debits_ignored, "amount_matched": self.amount_matched, "accounts": self.accounts,
            "warnings": self.warnings,
        }

    def as_text(self) -> str:
        if self.already_imported:
            return f"{self.file} : relevé déjà importé, rien n’a changé."
        parts = [
            f"{self.file} : {self.lines} opération(s) lue(s) sur {self.statements} relevé(s)",
            f"{self.matched} virement(s) rapproché(s) automatiquement ({money(self.amount_matched)})",
            f"{self.to_review} à vérifier",
            f"{self.unmatched} sans correspondance",
        ]
        if self.duplicates:
            parts.append(f"{self.duplicates} déjà importé(s) par un relevé précédent")
        parts.append(f"{self.debits_ignored} débit(s) ignoré(s)")
        text = " ; ".join(parts) + "."
        if self.to_review + self.unmatched:
            text += "\nLes virements à vérifier attendent dans « relance bank review » ou la page Banque › À vérifier."
        text += "".join(f"\nAttention : {w}" for w in self.warnings)
        return text


# --------------------------------------------------------------------------- accounts


def _account_key(text: str) -> str:
    return compact(text)


def add_account(organisation: Organisation, *, iban: str = "", account_id: str = "", label: str = "") -> BankAccount:
    """Register a bank account of the organisation (its IBAN, or the identifier its files carry)."""
    from stdnum import iban as std_iban

    iban_c = compact_iban(iban)
    ident = account_id.strip()
    if not iban_c and not ident:
        raise InvalidInput("indiquer l’IBAN du compte ou son identifiant dans les relevés")
    if iban_c and not std_iban.is_valid(iban_c):
        raise InvalidInput(f"IBAN invalide : {iban}")
    existing = BankAccount.objects.filter(organisation=organisation)
    if iban_c and existing.filter(iban=iban_c).exists():
        raise InvalidInput(f"le compte {std_iban.format(iban_c)} est déjà enregistré")
    if ident and existing.filter(account_id=ident).exists():
        raise InvalidInput(f"le compte « {ident} » est déjà enregistré")
    return BankAccount.objects.create(organisation=organisation, iban=iban_c, account_id=ident, label=label.strip())


def find_account(organisation: Organisation, statement: Statement, accounts: list[BankAccount]) -> BankAccount | None:
    """The organisation's account a statement belongs to: by IBAN, by the identifier the bank
    writes (OFX ACCTID, MT940 :25:), or an identifier of 8 characters or more contained in a
    registered French IBAN's account number; the organisation's own IBAN counts as registered."""
    iban = compact_iban(statement.account_iban)
    ident = _account_key(statement.account_id)
    for account in accounts:
        if account.iban and account.iban in (iban, ident):
            return account
    for account in accounts:
        if account.account_id and _account_key(account.account_id) in (ident, iban):
            return account
    if len(ident) >= 8:
        for account in accounts:
            if account.iban and ident in account.iban[4:]:
                return account
    org_iban = compact_iban(organisation.iban)
    if org_iban and (org_iban in (iban, ident) or (len(ident) >= 8 and ident in org_iban[4:])):
        account, _ = BankAccount.objects.get_or_create(
            organisation=organisation, iban=org_iban, defaults={"label": "Compte principal"})
        accounts.append(account)
        return account
    return None


def _statement_where(result_format: str, statement: Statement, index: int) -> tuple[int | None, str]:
    """Where a statement's account is written: (line, element) for the refusal message."""
    first = statement.lines[0].line_no_or_element if statement.lines else ""
    if result_format == "camt":
        if isinstance(first, str) and "/Ntry" in first:
            return None, first.split("/Ntry", 1)[0] + "/Acct/Id"
        return None, f"Stmt[{index}]/Acct/Id"
    field_name = {"ofx": "BANKACCTFROM/ACCTID", "mt940": ":25:", "cfonb120": "enregistrement 01, compte"}
    return None, f"{field_name.get(result_format, 'compte')} (relevé n° {index})"


def _describe(statement: Statement) -> str:
    return statement.account_iban or statement.account_id or "(compte non indiqué)"


# --------------------------------------------------------------------------- lines


def _date_of(line: BankLine) -> Any:
    return line.booking_date or line.value_date


def _identity(line: BankLine) -> str:
    e2e = line.end_to_end_id.strip()
    if e2e.upper() not in _NO_ID:
        return "e2e:" + e2e
    if line.bank_reference.strip():
        return "bank:" + line.bank_reference.strip()
    if line.structured_reference.strip():
        return "ref:" + compact(line.structured_reference)
    return "text:" + compact(line.remittance + " " + line.counterparty_name)


def fingerprint(account: BankAccount, line: BankLine, occurrence: int) -> str:
    """Same account, date, amount, direction, currency and reference (end-to-end id, bank
    reference, structured reference, else the text): the same line, whatever the statement
    that carries it. ``occurrence`` keeps apart identical lines of one file."""
    day = _date_of(line)
    key = "|".join([str(account.pk), day.isoformat() if day else "", line.direction, f"{line.amount:.2f}",
                    line.currency, _identity(line), str(occurrence)])
    return hashlib.sha256(key.encode()).hexdigest()


def _cut(text: str, size: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= size else text[: size - 1] + "…"


# --------------------------------------------------------------------------- import


def import_statement(organisation: Organisation, path: Path, *, actor: str = "import") -> StatementImportReport:
    path = Path(path)
    name = path.name
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportRejected([Problem(name, None, None, f"fichier illisible : {exc.strerror or exc}")]) from exc
    digest = hashlib.sha256(raw).hexdigest()
    report = StatementImportReport(name)
    if StatementFile.objects.filter(organisation=organisation, sha256=digest).exists():
        report.already_imported = True
        return report
    result = parse_statement(raw, name)
    report.format = result.format
    if result.problems:
        raise ImportRejected(result.problems)
    if not result.statements:
        raise ImportRejected([Problem(name, None, None, "aucun relevé dans ce fichier")])

    problems = [Problem(name, *_where(line), "opération sans date")
                for statement in result.statements for line in statement.lines if _date_of(line) is None]
    problems += [Problem(name, *_where(line), f"montant {line.amount} : plus de deux décimales")
                 for statement in result.statements for line in statement.lines
                 if line.amount != line.amount.quantize(CENT)]

    with transaction.atomic():  # a refusal below undoes everything, the organisation's own account included
        # one import at a time per organisation: the second one sees the first one's lines (no
        # invoice is written in this transaction: the organisation row may come first)
        lock_organisation(organisation)
        statement_file = StatementFile.objects.filter(organisation=organisation, sha256=digest).first()
        if statement_file is not None and statement_file.counts:
            report.already_imported = True
            return report
        accounts = list(BankAccount.objects.filter(organisation=organisation))
        resolved: list[BankAccount] = []
        unknown: list[Problem] = []
        for n, statement in enumerate(result.statements, 1):
            account = find_account(organisation, statement, accounts)
            if account is None:
                at_line, element = _statement_where(result.format, statement, n)
                unknown.append(Problem(name, at_line, element, (
                    f"le compte {_describe(statement)} n’est pas un compte de {organisation.legal_name} : "
                    "enregistrez-le (IBAN de l’organisation, ou compte bancaire dans l’administration) avant "
                    "d’importer ce relevé")))
            else:
                resolved.append(account)
        if unknown or problems:
            raise ImportRejected(unknown + problems)
        if statement_file is None:  # else: a write interrupted earlier, resumed below
            statement_file = StatementFile.objects.create(
                organisation=organisation, filename=name[:300], sha256=digest, format=result.format,
                actor=actor[:150])
    candidates: list[NewLine] = []
    for statement, account in zip(result.statements, resolved, strict=True):
        report.statements += 1
        label = account.iban or account.account_id
        if label not in report.accounts:
            report.accounts.append(label)
        seen: Counter[str] = Counter()
        for line in statement.lines:
            report.lines += 1
            if line.direction != "credit":
                report.debits_ignored += 1
                continue
            if line.amount <= 0:
                report.warnings.append(str(Problem(name, *_where(line), "crédit de montant nul ignoré")))
                continue
            report.credits += 1
            base = fingerprint(account, line, 0)
            seen[base] += 1
            day = _date_of(line)
            assert day is not None
            candidates.append(NewLine(
                account_id=account.pk, fingerprint=fingerprint(account, line, seen[base]),
                location=str(line.line_no_or_element)[:200], booking_date=day, value_date=line.value_date,
                amount=line.amount, currency=(line.currency or "EUR")[:3].upper(),
                counterparty_name=_cut(line.counterparty_name, 200),
                counterparty_iban=compact_iban(line.counterparty_iban)[:34],
                remittance=(line.remittance or "").strip(),
                structured_reference=_cut(line.structured_reference, 140),
                end_to_end_id=_cut(line.end_to_end_id, 140), bank_reference=_cut(line.bank_reference, 140),
            ))
    unique: list[NewLine] = []
    prints: set[str] = set()
    for candidate in candidates:  # two statements of one file may overlap too
        if candidate.fingerprint not in prints:
            prints.add(candidate.fingerprint)
            unique.append(candidate)
    duplicates = len(candidates) - len(unique)
    for start in range(0, len(unique), BATCH):
        duplicates += _write_batch(organisation, statement_file.pk, unique[start:start + BATCH], report, actor)
    report.duplicates = duplicates
    if report.duplicates:
        report.warnings.append(f"{report.duplicates} opération(s) déjà importée(s) par un relevé précédent, "
                               "ignorée(s)")
    with transaction.atomic():
        lock_organisation(organisation)
        statement_file.counts = {k: v for k, v in report.as_dict().items()
                                 if k in ("statements", "lines", "credits", "matched", "to_review", "unmatched",
                                          "duplicates", "debits_ignored")}
        statement_file.save(update_fields=["counts"])
        record_many(organisation, [kinds.bank_statement_imported(report=report.as_dict(), actor=actor)])
    return report


#: attempts at a batch whose invoices were paid by someone else between its matching and its locks
ATTEMPTS = 5


def _write_batch(organisation: Organisation, file_id: int, lines: list[NewLine], report: StatementImportReport,
                 actor: str) -> int:
    """Store and match one batch of credit lines in its own transaction, in the lock order of
    ``relance/locks.py``: the lines are matched first (reading), then the invoices the
    matches pay and their customers' are locked (by id), then the organisation row; if one of
    them was paid meanwhile, the batch is matched again. Lines already stored — by another
    statement (a duplicate, returned in the count) or by this file before an interruption
    (counted as stored then) — are skipped."""
    for attempt in range(1, ATTEMPTS + 1):
        stored = dict(BankTransaction.objects.filter(organisation=organisation,
                                                     fingerprint__in=[c.fingerprint for c in lines])
                      .values_list("fingerprint", "statement_file_id"))
        fresh = [replace(c) for c in lines if c.fingerprint not in stored]
        decisions = decide_new_lines(organisation, fresh, actor)
        customers = {d.customer_id for d in decisions if d.customer_id is not None}
        paid = {part.invoice_id for d in decisions for part in d.allocations}
        try:
            with transaction.atomic():
                lock_invoices(paid | set(customer_invoice_ids(organisation, customers)))
                lock_organisation(organisation)
                again = set(BankTransaction.objects.filter(organisation=organisation,
                                                           fingerprint__in=[c.fingerprint for c in fresh])
                            .values_list("fingerprint", flat=True))
                if again:  # another import stored some of them between the reading and the locks
                    raise _Stale
                store_lines(organisation, file_id, fresh)
                outcome = match_lines(organisation, fresh, decisions, actor=actor)
        except (_Stale, Conflict):
            if attempt == ATTEMPTS:
                raise
            continue
        report.matched += outcome.matched
        report.to_review += outcome.to_review
        report.unmatched += outcome.unmatched
        report.amount_matched += outcome.amount_matched
        report.payments += outcome.payments
        ours = [f for f, file in stored.items() if file == file_id]
        if ours:  # stored by this file before an interruption: counted as they stand
            for status, amount in BankTransaction.objects.filter(
                    organisation=organisation, fingerprint__in=ours).values_list("status", "amount"):
                if status == BankTransaction.Status.MATCHED:
                    report.matched += 1
                    report.amount_matched += amount
                elif status == BankTransaction.Status.TO_REVIEW:
                    report.to_review += 1
                else:
                    report.unmatched += 1
        return len(stored) - len(ours)
    raise AssertionError("unreachable")


class _Stale(Exception):
    """A batch's reading went out of date before its locks: it is read again."""


def _where(line: BankLine) -> tuple[int | None, str | None]:
    where = line.line_no_or_element
    if isinstance(where, int):
        return where, None
    return None, where or None
