"""The rules, in their order (see the package): RF references, invoice numbers in the text, the
amount with a recognised customer; otherwise candidates for a person."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from ..formatting import money
from .candidates import Candidates
from .finding import Finding
from .model import ZERO, Candidate, Decision, Outcome, Receipt
from .text import compact

#: amount-only candidates are listed only when few invoices carry that amount
AMOUNT_ONLY_MAX = 5


class Matcher(Finding, Candidates):
    """Indexes the open invoices and customers once (:class:`~.index.Indexes`); :meth:`decide` each
    receipt: what it points at (:class:`~.finding.Finding`), then the readings on the customer's
    open invoices (:class:`~.candidates.Candidates`)."""

    def decide_all(self, receipts: Iterable[Receipt], consume: bool = True) -> list[Decision]:
        """Decide receipts in date order (then in the given order), deducting what each
        matched one pays when ``consume``; the decisions come back in the given order."""
        indexed = list(enumerate(receipts))
        decisions: dict[int, Decision] = {}
        for n, receipt in sorted(indexed, key=lambda pair: (pair[1].on, pair[0])):
            decisions[n] = self.decide(receipt, consume=consume)
        return [decisions[n] for n, _ in indexed]

    def decide(self, receipt: Receipt, consume: bool = False) -> Decision:
        if receipt.amount <= 0:
            return Decision(receipt, Outcome.UNMATCHED, reason="montant nul")
        decision = self._decide(receipt)
        if consume and decision.outcome == Outcome.MATCHED:
            for part in decision.allocations:
                self.remaining[part.invoice_id] -= part.amount
        return decision

    def _decide(self, r: Receipt) -> Decision:
        payer = self.identified_payer(r)
        texts = self.texts(r)
        # 1. RF references
        targets = self.rf_targets(r, texts)
        invoices = [i for kind, i in targets if kind == "invoice" and self.items[i].currency == r.currency]
        customers = [c for kind, c in targets if kind == "customer"]
        if invoices:
            return self._for_invoices(r, invoices, "rf", "référence RF", payer)
        if customers:
            if len(set(customers)) == 1:
                return self._for_customer(r, customers[0], "rf_customer", "référence RF du client", strong=True,
                                          base=95)
            cands = [c for cid in dict.fromkeys(customers) for c in self._customer_candidates(r, cid, 60,
                     "référence RF du client", "rf_customer")]
            return self._review(r, cands, "références RF de plusieurs clients")
        # 2. invoice numbers in the text
        found = [i for i in self.numbers_in_text(r, texts) if self.items[i].currency == r.currency]
        if found:
            return self._for_invoices(r, found, "number", "numéro de facture dans le libellé", payer)
        # 3. amount and customer
        if payer is not None and payer[0] in self.payers:
            label = "IBAN du payeur déjà vu" if payer[1] == "iban" else "nom du payeur déjà vu"
            # a learnt IBAN identifies the payer; a learnt name only suggests it (a partial payment waits)
            return self._for_customer(r, payer[0], payer[1], label, strong=payer[1] == "iban",
                                      base=90 if payer[1] == "iban" else 85)
        return self._unidentified(r)

    def _for_invoices(self, r: Receipt, invoice_ids: list[int], method: str, label: str,
                      payer: tuple[int, str] | None) -> Decision:
        by_customer: dict[int, list[int]] = defaultdict(list)
        for inv in invoice_ids:
            by_customer[self.items[inv].customer_id].append(inv)
        if len(by_customer) > 1:
            cands = [self._candidate(cid, tuple(ids), 70, f"{label} ({self._numbers(ids)}), factures de plusieurs "
                                     "clients", method) for cid, ids in by_customer.items()]
            return self._review(r, cands, f"{label} : factures de plusieurs clients")
        (customer_id, ids), = by_customer.items()
        open_ids = [i for i in ids if self.remaining[i] > 0]
        if not open_ids:  # the designated invoices were all settled by earlier lines of the file
            return self._review(r, self._customer_candidates(r, customer_id, 50, f"{label}, facture déjà réglée",
                                                             method), f"{label} : facture déjà réglée")
        due = sum((self.remaining[i] for i in open_ids), ZERO)
        numbers = self._numbers(open_ids)
        if r.amount == due:
            return self._matched(r, customer_id, open_ids, method, f"{label} : {numbers}, montant égal au reste dû")
        if r.amount > due:
            extra = self._customer_candidates(r, customer_id, 55, f"{label} ({numbers}) et autres factures", method,
                                              designated=open_ids)
            first = self._candidate(customer_id, tuple(open_ids), 60, f"{label} : {numbers} ; trop-perçu de "
                                    f"{money(r.amount - due, r.currency)}", method)
            paid, owed = money(r.amount, r.currency), money(due, r.currency)
            return self._review(r, [first, *extra], f"trop-perçu : {paid} pour {owed} dus ({numbers})")
        # partial payment of designated invoices
        weak = method == "number" and all(len(compact(self.items[i].number)) <= 4 and
                                          compact(self.items[i].number).isdigit() for i in open_ids)
        conflict = payer is not None and payer[0] != customer_id
        if weak or conflict:
            why = ("numéro court, montant différent" if weak else "payeur connu comme un autre client")
            cands = [self._candidate(customer_id, tuple(open_ids), 50, f"{label} : {numbers}, paiement partiel ({why})",
                                     method)]
            if conflict and payer is not None:
                cands += self._customer_candidates(r, payer[0], 45, "payeur connu", payer[1])
            return self._review(r, cands, f"paiement partiel incertain ({why})")
        paid, owed = money(r.amount, r.currency), money(due, r.currency)
        return self._matched(r, customer_id, open_ids, method, f"{label} : {numbers}, paiement partiel de {paid} sur {owed}")

    def _for_customer(self, r: Receipt, customer_id: int, method: str, label: str, *, strong: bool,
                      base: int) -> Decision:
        items = self.sorted_items(self.open_items(customer_id, r.currency), r.on)
        if not items:
            cand = self._candidate(customer_id, (), 40, f"{label}, aucune facture ouverte (paiement en compte)", method)
            return self._review(r, [cand], f"{label} : le client n’a aucune facture ouverte")
        exact = [i for i in items if self.remaining[i.id] == r.amount]
        if exact:
            inv = exact[0]  # several of the same amount: the oldest first (1342-10)
            return self._matched(r, customer_id, [inv.id], method,
                                 f"{label}, montant égal à la facture {inv.number}")
        running = ZERO
        for n, item in enumerate(items, 1):
            running += self.remaining[item.id]
            if running == r.amount:
                ids = [i.id for i in items[:n]]
                return self._matched(r, customer_id, ids, method, f"{label}, montant égal aux {n} factures les "
                                     "plus anciennes")
            if running > r.amount:
                break
        total = sum((self.remaining[i.id] for i in items), ZERO)
        subsets, complete = self._subsets(items, r.amount)
        if len(subsets) == 1 and complete:
            ids = list(subsets[0])
            return self._matched(r, customer_id, ids, method,
                                 f"{label}, montant égal à {len(ids)} factures ({self._numbers(ids)})")
        if subsets:
            cands = [self._candidate(customer_id, tuple(s), base - 15, f"{label}, montant égal à {len(s)} factures",
                                     method) for s in subsets]
            cands.append(self._candidate(customer_id, (), base - 30, f"{label}, imputation sur les plus anciennes "
                                         "(C. civ. 1342-10)", method))
            return self._review(r, cands, f"{label} : plusieurs ensembles de factures correspondent au montant")
        if r.amount < total:
            if strong:
                return self._matched(r, customer_id, [], method, f"{label}, paiement partiel imputé sur les factures "
                                     "échues les plus anciennes (C. civ. 1342-10)")
            cand = self._candidate(customer_id, (), base - 20, f"{label}, paiement partiel", method)
            return self._review(r, [cand], f"{label} : paiement partiel")
        cand = self._candidate(customer_id, tuple(i.id for i in items), base - 30,
                               f"{label} ; trop-perçu de {money(r.amount - total, r.currency)}", method)
        return self._review(r, [cand], f"trop-perçu : {money(r.amount, r.currency)} pour {money(total, r.currency)} dus")

    def _unidentified(self, r: Receipt) -> Decision:
        cands: list[Candidate] = []
        for pid, similarity in self.similar_payers(r.counterparty_name):
            score = int(40 + 30 * similarity)
            name = self.payers[pid].name
            cands += self._customer_candidates(r, pid, score, f"nom proche de « {name} »", "name")
        exact = [i for i in self.by_amount.get(r.amount, ()) if self.remaining[i] == r.amount
                 and self.items[i].currency == r.currency]
        if 0 < len(exact) <= AMOUNT_ONLY_MAX:
            listed = {c.invoice_ids for c in cands}
            for inv in exact:
                if (inv,) not in listed:
                    cands.append(self._candidate(self.items[inv].customer_id, (inv,), 30,
                                                 "montant identique, client non identifié", "amount"))
        if cands:
            return self._review(r, cands, "client non identifié avec certitude")
        return Decision(r, Outcome.UNMATCHED, reason="aucune facture ni aucun client reconnu")
