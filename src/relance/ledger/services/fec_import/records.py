"""Step 3: the importer's payments and credit notes brought to what the file says — one per unapplied
credit line, one per partial lettering, one per invoice closed by this import — by removing,
creating and updating only what differs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from relance.bulk import chunks, insert_objects, instance
from relance.core.formats.fec import Lettering
from relance.core.money import ZERO, to_cents
from relance.events import kinds
from relance.events.services import NewEvent
from relance.ledger.models import Allocation, CreditNote, Payment

from .credits import _record_event
from .identities import (
    _ROLES,
    CREDIT_NOTE,
    PARTIAL_PREFIX,
    PAYMENT,
    SETTLED_PREFIX,
    _credit_account,
    _entry_ref,
    _free,
    _key_account,
    _meaningful,
    _role,
    credit_ident,
)
from .invoices import _Match
from .state import ImportRun, _Owned, _Rec


class Records(ImportRun):
    """Step 3: the importer's payments and credit notes brought to what the file says."""

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
