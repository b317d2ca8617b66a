"""The entry point: :func:`import_fec` reads the file, then, in one transaction under the ledger's lock,
runs the steps (customers, invoices, records, credits) and brings the collective holds up to date."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.db.models import Max, Q, Sum

from relance.bulk import chunks, update_by_id
from relance.core.formats.fec import FecError, parse_fec, receivables
from relance.core.formats.problems import Problem, os_error_text
from relance.core.formats.receivables import DEFAULT_KINDS
from relance.core.money import ZERO, to_cents
from relance.errors import Conflict, ImportRejected, InvalidInput
from relance.events import kinds
from relance.events.services import NewEvent, record_many
from relance.ledger.models import Allocation, ImportBatch, Invoice, Organisation
from relance.ledger.signals import invoices_settled
from relance.locks import lock_ledger, lock_organisation

from ..balances import refresh_balances
from ..references import assign_references
from .collective import _with_lines, sync_collective_holds
from .credits import _credit_events, _reallocate
from .customers import Customers
from .identities import _References
from .invoices import Invoices
from .records import Records
from .report import FecImportReport
from .state import _Owned
from .warnings import Warnings


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


class _Importer(Customers, Invoices, Records, Warnings):
    """One import: the steps in their order (:meth:`run`)."""

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
