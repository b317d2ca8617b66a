"""Matching bank receipts (credit lines of a statement) to open invoices — pure Python.

The caller loads, in bulk, the organisation's open invoices (:class:`OpenItem`) and its
customers with what identifies them on a transfer (:class:`Payer`: payment reference, payer
IBANs and names seen before); :class:`Matcher` indexes them once (by RF reference, by invoice
number, by amount, by IBAN, by name) and then decides each receipt with dictionary look-ups
only, so that 100 000 lines cost no more than 100 000 look-ups.

Order of the rules (issue #4):

1. an ISO 11649 creditor reference (« RF… », the structured field or found in the text)
   equal to an invoice's or a customer's payment reference: exact;
2. invoice numbers found in the remittance text, tolerant to spaces and punctuation
   (``F 2025/0042`` finds ``F-2025-0042``), longest match first so that a number that is the
   prefix of another (``F-12`` / ``F-123``) is never taken for it;
3. the amount with the customer: the customer is recognised by the payer's IBAN or a payer
   name already seen (learnt aliases), then one open invoice of exactly that amount, or a set
   of open invoices summing exactly to it; otherwise the payment is imputed by C. civ. 1342-10
   (debts due first, oldest first).

A decision is ``matched`` (confident: applied at once), ``review`` (candidates for a person:
several candidates, an over-payment, a partial payment of an unidentified customer, a
customer known only by a similar name) or ``unmatched`` (nothing found). Amounts are
Decimal; allocations never exceed the receipt nor an invoice's amount due, and
``sum(allocations) + unallocated == amount`` always holds.

With ``consume=True`` (an import), what a matched receipt pays is deducted from the invoices
before the next receipt is decided, so two transfers of the same amount never settle the
same invoice twice.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from .formatting import money
from .iban import compact_iban
from .law.allocation import Debt, allocation_order
from .law.allocation import _natural as natural_key  # the tie-break of 1342-10 order

ZERO = Decimal("0.00")
RF_MAX = 25
MAX_CANDIDATES = 5
#: a token carried by more customers than this is too common to point at one (« MARTIN », « GARAGE »)
COMMON_TOKEN = 200
NAME_THRESHOLD = 0.5
#: search budget of the exact-subset search (nodes), and how many invoices of a customer it looks at
SUBSET_BUDGET = 20_000
SUBSET_MAX_ITEMS = 24
#: amount-only candidates are listed only when few invoices carry that amount
AMOUNT_ONLY_MAX = 5

_STOP_WORDS = frozenset(
    """SARL SAS SASU EURL SA SCI SNC SCP SCM SELARL SELAS EI EIRL GIE GMBH LTD INC BV NV AG
    STE SOCIETE ETS ETABLISSEMENTS CIE COMPAGNIE GROUPE LA LE LES DE DU DES D L ET AU AUX EN
    M MR MME MLLE MM MONSIEUR MADAME MLE VIR VIREMENT VIRT SEPA RECU EMIS DE PAR REF
    PRLV ORDRE DONNEUR INST INSTANTANE""".split()
)
_TOKEN = re.compile(r"[A-Z0-9]+")


# --------------------------------------------------------------------------- text


def fold(text: str) -> str:
    """Upper case without accents: ``« Éclair »`` → ``« ECLAIR »``."""
    if not text:
        return ""
    if text.isascii():  # bank files mostly are
        return text.upper()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).upper()


def tokens(text: str) -> list[str]:
    """The runs of letters and digits of ``text``, folded."""
    return _TOKEN.findall(fold(text))


def compact(text: str) -> str:
    """Letters and digits only: ``F-2025/0042`` → ``F20250042``."""
    return "".join(tokens(text))


def name_tokens(name: str) -> frozenset[str]:
    """The significant words of a name (legal forms, civilities and articles dropped)."""
    return frozenset(t for t in tokens(name) if t not in _STOP_WORDS and not (len(t) == 1 and t.isalpha()))


def name_key(name: str) -> str:
    """A name as compared with the payer names learnt: its significant words, sorted."""
    return " ".join(sorted(name_tokens(name)))


def name_similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard similarity of two sets of name tokens (0 to 1)."""
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class OpenItem:
    """An open invoice as the matcher sees it; ``amount_due`` is what is still to be paid."""

    id: int
    number: str
    customer_id: int
    due_date: date
    issue_date: date
    amount_due: Decimal
    currency: str = "EUR"
    payment_reference: str = ""


@dataclass(frozen=True)
class Payer:
    """A customer and what identifies it on a transfer."""

    id: int
    code: str
    name: str
    payment_reference: str = ""
    ibans: tuple[str, ...] = ()
    names: tuple[str, ...] = ()  # payer names seen on earlier transfers


@dataclass(frozen=True)
class Receipt:
    """A credit line of a bank statement (``amount`` > 0)."""

    key: Hashable
    amount: Decimal
    on: date
    currency: str = "EUR"
    counterparty_name: str = ""
    counterparty_iban: str = ""
    remittance: str = ""
    structured_reference: str = ""
    end_to_end_id: str = ""


class Outcome(StrEnum):
    MATCHED = "matched"
    REVIEW = "review"
    UNMATCHED = "unmatched"


@dataclass(frozen=True)
class Candidate:
    """A possible reading of a receipt: this customer's invoices (none: on account)."""

    customer_id: int
    invoice_ids: tuple[int, ...]
    amount: Decimal  # what those invoices still owe (the customer's total when none)
    score: int  # 0 to 100
    reason: str
    method: str


@dataclass(frozen=True)
class Part:
    invoice_id: int
    amount: Decimal


@dataclass(frozen=True)
class Decision:
    receipt: Receipt
    outcome: Outcome
    customer_id: int | None = None
    designated: tuple[int, ...] = ()
    allocations: tuple[Part, ...] = ()
    unallocated: Decimal = ZERO
    method: str = ""
    reason: str = ""
    candidates: tuple[Candidate, ...] = field(default=())

    @property
    def allocated(self) -> Decimal:
        return sum((p.amount for p in self.allocations), ZERO)


# --------------------------------------------------------------------------- allocation


def allocate(items: Sequence[OpenItem], amount: Decimal, on: date, designated: Sequence[int] = (),
             remaining: dict[int, Decimal] | None = None) -> tuple[tuple[Part, ...], Decimal]:
    """Impute ``amount`` on a customer's open ``items`` (C. civ. 1342-10): the ``designated``
    invoices first, in the order given, then the debts due, oldest first, then those not yet
    due (``law.allocation.allocation_order``); what is left is returned as unallocated.
    ``remaining`` overrides the amounts due."""
    if amount <= 0:
        raise ValueError("le montant d’un paiement doit être positif")

    def due(item: OpenItem) -> Decimal:
        return remaining[item.id] if remaining is not None and item.id in remaining else item.amount_due

    by_id = {i.id: i for i in items}
    left = amount
    parts: list[Part] = []
    chosen: set[int] = set()
    for invoice_id in designated:
        item = by_id.get(invoice_id)
        if item is None or invoice_id in chosen:
            continue
        chosen.add(invoice_id)
        part = min(left, due(item))
        if part > 0:
            parts.append(Part(invoice_id, part))
            left -= part
        if left <= 0:
            return tuple(parts), left
    rest = [i for i in items if i.id not in chosen and due(i) > 0]
    by_number = {i.number: i for i in rest}
    for debt in allocation_order([Debt(i.number, i.due_date, i.issue_date, due(i)) for i in rest], on):
        if left <= 0:
            break
        part = min(left, debt.amount_due)
        parts.append(Part(by_number[str(debt.id)].id, part))
        left -= part
    return tuple(parts), left


def _cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


class _Budget(Exception):
    pass


def exact_subsets(values: Sequence[int], target: int, limit: int = 2, budget: int = SUBSET_BUDGET) -> tuple[
        list[tuple[int, ...]], bool]:
    """Subsets (index tuples, at most ``limit``) of ``values`` (positive integers) summing
    exactly to ``target``; the flag is False when the search budget ran out before the
    search was complete (more solutions may exist)."""
    order = sorted(range(len(values)), key=lambda i: -values[i])
    vals = [values[i] for i in order]
    suffix = [0] * (len(vals) + 1)
    for i in range(len(vals) - 1, -1, -1):
        suffix[i] = suffix[i + 1] + vals[i]
    found: list[tuple[int, ...]] = []
    steps = 0
    chosen: list[int] = []

    def walk(start: int, left: int) -> bool:
        nonlocal steps
        if left == 0:
            found.append(tuple(sorted(order[i] for i in chosen)))
            return len(found) >= limit
        if suffix[start] < left:
            return False
        for i in range(start, len(vals)):
            if suffix[i] < left:
                break
            v = vals[i]
            if v > left:
                continue
            steps += 1
            if steps > budget:
                raise _Budget
            chosen.append(i)
            if walk(i + 1, left - v):
                return True
            chosen.pop()
        return False

    if target <= 0 or not vals:
        return [], True
    try:
        walk(0, target)
    except _Budget:
        return found, False
    return found, True


# --------------------------------------------------------------------------- matcher


class PayerIndex:
    """The customers indexed by what identifies them on a transfer (reference, learnt IBANs and
    names, the words of their names). Never changed once built: several matchers can share it
    (the review list keeps it while the customers and their aliases stay the same)."""

    def __init__(self, payers: Iterable[Payer]):
        self.payers: dict[int, Payer] = {}
        self.by_rf: dict[str, tuple[str, int]] = {}  # the customers' references
        self.by_iban: dict[str, int] = {}
        self.by_payer_name: dict[str, int] = {}
        by_name_token: dict[str, list[int]] = defaultdict(list)
        words: dict[int, list[frozenset[str]]] = defaultdict(list)
        for payer in payers:
            self.payers[payer.id] = payer
            if payer.payment_reference:
                self.by_rf.setdefault(compact(payer.payment_reference), ("customer", payer.id))
            for iban in payer.ibans:
                self.by_iban.setdefault(compact_iban(iban), payer.id)
            for seen in payer.names:
                key = name_key(seen)
                if key:
                    self.by_payer_name.setdefault(key, payer.id)
            for text in (payer.name, *payer.names):
                toks = name_tokens(text)
                if not toks:
                    continue
                words[payer.id].append(toks)
                for tok in toks:
                    if len(tok) >= 3:
                        by_name_token[tok].append(payer.id)
        self.by_name_token: dict[str, list[int]] = dict(by_name_token)
        self.name_tokens: dict[int, list[frozenset[str]]] = dict(words)


class Matcher:
    """Indexes the open invoices and customers once; :meth:`decide` each receipt."""

    def __init__(self, items: Iterable[OpenItem], payers: Iterable[Payer] | PayerIndex):
        index = payers if isinstance(payers, PayerIndex) else PayerIndex(payers)
        self.items: dict[int, OpenItem] = {}
        self.remaining: dict[int, Decimal] = {}
        self.by_customer: dict[int, list[int]] = defaultdict(list)
        self.by_number: dict[str, list[int]] = defaultdict(list)
        self.by_amount: dict[Decimal, list[int]] = defaultdict(list)
        # an invoice's reference wins over a customer's (the same text: rare, but the invoice is the more precise)
        self.by_rf: dict[str, tuple[str, int]] = dict(index.by_rf)
        self.payers = index.payers
        self.by_iban = index.by_iban
        self.by_payer_name = index.by_payer_name
        self.by_name_token = index.by_name_token
        self.name_tokens = index.name_tokens
        self._name_keys: dict[str, str] = {}  # payers send many transfers under the same name
        self._order_keys: dict[int, tuple[object, ...]] = {}
        for item in items:
            if item.amount_due <= 0:
                continue
            self.items[item.id] = item
            self.remaining[item.id] = item.amount_due
            self.by_customer[item.customer_id].append(item.id)
            key = compact(item.number)
            if key:
                self.by_number[key].append(item.id)
            self.by_amount[item.amount_due].append(item.id)
            if item.payment_reference:
                self.by_rf[compact(item.payment_reference)] = ("invoice", item.id)
        self.max_number = max((len(k) for k in self.by_number), default=0)

    # ----------------------------------------------------------------- public

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

    # ----------------------------------------------------------------- finding

    @staticmethod
    def texts(receipt: Receipt) -> list[list[str]]:
        """The words of the receipt's free text, end-to-end id and structured reference."""
        return [tokens(t) for t in (receipt.remittance, receipt.end_to_end_id, receipt.structured_reference) if t]

    def rf_targets(self, receipt: Receipt, texts: list[list[str]] | None = None) -> list[tuple[str, int]]:
        """Our RF references carried by the receipt (structured field first, then the text)."""
        found: list[tuple[str, int]] = []
        structured = compact(receipt.structured_reference)
        if structured in self.by_rf:
            found.append(self.by_rf[structured])
        for toks in self.texts(receipt) if texts is None else texts:
            for i, tok in enumerate(toks):
                if not (tok.startswith("RF") and len(tok) >= 4 and tok[2:4].isdigit()):
                    continue
                joined, best = "", None
                for j in range(i, len(toks)):
                    joined += toks[j]
                    if len(joined) > RF_MAX:
                        break
                    if joined in self.by_rf:
                        best = self.by_rf[joined]
                if best is not None and best not in found:
                    found.append(best)
        return found

    def numbers_in_text(self, receipt: Receipt, texts: list[list[str]] | None = None) -> list[int]:
        """Invoices (open when the matcher was built) whose number appears in the text (order of appearance). At each
        position the longest number wins and its words are consumed, and a number must start
        and end on word boundaries: « F-123 » never yields F-12."""
        found: list[int] = []
        if not self.max_number:
            return found
        for toks in self.texts(receipt) if texts is None else texts:
            i = 0
            while i < len(toks):
                joined, best, best_end = "", None, i
                for j in range(i, len(toks)):
                    joined += toks[j]
                    if len(joined) > self.max_number:
                        break
                    if joined in self.by_number:
                        best, best_end = joined, j
                if best is None:
                    i += 1
                    continue
                for inv in self.by_number[best]:
                    if inv not in found:  # settled by an earlier line too: the caller tells
                        found.append(inv)
                i = best_end + 1
        return found

    def similar_payers(self, name: str) -> list[tuple[int, float]]:
        toks = name_tokens(name)
        if not toks:
            return []
        seen: set[int] = set()
        for tok in toks:
            ids = self.by_name_token.get(tok, ())
            if 0 < len(ids) <= COMMON_TOKEN:
                seen.update(ids)
        scored = []
        for pid in seen:
            best = max((name_similarity(toks, other) for other in self.name_tokens.get(pid, ())), default=0.0)
            if best >= NAME_THRESHOLD:
                scored.append((pid, best))
        scored.sort(key=lambda pair: (-pair[1], pair[0]))
        return scored[:MAX_CANDIDATES]

    def identified_payer(self, receipt: Receipt) -> tuple[int, str] | None:
        """The customer recognised by a learnt payer IBAN, else by a learnt payer name."""
        iban = compact_iban(receipt.counterparty_iban)
        if iban and iban in self.by_iban:
            return self.by_iban[iban], "iban"
        name = receipt.counterparty_name
        key = self._name_keys.get(name)
        if key is None:
            key = self._name_keys[name] = name_key(name)
        if key and key in self.by_payer_name:
            return self.by_payer_name[key], "payer_name"
        return None

    # ----------------------------------------------------------------- deciding

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

    # ----------------------------------------------------------------- helpers

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



# --------------------------------------------------------------------------- bounded loading


def lookup_keys(receipt: Receipt, longest_number: int) -> tuple[set[str], set[str]]:
    """Every key :meth:`Matcher.rf_targets` and :meth:`Matcher.numbers_in_text` can look up
    for ``receipt``: the RF references (compact) and the invoice numbers (compact, at most
    ``longest_number`` characters) its texts may carry. A matcher whose invoices include every
    open invoice named by these keys, every open invoice of the receipt's amount, and all the
    open invoices of the customers it can point at (its payer, the customers of those
    invoices, those of similar names) decides the receipt as one built over every invoice:
    the review list loads that much, not the ledger."""
    references: set[str] = set()
    numbers: set[str] = set()
    structured = compact(receipt.structured_reference)
    if structured:
        references.add(structured)
    for toks in Matcher.texts(receipt):
        for i, tok in enumerate(toks):
            rf = tok.startswith("RF") and len(tok) >= 4 and tok[2:4].isdigit()
            joined = ""
            for j in range(i, len(toks)):
                joined += toks[j]
                if len(joined) > max(longest_number, RF_MAX if rf else 0):
                    break
                if len(joined) <= longest_number:
                    numbers.add(joined)
                if rf and len(joined) <= RF_MAX:
                    references.add(joined)
    return references, numbers
