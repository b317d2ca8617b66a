"""Step 2: the open invoices of the file reconciled with the ledger — same key, carried forward in the
à-nouveaux, or the same number as an invoice imported from a CSV — then updated or created; the
invoices of earlier imports that the file no longer has open are set aside to be settled."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from relance.bulk import insert_objects, instance
from relance.core.formats.fec import OpenItem
from relance.core.formats.problems import Problem
from relance.core.formatting import money
from relance.core.money import ZERO, to_cents
from relance.errors import ImportRejected
from relance.events import kinds
from relance.ledger.models import Invoice, Source

from .identities import _entry_ref, _free, _key_account, _meaningful, _role
from .state import ImportRun, _Inv, _Owned


@dataclass(slots=True)
class _Match:
    """An open invoice of the file and its invoice in the ledger."""

    customer_id: int
    item: OpenItem
    inv: _Inv
    how: str  # "key", "new", "carried" (à-nouveau of an earlier FEC) or "adopted" (same number, CSV)


_HOW = {"key": "même écriture", "carried": "report à nouveau", "adopted": "même numéro", "new": "nouvelle"}


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


class Invoices(ImportRun):
    """Step 2: the open invoices of the file matched with the ledger's, updated or created."""

    def _due(self, customer_id: int, issued: date) -> date:
        return issued + timedelta(days=self.terms.get(customer_id, self.org.default_terms_days))

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
