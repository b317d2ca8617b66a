"""Import the open customer items of a FEC into the ledger (issue #4).

The parser (``core.formats.fec``) gives, for every customer account of the prefix
(``411`` by default), its open items — unlettered lines and the residuals of partial
letterings, see the notes there — and how the lines of the invoices imported earlier
are lettered in this file. The import turns them into the ledger, all-or-nothing (one
transaction; any anomaly of the file, such as an entry that does not balance, rejects it
whole) and idempotent (a file already imported, recognised by its SHA-256, changes
nothing):

* **Customers.** The sub-ledger account (CompAuxNum), failing that the individual 411
  account, is the customer code; a customer of that code already in the ledger (CSV
  import) is the same customer and keeps its name. Customers guessed from entry labels
  (collective account only) get a code « FEC-<NOM> » and an alias (``CustomerAlias``
  FEC_LABEL) that :func:`map_fec_label` points to the right customer.
* **Invoices** are the open debit lines, identified by their key (``source_key``).
  Number: PieceRef; journal-EcritureNum when PieceRef is empty, a placeholder (« x »,
  « - »), shared by several open lines or already another invoice's number. Issue date:
  PieceDate, else EcritureDate. A FEC has no due date (one warning): issue date + the
  customer's terms, else the organisation's.
* **Credits.** An open credit line is an unapplied credit note when it is booked in a
  sales journal (one with lines on 70… accounts) other than the opening entries, else an
  unapplied payment (bank, cash, OD, à-nouveaux). Credits are applied to the customer's
  open FEC invoices, oldest credit first, in the order of C. civ. 1342-10 (a credit whose
  PieceRef is the number of one of those invoices designates it, as in the Quadra
  exports), so that the amounts due of a customer's FEC invoices add up to its open
  balance. What is left stays on the account: a customer in credit is a warning.
* **Partial lettering**: the lettered part of an invoice left partly open is one payment
  (or credit note) « Lettrage partiel FEC <n°> ».
* **Re-import** of a newer FEC of the same company: invoices matched on their key are
  updated (amount, date); an invoice imported earlier that is lettered now — or absent
  from the file and not carried forward in its à-nouveaux — is settled by a payment (or a
  credit note, when lettered against sales-journal credits only) « Lettrage FEC <n°> » of
  what it still owed: ``refresh_balances`` then sends ``invoices_settled``, and dunning
  cancels its pending reminders and plans the thank-you. An open invoice of the previous
  year reappears in the next year's FEC as an à-nouveau line (another key): it is
  recognised by customer and amount, and keeps its number and its dunning history.

The payments and credit notes the importer creates are its own (payment reference,
credit note reason starting with « FEC » or « Lettrage … FEC ») and are brought to what
the latest file says at each import. Payments and credit notes recorded in relance
itself are never touched: they count as already paid.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Max, Q, Sum

from relance import clock
from relance.bulk import chunks, insert_objects, instance, update_by_id
from relance.core.formats.fec import (
    NO_LABEL,
    CustomerAccount,
    FecError,
    FecStats,
    Lettering,
    OpenItem,
    Receivables,
    key_part,
    label_key_suffix,
    name_from_label,
    parse_fec,
    receivables,
)
from relance.core.formats.problems import Problem, os_error_text
from relance.core.formats.receivables import DEFAULT_KINDS
from relance.core.formatting import long_date, money, number
from relance.core.law import Debt, allocation_order
from relance.core.money import ZERO, to_cents
from relance.errors import Conflict, ImportRejected, InvalidInput, NotFound
from relance.events import kinds
from relance.events.services import NewEvent, record_many
from relance.ledger.models import (
    Allocation,
    CreditNote,
    Customer,
    CustomerAlias,
    ImportBatch,
    Invoice,
    Organisation,
    Payment,
    Source,
)
from relance.ledger.signals import collective_holds, invoices_moved, invoices_settled
from relance.locks import lock_ledger, lock_organisation

from .balances import refresh_balances
from .references import assign_references

CREDIT_PREFIX = "FEC "  # + the key of an unapplied credit line
PARTIAL_PREFIX = "Lettrage partiel FEC "  # + the number of the invoice left partly open
SETTLED_PREFIX = "Lettrage FEC "  # + the number of the invoice closed by a re-import
PAYMENT, CREDIT_NOTE = "payment", "credit_note"
MAX_LISTED = 10
CHUNK = 2000
LABEL_CODE_PREFIX = "FEC-"

COUNT_NAMES = (
    "customers_created", "customers_updated", "customers_unchanged", "aliases_created",
    "invoices_created", "invoices_updated", "invoices_unchanged", "invoices_adopted", "invoices_carried_forward",
    "invoices_closed", "invoices_reopened",
    "payments_created", "payments_updated", "payments_removed",
    "credit_notes_created", "credit_notes_updated", "credit_notes_removed",
    "credits_applied",
)



# --------------------------------------------------------------------------- report


@dataclass
class Unattributed:
    """The credits (payments, credit notes) of one collective account that settle no invoice of the
    customer their entry label names (:func:`unattributed_credits`)."""

    account: str  # "" when the account cannot be read back (a credit whose key was too long)
    amount: Decimal = ZERO  # what is left unapplied of them
    count: int = 0
    labels: dict[str, Decimal] = field(default_factory=dict)  # label name -> amount left unapplied
    lines: list[int] = field(default_factory=list)  # their FEC line numbers (known during an import)
    customers: int = 0  # customers of the account paused until the credits are assigned
    idents: list[str] = field(default_factory=list, repr=False)  # their references (payments) or reasons

    @property
    def where(self) -> str:
        return f"le compte collectif {self.account}" if self.account else "un compte collectif"

    @property
    def example(self) -> str:
        """The label holding the largest amount, to show how to assign it."""
        return self.ranked[0][0] if self.labels else NO_LABEL

    @property
    def ranked(self) -> list[tuple[str, Decimal]]:
        return sorted(self.labels.items(), key=lambda item: (-item[1], item[0]))

    def as_dict(self) -> dict[str, Any]:
        return {"account": self.account, "amount": f"{to_cents(self.amount):.2f}", "count": self.count,
                "lines": list(self.lines), "customers_paused": self.customers,
                "labels": [{"label": name, "amount": f"{to_cents(amount):.2f}"}
                           for name, amount in self.ranked]}

    def as_text(self) -> str:
        labels = ", ".join(f"« {name} » {money(amount)}" for name, amount in self.ranked[:MAX_LISTED])
        more = f" et {len(self.labels) - MAX_LISTED} autre(s)" if len(self.labels) > MAX_LISTED else ""
        lines = ""
        if self.lines:
            shown = ", ".join(str(n) for n in self.lines[:MAX_LISTED])
            lines = f" (ligne{'s' if len(self.lines) > 1 else ''} {shown}{'…' if len(self.lines) > MAX_LISTED else ''})"
        example = self.example
        return (f"Règlements non attribués sur {self.where} : {money(self.amount)} en {_n(self.count)} écriture(s)"
                f"{lines} ne soldent aucune facture du client que nomme leur libellé ({labels}{more}) ; ils ont pu "
                f"payer des factures d’autres clients de ce compte. Ses {_n(self.customers)} client(s) avec des "
                "factures ouvertes sont en pause, sans relance automatique, jusqu’à l’affectation de ces règlements : "
                f"rattachez chaque libellé au bon client (relance alias fec-label \"{example}\" CODE_CLIENT) ou "
                "corrigez la comptabilité puis réimportez le FEC ; la pause est alors levée d’elle-même.")


@dataclass
class FecImportReport:
    file: str
    customer_prefix: str = "411"
    already_imported: bool = False
    lines: int = 0
    entries: int = 0
    first_date: date | None = None
    last_date: date | None = None
    customers: int = 0  # customer accounts with open items in the file
    open_invoices: int = 0
    open_credits: int = 0
    open_amount: Decimal = ZERO  # Σ debit − credit of the open customer lines (residuals of partial letterings)
    applied_amount: Decimal = ZERO  # of the unapplied credits, the part applied to invoices
    warnings: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    default_kind: str | None = None  # « entreprise » or « particulier », given for this import
    defaulted: int = 0  # new customers that took it
    unattributed: list[Unattributed] = field(default_factory=list)  # by collective account

    def as_dict(self) -> dict[str, Any]:
        return {
            "default_kind": self.default_kind,
            "defaulted": self.defaulted,
            "file": self.file,
            "already_imported": self.already_imported,
            "customer_prefix": self.customer_prefix,
            "lines": self.lines,
            "entries": self.entries,
            "period": [self.first_date.isoformat(), self.last_date.isoformat()]
            if self.first_date and self.last_date else None,
            "customers": self.customers,
            "open_invoices": self.open_invoices,
            "open_credits": self.open_credits,
            "open_amount": f"{to_cents(self.open_amount):.2f}",
            "applied_amount": f"{to_cents(self.applied_amount):.2f}",
            **{name: self.counts.get(name, 0) for name in COUNT_NAMES},
            "unattributed": [u.as_dict() for u in self.unattributed],
            "warnings": list(self.warnings),
        }

    def as_text(self) -> str:
        if self.already_imported:
            return f"FEC « {self.file} » : déjà importé, rien n’a changé."
        c = self.counts
        period = ""
        if self.first_date and self.last_date:
            period = f", du {long_date(self.first_date)} au {long_date(self.last_date)}"
        out = [
            f"FEC « {self.file} » : {_n(self.lines)} lignes, {_n(self.entries)} écritures{period}.",
            f"Créances ouvertes (comptes {self.customer_prefix}…) : {money(self.open_amount)} — "
            f"{_n(self.open_invoices)} facture(s), {_n(self.open_credits)} règlement(s) ou avoir(s) non lettré(s), "
            f"{_n(self.customers)} client(s).",
            f"Clients : {_n(c['customers_created'])} créé(s), {_n(c['customers_updated'])} mis à jour"
            + (f" ; type par défaut donné pour cet import : {self.default_kind} ({_n(self.defaulted)} nouveau(x) "
               "client(s))." if self.default_kind else "."),
            f"Factures : {_n(c['invoices_created'])} créée(s), {_n(c['invoices_updated'])} modifiée(s), "
            f"{_n(c['invoices_closed'])} soldée(s) par lettrage, {_n(c['invoices_reopened'])} rouverte(s).",
            f"Règlements et avoirs : {_n(c['payments_created'] + c['credit_notes_created'])} enregistré(s), "
            f"{_n(c['payments_removed'] + c['credit_notes_removed'])} retiré(s) (lettrés depuis), "
            f"{money(self.applied_amount)} imputés sur les factures.",
        ]
        out += [u.as_text() for u in self.unattributed]
        if self.warnings:
            out.append("Avertissements :")
            out += [f"  – {w}" for w in self.warnings]
        return "\n".join(out)


def _n(value: int) -> str:
    return number(Decimal(value), digits=0)


# --------------------------------------------------------------------------- identities


def credit_ident(key: str) -> str:
    """The reference (payment) or reason (credit note) of an unapplied credit line."""
    ident = CREDIT_PREFIX + key
    if len(ident) <= 100:  # Payment.reference
        return ident
    at = key.find("|L=")
    suffix = key[at:] if at >= 0 else ""
    return f"{CREDIT_PREFIX}#{hashlib.blake2b(key.encode(), digest_size=8).hexdigest()}{suffix}"


def _role(ident: str) -> str:
    """« C » unapplied credit, « P » partial lettering, « S » settlement of a closed invoice."""
    if ident.startswith(PARTIAL_PREFIX):
        return "P"
    if ident.startswith(SETTLED_PREFIX):
        return "S"
    return "C"


def _designated_piece(ident: str) -> str:
    """The PieceRef of an unapplied credit, read back from its identity ("" when hashed)."""
    parts = ident[len(CREDIT_PREFIX):].split("|")
    return parts[4].split("#")[0] if len(parts) >= 5 and not ident.startswith(CREDIT_PREFIX + "#") else ""


def _key_account(key: str) -> str:
    parts = key.split("|")
    return parts[2] if len(parts) > 2 else ""


_PLACEHOLDERS = {"na", "nc", "n/a", "sans", "neant", "néant", "aucun", "aucune", "divers", "report", "an"}


def _meaningful(ref: str) -> bool:
    """A PieceRef that can be an invoice number: not « x », « - », « 0 », « AN »…"""
    ref = ref.strip()
    if not ref or ref.lower() in _PLACEHOLDERS or not any(ch.isalnum() for ch in ref):
        return False
    if any(ch.isdigit() for ch in ref):
        return ref.strip("0") != ""
    return len(ref) >= 3 and len(set(ref.lower())) > 1


def _entry_ref(journal: str, entry: str) -> str:
    return entry if entry.upper().startswith(journal.upper()) else f"{journal}-{entry}"


def _rf(reference: str) -> str:
    """``make_rf_lenient(reference)`` of ``core.references`` (ISO 11649), or "" when it raises,
    in a tenth of the time (no second normalisation, no re-validation): the payload is the
    letters and digits, upper case, at most 21; the check digits make ``payload + "RF" +
    check`` ≡ 1 (mod 97), letters counting 10 to 35. A test holds the two equal."""
    if not reference.isascii():
        reference = unicodedata.normalize("NFKD", reference).encode("ascii", "ignore").decode("ascii")
    payload = _NOT_ALNUM.sub("", reference).upper()
    if not payload or len(payload) > 21:
        return ""
    check = 98 - int("".join(_RF_DIGITS[c] for c in payload + "RF00")) % 97
    return f"RF{check:02d}{payload}"


_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]")
_RF_DIGITS = {c: str(i) for i, c in enumerate("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")}


def _local_today(organisation: Organisation) -> date:
    return clock.now().astimezone(ZoneInfo(organisation.timezone)).date()


# --------------------------------------------------------------------------- ledger state


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


# --------------------------------------------------------------------------- import


def import_fec(organisation: Organisation, path: Path, *, customer_prefix: str = "411",
               actor: str = "import", default_kind: str | None = None) -> FecImportReport:
    """Import the open customer items of the FEC at ``path`` (see the module docstring).

    A FEC does not say whether a customer is a business or a consumer, and relance never
    guesses it: new customers take ``default_kind`` (« entreprise » or « particulier »), given
    explicitly for the import and stated in its report; without it, a FEC that would create
    customers is refused (customers already known keep their kind).

    Raises :class:`ImportRejected` (nothing imported) when the file cannot be read, is
    not a FEC, has an anomaly (an entry that does not balance, a line that cannot be
    read…) or has no line on the customer accounts; :class:`InvalidInput` for a bad
    prefix.
    """
    path = Path(path)
    prefix = customer_prefix.strip()
    if not prefix or not prefix.isalnum() or len(prefix) > 20:
        raise InvalidInput(f"préfixe des comptes clients invalide : « {customer_prefix} » (par exemple 411)")
    if default_kind is not None and default_kind not in DEFAULT_KINDS:
        raise InvalidInput(f"type de client par défaut « {default_kind} » inconnu : attendu entreprise ou particulier")
    digest = _sha256(path)
    report = FecImportReport(path.name, prefix, default_kind=default_kind)
    if ImportBatch.objects.filter(organisation=organisation, sha256=digest).exists():
        report.already_imported = True
        return report
    watch = set(Invoice.objects.filter(organisation=organisation).exclude(source_key="")
                .values_list("source_key", flat=True))
    try:
        result = parse_fec(path, stream=True, only_prefix=prefix)
    except FecError as exc:
        raise ImportRejected([exc.problem]) from exc
    rec = receivables(result.lines, prefix, path.name, watch=watch, stats=result.stats)
    if result.problems:
        raise ImportRejected(result.problems)
    stats = result.stats
    if rec.customer_lines == 0:
        raise ImportRejected([Problem(path.name, None, "CompteNum", (
            f"aucune écriture sur un compte client commençant par « {prefix} » : vérifiez le préfixe des comptes "
            "clients (4967 chez Tryton, par exemple)"))])
    report.lines, report.entries = stats.lines, stats.entries
    report.first_date, report.last_date = stats.first_date, stats.last_date
    report.customers = len(rec.open_customers)
    report.open_invoices, report.open_credits = len(rec.open_invoices), len(rec.open_credits)
    report.open_amount = rec.open_amount
    with transaction.atomic():
        # one import at a time per organisation; the same file may have been imported meanwhile
        # the lock order (locks.py): a whole-ledger import locks the organisation's invoices first
        lock_ledger(organisation)
        lock_organisation(organisation)
        if ImportBatch.objects.filter(organisation=organisation, sha256=digest).exists():
            return FecImportReport(path.name, prefix, already_imported=True)
        importer = _Importer(organisation, path.name, prefix, actor, rec, stats, report)
        importer.run()
        report.unattributed = _with_lines(sync_collective_holds(organisation, actor), rec)
        ImportBatch.objects.create(organisation=organisation, filename=path.name, sha256=digest, kind="fec",
                                   counts={k: v for k, v in report.counts.items() if v})
        record_many(organisation, [kinds.import_completed(report=report.as_dict(), actor=actor)])
    return report


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise ImportRejected([Problem(path.name, None, None, f"fichier illisible : {os_error_text(exc)}")]) from exc
    return digest.hexdigest()


@dataclass(slots=True)
class _Match:
    """An open invoice of the file and its invoice in the ledger."""

    customer_id: int
    item: OpenItem
    inv: _Inv
    how: str  # "key", "new", "carried" (à-nouveau of an earlier FEC) or "adopted" (same number, CSV)


class _Importer:
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
        self.today = _local_today(organisation)
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

    def run(self) -> None:
        self._siren_warning()
        self.refs = _References(self.org)
        self._customers()
        owned = _Owned.load(self.org)
        matches = self._invoices(owned)
        self._records(owned, matches)
        applied = _reallocate(self.org, set(self.customer_of.values()))
        self.touched |= applied.touched
        self.report.applied_amount = applied.amount
        self.counts["credits_applied"] = applied.credits
        self.events += _credit_events(applied, self.actor, self.created_credits, self.updated_credits)
        settled = self._settle_new()
        self.events += self._imported_events()
        record_many(self.org, self.events)
        if settled:
            invoices_settled.send(sender=Invoice, organisation=self.org, invoice_ids=settled, on=None)
        for chunk in chunks(sorted(self.touched - self.new_ids)):
            refresh_balances(self.org, chunk, actor=self.actor)
        assign_references(self.org)  # what _References could not give (number already used, not encodable)
        self._warnings()

    def _settle_new(self) -> list[int]:
        """The amount due and state of the invoices created by this import, derived from the
        allocations made in the same import — what ``refresh_balances`` computes — and written
        with one statement (``refresh_balances`` writes with ``bulk_update``, slow on tens of
        thousands of rows). Brand-new invoices have no reminder yet: settled ones are written
        « terminé » at once; ``invoices_settled`` is still sent for them. Returns those ids."""
        ids = sorted(self.new_ids & self.touched)
        rows: list[tuple[Any, ...]] = []
        settled: list[int] = []
        ops = connection.ops
        for chunk in chunks(ids, 5000):
            sums = (Allocation.objects.filter(invoice_id__in=list(chunk)).values("invoice_id")
                    .annotate(paid=Sum("amount", filter=Q(payment__isnull=False)),
                              credited=Sum("amount", filter=Q(credit_note__isnull=False)), last=Max("date")))
            for row in sums:
                invoice = self.new_invoices[row["invoice_id"]]
                paid, credited = row["paid"] or ZERO, row["credited"] or ZERO
                due = invoice.amount_incl_tax - paid - credited
                if due < 0:
                    raise Conflict(f"facture {invoice.number} : les règlements et avoirs affectés dépassent son montant")
                if due == 0:
                    invoice.status = (Invoice.Status.CREDITED if credited >= invoice.amount_incl_tax
                                      else Invoice.Status.PAID)
                    invoice.settled_on, invoice.dunning_state = row["last"], Invoice.Dunning.DONE
                    settled.append(invoice.pk)
                invoice.amount_due = due
                rows.append((ops.adapt_decimalfield_value(to_cents(due), 14, 2), invoice.status,
                             ops.adapt_datefield_value(invoice.settled_on), invoice.dunning_state, invoice.pk))
        update_by_id(Invoice, ("amount_due", "status", "settled_on", "dunning_state"), rows)
        return settled

    def _imported_events(self) -> list[NewEvent]:
        events = []
        for invoice in self.new_invoices.values():
            more: dict[str, Any] = {"source": "fec", "key": invoice.source_key}
            if invoice.amount_due != invoice.amount_incl_tax:
                more.update(amount_due=invoice.amount_due, status=invoice.status, settled_on=invoice.settled_on)
            events.append(kinds.invoice_imported(customer_id=invoice.customer_id, invoice_id=invoice.pk,
                                                 number=invoice.number, amount=invoice.amount_incl_tax,
                                                 due_date=invoice.due_date, actor=self.actor, **more))
        return events

    # ------------------------------------------------------------------ customers

    def _siren_warning(self) -> None:
        found = re.search(r"(\d{9})FEC\d{8}", self.filename, re.IGNORECASE)
        siren = self.org.siren
        if found and siren and found.group(1) != siren:
            self.report.warnings.append(
                f"le nom du fichier indique le SIREN {found.group(1)}, celui de l’organisation est {siren} : "
                "vérifiez qu’il s’agit bien du FEC de cette société")

    def _customers(self) -> None:
        org, actor = self.org, self.actor
        accounts = self.rec.customers
        too_long = [c for c in accounts if c.source != "label" and len(c.code) > 50]
        if too_long:
            raise ImportRejected([Problem(self.filename, c.open_items[0].line.line_no if c.open_items else None,
                                          "CompAuxNum", f"code client trop long (plus de 50 caractères) : {c.code}")
                                  for c in too_long])
        existing = {code: (pk, name) for code, pk, name in Customer.objects.filter(organisation=org)
                    .values_list("code", "id", "legal_name")}
        self.terms = {pk: terms for pk, terms in Customer.objects.filter(organisation=org, terms_days__isnull=False)
                      .values_list("id", "terms_days") if terms is not None}
        aliases = dict(CustomerAlias.objects.filter(
            organisation=org, kind=CustomerAlias.Kind.FEC_LABEL,
            value__in=[c.code[:200] for c in accounts if c.source == "label"]).values_list("value", "customer_id"))
        new: list[tuple[CustomerAccount, Customer]] = []
        renamed: list[Customer] = []
        taken = set(existing)
        for account in accounts:
            if account.source == "label":
                customer_id = aliases.get(account.code[:200])
                if customer_id is not None:
                    self.customer_of[id(account)] = customer_id
                    self.counts["customers_unchanged"] += bool(account.open_items)
                elif account.open_items:
                    code = _label_code(account.name, taken)
                    taken.add(code)
                    new.append((account, instance(Customer, organisation_id=org.pk, code=code,
                                              legal_name=account.name[:200],
                                              payment_reference=self.refs.pick(f"C{code}"))))
                continue
            found = existing.get(account.code)
            if found is None:
                if account.open_items:
                    new.append((account, instance(Customer, organisation_id=org.pk, code=account.code,
                                              legal_name=account.name[:200],
                                              payment_reference=self.refs.pick(f"C{account.code}"))))
                continue
            pk, name = found
            self.customer_of[id(account)] = pk
            if not account.open_items:
                continue
            if name == account.code and account.name != account.code:  # a placeholder name gets the FEC's
                renamed.append(Customer(pk=pk, legal_name=account.name[:200]))
            else:
                self.counts["customers_unchanged"] += 1
        if new and self.report.default_kind is None:
            raise ImportRejected([Problem(self.filename, None, None, (
                f"{len(new)} nouveau(x) client(s) (par exemple « {new[0][1].legal_name} ») : le FEC ne dit pas "
                "s’ils sont des entreprises ou des particuliers, et relance ne le devine pas ; donnez le type par "
                "défaut de cet import (--type-par-defaut entreprise|particulier, ou le champ « Type de client par "
                "défaut » de la page Importer), ou importez d’abord vos clients avec leur type (CSV)"))])
        if new:
            is_business = DEFAULT_KINDS[self.report.default_kind or "entreprise"]
            for _a, c in new:
                c.is_business = is_business
            self.report.defaulted = len(new)
        insert_objects(Customer, [c for _a, c in new], ("organisation", "code"))
        Customer.objects.bulk_update(renamed, ["legal_name"], batch_size=500)
        new_aliases = []
        for account, customer in new:
            self.customer_of[id(account)] = customer.pk
            if account.source == "label":
                new_aliases.append(CustomerAlias(organisation=org, customer=customer,
                                                 kind=CustomerAlias.Kind.FEC_LABEL, value=account.code[:200]))
        CustomerAlias.objects.bulk_create(new_aliases, batch_size=1000)
        self.counts["customers_created"] += len(new)
        self.counts["customers_updated"] += len(renamed)
        self.counts["aliases_created"] += len(new_aliases)
        self.events += [kinds.customer_alias_created(customer_id=a.customer_id, kind=a.kind, value=a.value,
                                                     actor=actor) for a in new_aliases]
        self.events += [kinds.customer_updated(customer_id=c.pk, legal_name=c.legal_name, source="fec", actor=actor)
                        for c in renamed]

    def _due(self, customer_id: int, issued: date) -> date:
        return issued + timedelta(days=self.terms.get(customer_id, self.org.default_terms_days))

    # ------------------------------------------------------------------ invoices

    def _invoices(self, owned: _Owned) -> list[_Match]:
        """Match the open invoices of the file with the ledger, create and update them,
        and find the invoices of earlier imports to settle (``closing``)."""
        org, rec = self.org, self.rec
        rows = [_Inv(*r) for r in Invoice.objects.filter(organisation=org).values_list(
            "id", "number", "customer_id", "source_key", "issue_date", "due_date", "amount_incl_tax", "amount_due",
            "status", "description", "next_action_date")]
        by_key = {r.key: r for r in rows if r.key}
        by_number = {r.number: r for r in rows}
        self.key_of = {r.id: r.key for r in rows if r.key}
        settled = owned.settled_invoices()
        partial = {r.invoice_id: r.amount for r in owned.records.values()
                   if r.invoice_id is not None and _role(r.ident) == "P"}
        matches: list[_Match] = []
        pending: list[tuple[int, OpenItem]] = []
        for account in rec.customers:
            customer_id = self.customer_of.get(id(account))
            if customer_id is None:
                continue
            for item in account.open_items:
                if item.open <= 0:
                    continue
                inv = by_key.get(item.key)
                if inv is not None:
                    matches.append(_Match(customer_id, item, inv, "key"))
                else:
                    pending.append((customer_id, item))
        matched = {m.inv.id for m in matches}
        candidates = [inv for inv in by_key.values() if inv.id not in matched and inv.id not in settled
                      and _key_account(inv.key).startswith(self.prefix)]
        # an open invoice of an earlier FEC, carried forward in this one's opening entries (another key)
        openings: dict[int, list[tuple[int, OpenItem]]] = defaultdict(list)
        for customer_id, item in pending:
            if item.line.journal in rec.opening_journals:
                openings[customer_id].append((customer_id, item))
        taken_items: set[str] = set()
        for inv in sorted(candidates, key=lambda i: (i.issue_date, i.id)):
            choice = None
            if inv.key not in rec.lettered:
                choice = _carried_forward(inv, openings.get(inv.customer_id, []), partial.get(inv.id, ZERO))
            if choice is None:
                self.closing.append(inv)
                continue
            openings[inv.customer_id].remove(choice)
            taken_items.add(choice[1].key)
            matches.append(_Match(choice[0], choice[1], inv, "carried"))
        # an invoice already in the ledger (CSV) with the same number and customer is the same invoice
        still: list[tuple[int, OpenItem]] = []
        for customer_id, item in pending:
            if item.key in taken_items:
                continue
            inv = by_number.get(item.line.piece_ref[:50])
            if (inv is not None and not inv.key and inv.customer_id == customer_id
                    and _meaningful(item.line.piece_ref) and inv.id not in matched):
                matched.add(inv.id)
                matches.append(_Match(customer_id, item, inv, "adopted"))
            else:
                still.append((customer_id, item))
        self._update(matches, owned)
        matches += self._create(still, set(by_number))
        return matches

    def _update(self, matches: list[_Match], owned: _Owned) -> None:
        """Bring the matched invoices to the file. An invoice found again under another key
        (à-nouveau, or a CSV invoice of the same number) only gets the key: its dates and
        amount stay those of its first import."""
        paid_outside = owned.paid_outside()
        problems: list[Problem] = []
        changed: list[Invoice] = []
        for m in matches:
            inv, item, line = m.inv, m.item, m.item.line
            diff: dict[str, tuple[Any, Any]] = {}
            if inv.key != item.key:
                diff["source_key"] = (inv.key, item.key)
            if m.how == "key":
                amount = to_cents(item.amount)
                if amount != inv.amount:
                    if paid_outside.get(inv.id, ZERO) > amount:
                        problems.append(Problem(self.filename, line.line_no, "Debit", (
                            f"facture {inv.number} : {money(amount)} est inférieur aux règlements et avoirs déjà "
                            f"enregistrés dans relance ({money(paid_outside[inv.id])})")))
                        continue
                    diff["amount_incl_tax"] = (inv.amount, amount)
                if line.issued != inv.issue_date:
                    diff["issue_date"] = (inv.issue_date, line.issued)
                if m.customer_id != inv.customer_id:
                    diff["customer_id"] = (inv.customer_id, m.customer_id)
                if "issue_date" in diff or "customer_id" in diff:
                    due = self._due(m.customer_id, line.issued)
                    if due != inv.due_date:
                        diff["due_date"] = (inv.due_date, due)
                if line.label[:300] != inv.description:
                    diff["description"] = (inv.description, line.label[:300])
            if not diff:
                self.counts["invoices_unchanged"] += 1
                continue
            for name, (_old, new) in diff.items():
                setattr(inv, {"amount_incl_tax": "amount", "source_key": "key"}.get(name, name), new)
            if "due_date" in diff or "customer_id" in diff:
                inv.next_action_date = None  # the planner reschedules it
            if "amount_incl_tax" in diff:
                self.touched.add(inv.id)
            self.key_of[inv.id] = inv.key
            changed.append(Invoice(pk=inv.id, customer_id=inv.customer_id, issue_date=inv.issue_date,
                                   due_date=inv.due_date, amount_incl_tax=inv.amount, description=inv.description,
                                   source_key=inv.key, next_action_date=inv.next_action_date))
            self.counts[{"key": "invoices_updated", "carried": "invoices_carried_forward",
                         "adopted": "invoices_adopted"}[m.how]] += 1
            self.events.append(kinds.invoice_updated(
                customer_id=inv.customer_id, invoice_id=inv.id, number=inv.number, source="fec", match=_HOW[m.how],
                changes={k: [o, n] for k, (o, n) in diff.items()}, actor=self.actor))
        if problems:
            raise ImportRejected(problems)
        Invoice.objects.bulk_update(changed, ["customer_id", "issue_date", "due_date", "amount_incl_tax",
                                              "description", "source_key", "next_action_date"], batch_size=500)

    def _create(self, pending: list[tuple[int, OpenItem]], taken: set[str]) -> list[_Match]:
        org = self.org
        wanted = Counter(i.line.piece_ref[:50] for _c, i in pending if _meaningful(i.line.piece_ref))
        new: list[tuple[int, OpenItem, Invoice]] = []
        for customer_id, item in pending:
            line = item.line
            number = line.piece_ref[:50]
            if not (_meaningful(number) and wanted[number] == 1 and number not in taken):
                number = _free(_entry_ref(line.journal, line.entry_num)[:44], taken)
                self.fallback_numbers += 1
            taken.add(number)
            amount = to_cents(item.amount)
            description = line.label[:300] or ("À-nouveau" if line.journal in self.rec.opening_journals else "")
            new.append((customer_id, item, instance(
                Invoice, organisation_id=org.pk, customer_id=customer_id, number=number, issue_date=line.issued,
                due_date=self._due(customer_id, line.issued), amount_incl_tax=amount, amount_due=amount,
                description=description, source=Source.FEC, source_key=item.key,
                payment_reference=self.refs.pick(number))))
        insert_objects(Invoice, [i for _c, _it, i in new], ("organisation", "number"))
        self.counts["invoices_created"] += len(new)
        out = []
        for customer_id, item, i in new:
            self.key_of[i.pk] = item.key
            self.new_invoices[i.pk] = i
            out.append(_Match(customer_id, item, _Inv(i.pk, i.number, customer_id, item.key, i.issue_date,
                                                      i.due_date, i.amount_incl_tax, i.amount_due, i.status,
                                                      i.description, None), "new"))
        self.new_ids = set(self.new_invoices)
        return out

    # ------------------------------------------------------------------ payments and credit notes

    def _kind(self, journals: Iterable[str]) -> str:
        """Credit notes come from sales journals; payments from the others (bank, cash, OD, à-nouveaux)."""
        journals = set(journals)
        sales = self.rec.sales_journals - self.rec.opening_journals
        return CREDIT_NOTE if journals and journals <= sales else PAYMENT

    def _records(self, owned: _Owned, matches: list[_Match]) -> None:
        """Bring the importer's payments and credit notes to what the file says: one per
        unapplied credit line (allocated afterwards, :func:`_reallocate`), one per partial
        lettering, one per invoice closed by this import."""
        rec = self.rec
        paid_outside = owned.paid_outside()
        target: dict[str, _Rec] = {}
        for account in rec.customers:
            customer_id = self.customer_of.get(id(account))
            if customer_id is None:
                continue
            for item in account.open_items:
                if item.open >= 0:
                    continue
                line = item.line
                ident = credit_ident(item.key)
                opening = line.journal in rec.opening_journals
                number = line.piece_ref if _meaningful(line.piece_ref) else _entry_ref(line.journal, line.entry_num)
                target[ident] = _Rec(self._kind([line.journal]), None, ident, customer_id, line.issued,
                                     to_cents(-item.open), "report à nouveau (FEC)" if opening else "non lettré (FEC)",
                                     number[:46])
        for m in matches:
            # lettered in the accounts, not recorded in relance
            settled = m.inv.amount - paid_outside.get(m.inv.id, ZERO) - to_cents(m.item.open)
            if settled <= 0:
                continue
            info = rec.partial.get(m.item.group)
            ident = PARTIAL_PREFIX + m.inv.number
            target[ident] = _Rec(self._kind(info.credit_journals if info else ()), None, ident, m.customer_id,
                                 info.on if info and info.on else m.item.line.issued, settled,
                                 f"lettrage partiel {info.letter} (FEC)"[:40] if info else "lettrage partiel (FEC)",
                                 f"LET-{m.inv.number}"[:46], invoice_id=m.inv.id)
        for inv in self.closing:
            due = inv.amount - paid_outside.get(inv.id, ZERO)
            if due <= 0:
                continue
            lettering: Lettering | None = rec.lettered.get(inv.key)
            if lettering is None:
                self.absent.append(inv)
            ident = SETTLED_PREFIX + inv.number
            on = (lettering.on if lettering and lettering.on else self.stats.last_date) or self.today
            target[ident] = _Rec(self._kind(lettering.credit_journals if lettering else ()), None, ident,
                                 inv.customer_id, on, due,
                                 f"lettrage {lettering.letter} (FEC)"[:40] if lettering else "absente du FEC",
                                 f"LET-{inv.number}"[:46], invoice_id=inv.id)
        scope = set(self.customer_of.values())
        open_ids = {m.inv.id for m in matches}
        closing_ids = {inv.id for inv in self.closing}
        managed: dict[str, _Rec] = {}
        for ident, record in owned.records.items():
            role = _role(ident)
            invoice_id = record.invoice_id
            if role == "C":
                # a credit of an account of this prefix that the file no longer has open (lettered, or
                # under another customer: a label corrected in the accounts) goes, like the invoices
                credit_account = _credit_account(ident)
                mine = credit_account.startswith(self.prefix) if credit_account else record.customer_id in scope
            elif role == "P":
                mine = invoice_id is None or _key_account(self.key_of.get(invoice_id, "")).startswith(self.prefix)
            else:
                mine = invoice_id is None or invoice_id in open_ids or invoice_id in closing_ids
            if mine:
                managed[ident] = record
        self._apply(target, managed, owned)

    def _apply(self, target: dict[str, _Rec], managed: dict[str, _Rec], owned: _Owned) -> None:
        remove: list[_Rec] = []
        create: list[_Rec] = []
        update: list[tuple[_Rec, _Rec]] = []
        for ident in sorted(set(target) | set(managed)):
            new, old = target.get(ident), managed.get(ident)
            if old is None and ident in owned.records:  # owned, outside this import's scope: replaced
                old = owned.records[ident]
            if new is None:
                assert old is not None
                remove.append(old)
            elif old is None:
                create.append(new)
            elif new.kind != old.kind:
                remove.append(old)
                create.append(new)
            elif (new.amount, new.on, new.customer_id, new.method if new.kind == PAYMENT else "") != (
                    old.amount, old.on, old.customer_id, old.method if old.kind == PAYMENT else ""):
                new.id, new.number = old.id, old.number
                update.append((old, new))
        self._remove(remove, owned)
        self._create_records(create)
        self._update_records(update, owned)

    def _remove(self, remove: list[_Rec], owned: _Owned) -> None:
        for kind, model in ((PAYMENT, Payment), (CREDIT_NOTE, CreditNote)):
            ids = [r.id for r in remove if r.kind == kind]
            for chunk in chunks(ids):
                # their allocations go with them (on_delete=CASCADE)
                model.objects.filter(organisation=self.org, pk__in=list(chunk)).delete()  # type: ignore[attr-defined]
        removed = {(r.kind, r.id) for r in remove}
        for invoice_id, kind, record_id, _amount in owned.allocations.values():
            if (kind, record_id) in removed:
                self.touched.add(invoice_id)
        for record in remove:
            role = _role(record.ident)
            self.counts["invoices_reopened"] += role == "S"
            self.counts[f"{record.kind}s_removed"] += 1
            self.events.append(kinds.accounting_entry(
                kinds.ACCOUNTING_ENTRIES[(record.kind, "removed")], customer_id=record.customer_id,
                reference=record.ident, number=record.number, amount=record.amount, source="fec",
                role=_ROLES[role], actor=self.actor,
                reason="lettré dans la comptabilité" if role == "C" else "plus soldée dans la comptabilité"))

    def _create_records(self, create: list[_Rec]) -> None:
        org = self.org
        numbers = set(CreditNote.objects.filter(organisation=org).values_list("number", flat=True))
        objects: list[tuple[_Rec, Payment | CreditNote]] = []
        for r in create:
            if r.kind == PAYMENT:
                objects.append((r, instance(Payment, organisation_id=org.pk, customer_id=r.customer_id,
                                        reference=r.ident, date=r.on, amount=r.amount, method=r.method[:40])))
            else:
                r.number = _free(r.number or "AV-FEC", numbers)
                numbers.add(r.number)
                objects.append((r, instance(CreditNote, organisation_id=org.pk, customer_id=r.customer_id,
                                        number=r.number, issue_date=r.on, amount_incl_tax=r.amount,
                                        reason=r.ident)))
        insert_objects(Payment, [o for _r, o in objects if isinstance(o, Payment)], ("organisation", "reference"))
        insert_objects(CreditNote, [o for _r, o in objects if isinstance(o, CreditNote)], ("organisation", "number"))
        allocations: list[Allocation] = []
        for r, obj in objects:
            r.id = obj.pk
            self.counts[f"{r.kind}s_created"] += 1
            if r.invoice_id is not None:  # partial lettering, settlement: on its one invoice
                allocations.append(instance(Allocation, organisation_id=org.pk, invoice_id=r.invoice_id,
                                        amount=r.amount, date=r.on,
                                        payment_id=obj.pk if isinstance(obj, Payment) else None,
                                        credit_note_id=obj.pk if isinstance(obj, CreditNote) else None))
                self.touched.add(r.invoice_id)
                self.counts["invoices_closed"] += _role(r.ident) == "S"
                self.events.append(self._event(r, "recorded"))
            else:  # an unapplied credit: its event, with its allocations, once they are made
                self.created_credits[(r.kind, cast(int, r.id))] = r
        insert_objects(Allocation, allocations)

    def _update_records(self, update: list[tuple[_Rec, _Rec]], owned: _Owned) -> None:
        allocation_of = {(kind, record_id): (pk, invoice_id)
                         for pk, (invoice_id, kind, record_id, _amount) in owned.allocations.items() if kind}
        payments, notes, allocations = [], [], []
        for old, new in update:
            if new.kind == PAYMENT:
                payments.append(Payment(pk=new.id, customer_id=new.customer_id, date=new.on, amount=new.amount,
                                        method=new.method[:40]))
            else:
                notes.append(CreditNote(pk=new.id, customer_id=new.customer_id, issue_date=new.on,
                                        amount_incl_tax=new.amount))
            found = allocation_of.get((new.kind, new.id or 0))
            if new.invoice_id is not None and found is not None:
                allocations.append(Allocation(pk=found[0], amount=new.amount, date=new.on))
                self.touched.add(found[1])
            self.counts[f"{new.kind}s_updated"] += 1
            if new.invoice_id is None:
                self.updated_credits[(new.kind, cast(int, new.id))] = (old, new)
            else:
                self.events.append(self._event(new, "updated", old))
        Payment.objects.bulk_update(payments, ["customer_id", "date", "amount", "method"], batch_size=500)
        CreditNote.objects.bulk_update(notes, ["customer_id", "issue_date", "amount_incl_tax"], batch_size=500)
        Allocation.objects.bulk_update(allocations, ["amount", "date"], batch_size=500)

    def _event(self, record: _Rec, verb: str, old: _Rec | None = None) -> NewEvent:
        return _record_event(record, verb, self.actor, old, [(cast(int, record.invoice_id), record.amount)])

    # ------------------------------------------------------------------ warnings

    def _warnings(self) -> None:
        rec, warnings, org = self.rec, self.report.warnings, self.org
        if self.report.defaulted and self.report.default_kind == "entreprise":
            warnings.append(
                f"{_n(self.report.defaulted)} nouveau(x) client(s) créé(s) comme entreprises sans SIREN ni SIRET (un "
                "FEC n’en donne pas) : à compléter, ils identifient le débiteur dans une mise en demeure")
        if self.report.open_invoices:
            warnings.append(
                "le FEC ne contient pas d’échéances : chaque facture échoit à sa date de pièce plus le délai de "
                f"paiement du client, à défaut celui de l’organisation ({org.default_terms_days} jours)")
        for acc in rec.collective:
            warnings.append(
                f"compte {acc.account} « {acc.label or 'sans libellé'} » lu comme un compte collectif ({acc.reason}) : "
                f"ses {_n(acc.lines)} ligne(s) sont réparties entre {_n(acc.names)} client(s) déduit(s) du libellé "
                "des écritures")
        guessed = sorted((c for c in rec.customers if c.source == "label" and c.open_items), key=lambda c: -c.balance)
        if guessed:
            listed = ", ".join(f"« {c.code} » ({money(c.balance)})" for c in guessed[:MAX_LISTED])
            warnings.append(
                f"{len(guessed)} client(s) deviné(s) d’après le libellé des écritures (compte collectif sans compte "
                f"auxiliaire), à vérifier : {listed}{_more(guessed)} ; un regroupement erroné se corrige en "
                "associant le libellé au bon client")
        if rec.one_sided_groups:
            side = "débiteur" if rec.one_sided_amount > 0 else "créditeur"
            warnings.append(
                f"{rec.one_sided_groups} lettrage(s) sans contrepartie dans le fichier (solde {side} de "
                f"{money(abs(rec.one_sided_amount))}) : lettrés avec des écritures absentes de ce FEC, considérés "
                "comme soldés")
        if rec.partial_groups:
            warnings.append(f"{rec.partial_groups} lettrage(s) partiel(s) : la partie non lettrée "
                            f"({money(rec.partial_open)}) reste due")
        credit = sorted((c for c in rec.open_customers if c.balance < 0), key=lambda c: c.balance)
        if credit:
            listed = ", ".join(f"« {c.name} » ({c.code}) : {money(-c.balance)}" for c in credit[:MAX_LISTED])
            warnings.append(f"{len(credit)} client(s) au solde créditeur (avoirs ou règlements non imputés), "
                            f"rien à relancer : {listed}{_more(credit)}")
        if self.fallback_numbers:
            warnings.append(f"{self.fallback_numbers} facture(s) numérotée(s) d’après le journal et le numéro "
                            "d’écriture (PieceRef vide, générique, en double ou déjà pris)")
        if self.absent:
            listed = ", ".join(i.number for i in self.absent[:MAX_LISTED])
            warnings.append(f"{len(self.absent)} facture(s) d’un FEC précédent ni ouverte(s), ni lettrée(s), ni "
                            f"reportée(s) à nouveau dans celui-ci, considérée(s) comme soldée(s) : "
                            f"{listed}{_more(self.absent)}")


def _more(items: Sequence[object]) -> str:
    return f" et {len(items) - MAX_LISTED} autre(s)" if len(items) > MAX_LISTED else ""


_HOW = {"key": "même écriture", "carried": "report à nouveau", "adopted": "même numéro", "new": "nouvelle"}
_ROLES = {"C": "non lettré", "P": "lettrage partiel", "S": "lettrage"}


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


class _References:
    """ISO 11649 references given at creation, by the rule of ``services.references`` — from
    the invoice number, from « C » + the customer code — when that one is free; the others
    are left to ``assign_references`` (its fallback needs the database id)."""

    def __init__(self, organisation: Organisation) -> None:
        self.used = set(Invoice.objects.filter(organisation=organisation).exclude(payment_reference="")
                        .values_list("payment_reference", flat=True))
        self.used |= set(Customer.objects.filter(organisation=organisation).exclude(payment_reference="")
                         .values_list("payment_reference", flat=True))

    def pick(self, preferred: str) -> str:
        rf = _rf(preferred)
        if not rf or rf in self.used:
            return ""
        self.used.add(rf)
        return rf


def _label_code(name: str, taken: set[str]) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^A-Z0-9]+", "-", ascii_name.upper()).strip("-") or "SANS-LIBELLE"
    return _free((LABEL_CODE_PREFIX + slug)[:44], taken)


def _free(base: str, taken: set[str]) -> str:
    """``base``, or ``base/2``, ``base/3``… the first one not taken."""
    if base not in taken:
        return base
    n = 2
    while f"{base}/{n}" in taken:
        n += 1
    return f"{base}/{n}"


def _carried_forward(inv: _Inv, openings: list[tuple[int, OpenItem]], partial: Decimal) -> tuple[int, OpenItem] | None:
    """The à-nouveau line that carries ``inv`` forward: same customer and amount (the invoice's,
    or what was left of it), preferring the same PieceRef, then the same date."""
    amounts = {inv.amount, inv.amount - partial, inv.amount_due}
    best: tuple[tuple[bool, bool], tuple[int, OpenItem]] | None = None
    for choice in openings:
        item = choice[1]
        if to_cents(item.amount) not in amounts and to_cents(item.open) not in amounts:
            continue
        score = (item.line.piece_ref[:50] == inv.number, item.line.issued == inv.issue_date)
        if best is None or score > best[0]:
            best = (score, choice)
    return best[1] if best else None


# --------------------------------------------------------------------------- credits


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


# --------------------------------------------------------------------------- corrections


def map_fec_label(organisation: Organisation, label: str, customer_code: str, actor: str = "user") -> int:
    """The lines grouped under the guessed customer ``label`` belong to ``customer_code``:
    move their invoices, credits and settlements to that customer (due dates follow its
    terms), point the alias there for the next imports, and apply the credits of both
    customers again. Returns the number of invoices moved."""
    value = label.strip()
    aliases = CustomerAlias.objects.filter(organisation=organisation, kind=CustomerAlias.Kind.FEC_LABEL)
    alias = aliases.filter(value=value).first() or aliases.filter(value=name_from_label(value)).first()
    if alias is None:
        raise NotFound(f"aucun client regroupé d’après le libellé « {value} » dans les FEC importés")
    target = Customer.objects.filter(organisation=organisation, code=customer_code.strip()).first()
    if target is None:
        raise NotFound(f"client « {customer_code} » introuvable")
    if alias.customer_id == target.pk:
        return 0
    previous = alias.customer_id
    suffix = label_key_suffix(alias.value)
    terms = target.terms_days if target.terms_days is not None else organisation.default_terms_days
    with transaction.atomic():
        invoices = list(Invoice.objects.select_for_update().filter(
            organisation=organisation, customer_id=previous, source_key__endswith=suffix))
        for invoice in invoices:
            invoice.customer = target
            invoice.due_date = invoice.issue_date + timedelta(days=terms)
            invoice.next_action_date = None
        Invoice.objects.bulk_update(invoices, ["customer", "due_date", "next_action_date"], batch_size=500)
        numbers = [i.number for i in invoices]
        settlements = [p + n for n in numbers for p in (PARTIAL_PREFIX, SETTLED_PREFIX)]
        credit_ids = Q(reference__endswith=suffix, reference__startswith=CREDIT_PREFIX) | Q(reference__in=settlements)
        Payment.objects.filter(credit_ids, organisation=organisation, customer_id=previous).update(customer=target)
        note_ids = Q(reason__endswith=suffix, reason__startswith=CREDIT_PREFIX) | Q(reason__in=settlements)
        CreditNote.objects.filter(note_ids, organisation=organisation, customer_id=previous).update(customer=target)
        alias.customer = target
        alias.save(update_fields=["customer"])
        events = [kinds.customer_alias_changed(customer_id=target.pk, kind=alias.kind, value=alias.value,
                                               from_customer_id=previous, to=target.code, invoices=numbers,
                                               actor=actor)]
        events += [kinds.invoice_moved(customer_id=target.pk, invoice_id=i.pk, number=i.number,
                                       from_customer_id=previous, to=target.code, due_date=i.due_date, actor=actor)
                   for i in invoices]
        applied = _reallocate(organisation, {previous, target.pk})
        events += _credit_events(applied, actor)
        record_many(organisation, events)
        invoices_moved.send(sender=Invoice, organisation=organisation, invoice_ids=[i.pk for i in invoices],
                            from_customer_id=previous, actor=actor)
        ids = sorted(applied.touched | {i.pk for i in invoices})
        for chunk in chunks(ids):
            refresh_balances(organisation, chunk, actor=actor)
        sync_collective_holds(organisation, actor)
    return len(invoices)


# --------------------------------------------------------------------------- unattributed credits
#
# On a collective account the customer of a line is only a name read in its label. A payment whose
# label names no one (« Remise CB ») lands on the pseudo-customer « (SANS LIBELLÉ) », and one whose
# label spells the name another way (« Vrt Grenier MF » for the invoices of « MF Guillaume ») on a
# customer of its own without invoices: either way it settles nothing, and the invoices it paid look
# unpaid. relance never chases a paid invoice, so while such credits are left on a collective
# account, every customer of that account with open invoices is paused (a dunning ``Hold``, kind
# pause, no end date, reason « paiements non attribués sur le compte collectif … »), and the
# pseudo-customer, who is no one, is never chased at all. The holds are brought to the ledger's state
# after each FEC import and each label mapping (:func:`sync_collective_holds`): assigning the labels
# to the right customers, or re-importing a corrected FEC, lifts them, with their events.

UNATTRIBUTED_REASON = "paiements non attribués sur le compte collectif"
NOT_A_CUSTOMER_REASON = "« (SANS LIBELLÉ) » n’est pas un client"
#: the code of the pseudo-customer of the lines whose label names no one (``_label_code(NO_LABEL)``)
NO_LABEL_CODE = LABEL_CODE_PREFIX + "SANS-LIBELLE"


@dataclass(frozen=True)
class CollectiveHold:
    """A pause that must be active on a whole customer (see ``dunning.services.collective_holds``)."""

    customer_id: int
    reason: str
    note: str
    data: dict[str, Any]


def _credit_account(ident: str) -> str:
    key = ident[len(CREDIT_PREFIX):]
    return "" if key.startswith("#") else _key_account(key)


def _credit_label(ident: str) -> str:
    at = ident.rfind("|L=")
    return ident[at + 3:] if at >= 0 else ""


def unattributed_credits(organisation: Organisation) -> dict[str, Unattributed]:
    """Per collective account, the credits of the FEC grouped under a customer derived from an
    entry label (code « FEC-… », not a customer a person chose) that are left unapplied: they
    settle no invoice of that customer. Amounts summed in Python (SQLite sums decimals in floating
    point)."""
    credits: dict[tuple[str, int], tuple[str, Decimal]] = {}
    derived = Q(customer__code__startswith=LABEL_CODE_PREFIX)
    for pk, ident, amount in Payment.objects.filter(
            derived, organisation=organisation, reference__startswith=CREDIT_PREFIX,
            reference__contains="|L=").values_list("id", "reference", "amount"):
        credits[(PAYMENT, pk)] = (ident, amount)
    for pk, ident, amount in CreditNote.objects.filter(
            derived, organisation=organisation, reason__startswith=CREDIT_PREFIX,
            reason__contains="|L=").values_list("id", "reason", "amount_incl_tax"):
        credits[(CREDIT_NOTE, pk)] = (ident, amount)
    if not credits:
        return {}
    applied: dict[tuple[str, int], Decimal] = defaultdict(Decimal)
    for kind, column in ((PAYMENT, "payment_id"), (CREDIT_NOTE, "credit_note_id")):
        ids = [pk for k, pk in credits if k == kind]
        for chunk in chunks(ids):
            for record_id, amount in Allocation.objects.filter(**{f"{column}__in": list(chunk)}).values_list(
                    column, "amount"):
                applied[(kind, record_id)] += amount
    found: dict[str, Unattributed] = {}
    for record, (ident, amount) in sorted(credits.items(), key=lambda c: c[1][0]):
        left = amount - applied.get(record, ZERO)
        if left <= 0:
            continue
        account = _credit_account(ident)
        entry = found.get(account)
        if entry is None:
            entry = found[account] = Unattributed(account)
        entry.amount += left
        entry.count += 1
        name = _credit_label(ident)
        entry.labels[name] = entry.labels.get(name, ZERO) + left
        entry.idents.append(ident)
    return found


def collective_hold_plan(organisation: Organisation) -> tuple[list[CollectiveHold], dict[str, Unattributed]]:
    """The pauses that must be active now (see the notes above), and the unattributed credits."""
    found = unattributed_credits(organisation)
    pseudo = set(Customer.objects.filter(organisation=organisation).filter(
        Q(code=NO_LABEL_CODE) | Q(code__startswith=NO_LABEL_CODE + "/")).values_list("id", flat=True))
    holds: list[CollectiveHold] = []
    if found:
        by_account: dict[str, set[int]] = defaultdict(set)
        for customer_id, key in Invoice.objects.filter(
                organisation=organisation, status=Invoice.Status.OPEN, source_key__contains="|L=").values_list(
                "customer_id", "source_key"):
            by_account[_key_account(key)].add(customer_id)
        for account, entry in sorted(found.items()):
            ids = by_account.get(account, set()) if account else set().union(*by_account.values())
            ids -= pseudo
            entry.customers = len(ids)
            reason = f"{UNATTRIBUTED_REASON} {account or '(compte illisible)'} : {money(entry.amount)} à affecter"
            example = entry.example
            where = f"du compte collectif {account}" if account else "d’un compte collectif"
            note = (f"{_n(entry.count)} règlement(s) ou avoir(s) {where} ({money(entry.amount)}) ne soldent "
                    "aucune facture du client que nomme leur libellé : ils ont pu payer des factures de ce client. "
                    "Pas de relance automatique tant qu’ils ne sont pas affectés : rattachez chaque libellé au bon "
                    f"client (relance alias fec-label \"{example}\" CODE_CLIENT) ou corrigez la comptabilité puis "
                    "réimportez le FEC ; la pause est alors levée d’elle-même.")
            data = {"source": "fec", "account": account, "amount": entry.amount, "credits": entry.count}
            holds += [CollectiveHold(customer_id, reason, note, data) for customer_id in sorted(ids)]
    for customer_id in sorted(pseudo):
        holds.append(CollectiveHold(customer_id, f"{NOT_A_CUSTOMER_REASON} : jamais relancé", (
            "Les écritures des comptes collectifs dont le libellé ne nomme personne sont regroupées ici. Rattachez "
            f"leur libellé au bon client (relance alias fec-label \"{NO_LABEL}\" CODE_CLIENT) ou corrigez la "
            "comptabilité."), {"source": "fec", "account": "", "pseudo_customer": True}))
    return holds, found


def _with_lines(found: dict[str, Unattributed], rec: Receivables) -> list[Unattributed]:
    """The unattributed credits, by account, with their line numbers in the imported file."""
    line_of = {credit_ident(item.key): item.line.line_no for c in rec.customers if c.source == "label"
               for item in c.open_items if item.open < 0}
    for entry in found.values():
        entry.lines = sorted(line_of[i] for i in entry.idents if i in line_of)
    return [found[a] for a in sorted(found)]


def sync_collective_holds(organisation: Organisation, actor: str = "system") -> dict[str, Unattributed]:
    """Bring the pauses of the collective accounts to the ledger's state: dunning creates the
    missing ones and lifts the others, with their events (``ledger.signals.collective_holds``).
    Nothing is done for an organisation that never had customers derived from entry labels."""
    if not CustomerAlias.objects.filter(organisation=organisation, kind=CustomerAlias.Kind.FEC_LABEL).exists():
        return {}
    holds, found = collective_hold_plan(organisation)
    collective_holds.send(sender=Customer, organisation=organisation, holds=holds, actor=actor)
    return found
