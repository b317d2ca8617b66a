"""The invoices of one customer as a matcher sees them (still open after the receipts already
decided, in C. civ. 1342-10 order) and the readings of a receipt it proposes on them: a match,
or candidates for a person."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal

from ..law.allocation import _natural as natural_key  # the tie-break of 1342-10 order
from .allocation import _cents, exact_subsets
from .finding import MAX_CANDIDATES
from .index import Indexes
from .model import ZERO, Candidate, Decision, OpenItem, Outcome, Part, Receipt

#: how many invoices of a customer the exact-subset search looks at
SUBSET_MAX_ITEMS = 24


class Candidates(Indexes):
    """A customer's open invoices and the candidates built on them."""

    def open_items(self, customer_id: int, currency: str | None = None) -> list[OpenItem]:
        """The customer's invoices still open (after what this matcher consumed)."""
        return [self.items[i] for i in self.by_customer.get(customer_id, ())
                if self.remaining[i] > 0 and (currency is None or self.items[i].currency == currency)]

    def sorted_items(self, items: Sequence[OpenItem], on: date, designated: Sequence[int] = ()) -> list[OpenItem]:
        """``items`` in C. civ. 1342-10 order — the order of ``law.allocation.allocation_order``
        (designated first as given, then due before not due, oldest due date, oldest issue
        date, number in natural order) with the sort keys computed once per invoice."""
        present = {item.id for item in items}
        wanted = [i for i in dict.fromkeys(designated) if i in present]
        chosen = set(wanted)
        first = [self.items[i] for i in wanted]
        rest = [i for i in items if i.id not in chosen]
        keys = self._order_keys
        for item in rest:
            if item.id not in keys:
                keys[item.id] = (item.due_date, item.issue_date, natural_key(item.number))
        rest.sort(key=lambda i: (i.due_date > on, keys[i.id]))
        return first + rest

    def allocate(self, customer_id: int, amount: Decimal, on: date, designated: Sequence[int] = (),
                 currency: str | None = None) -> tuple[tuple[Part, ...], Decimal]:
        """What ``allocate`` gives on the customer's open invoices, with the amounts still due
        after the receipts already decided."""
        ids = list(dict.fromkeys(designated))
        if ids and sum((self.remaining[i] for i in ids), ZERO) >= amount:  # the designated invoices suffice
            order = [self.items[i] for i in ids]
        else:
            order = self.sorted_items(self.open_items(customer_id, currency), on, ids)
        left = amount
        parts: list[Part] = []
        for item in order:
            if left <= 0:
                break
            part = min(left, self.remaining[item.id])
            if part > 0:
                parts.append(Part(item.id, part))
                left -= part
        return tuple(parts), left

    def customer_total(self, customer_id: int, currency: str | None = None) -> Decimal:
        return sum((self.remaining[i.id] for i in self.open_items(customer_id, currency)), ZERO)

    def _customer_candidates(self, r: Receipt, customer_id: int, score: int, label: str, method: str,
                             designated: Sequence[int] = ()) -> list[Candidate]:
        """Readings of a receipt for one customer: an invoice of exactly that amount, the oldest
        invoices summing to it, else the 1342-10 imputation."""
        items = self.sorted_items(self.open_items(customer_id, r.currency), r.on, designated)
        cands: list[Candidate] = []
        for item in items:
            if self.remaining[item.id] == r.amount:
                cands.append(self._candidate(customer_id, (item.id,), score + 10, f"{label}, montant égal à la facture",
                                             method))
                break
        running = ZERO
        for n, item in enumerate(items, 1):
            running += self.remaining[item.id]
            if running == r.amount and n > 1:
                cands.append(self._candidate(customer_id, tuple(i.id for i in items[:n]), score + 5,
                                             f"{label}, montant égal à {n} factures", method))
                break
            if running > r.amount:
                break
        if not cands:
            cands.append(self._candidate(customer_id, (), score - 10, f"{label}, imputation sur les plus anciennes "
                                         "(C. civ. 1342-10)" if items else f"{label}, aucune facture ouverte", method))
        return cands

    def _subsets(self, items: Sequence[OpenItem], amount: Decimal) -> tuple[list[tuple[int, ...]], bool]:
        pool = list(items[:SUBSET_MAX_ITEMS])
        found, complete = exact_subsets([_cents(self.remaining[i.id]) for i in pool], _cents(amount))
        complete = complete and len(items) <= SUBSET_MAX_ITEMS
        return [tuple(pool[k].id for k in subset) for subset in found if len(subset) > 1], complete

    def _candidate(self, customer_id: int, invoice_ids: tuple[int, ...], score: int, reason: str,
                   method: str) -> Candidate:
        amount = (sum((self.remaining[i] for i in invoice_ids), ZERO) if invoice_ids
                  else self.customer_total(customer_id))
        return Candidate(customer_id, invoice_ids, amount, max(0, min(100, score)), reason, method)

    def _numbers(self, ids: Iterable[int]) -> str:
        return ", ".join(self.items[i].number for i in ids)

    def _matched(self, r: Receipt, customer_id: int, designated: list[int], method: str, reason: str) -> Decision:
        parts, left = self.allocate(customer_id, r.amount, r.on, designated, r.currency)
        cand = self._candidate(customer_id, tuple(designated), 100, reason, method)
        return Decision(r, Outcome.MATCHED, customer_id, tuple(designated), parts, left, method, reason, (cand,))

    @staticmethod
    def _review(r: Receipt, cands: list[Candidate], reason: str) -> Decision:
        unique: dict[tuple[int, tuple[int, ...]], Candidate] = {}
        for c in sorted(cands, key=lambda c: -c.score):
            unique.setdefault((c.customer_id, c.invoice_ids), c)
        ranked = tuple(sorted(unique.values(), key=lambda c: (-c.score, c.customer_id, c.invoice_ids))[:MAX_CANDIDATES])
        return Decision(r, Outcome.REVIEW, reason=reason, candidates=ranked)
