"""The indexes a matcher decides with: the customers by what identifies them on a transfer
(:class:`PayerIndex`), the open invoices by customer, number, amount and reference, and what is
left to pay on each (:class:`Indexes`). Built once; deciding is then dictionary look-ups."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from ..iban import compact_iban
from .model import OpenItem, Payer
from .text import compact, name_key, name_tokens


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


class Indexes:
    """The open invoices indexed once (``remaining``: what each still owes, lowered as the receipts
    of an import are decided), beside the customers' :class:`PayerIndex`."""

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
