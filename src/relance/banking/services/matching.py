"""Decide the receipts of a statement and apply the confident matches, in bulk.

The open invoices, the customers and the learnt payer aliases are loaded once
(:func:`load_matcher`); ``core.matching.Matcher`` decides every line with dictionary
look-ups; the matches are then written with a constant number of statements per batch:
payments (reference ``BANQUE-<line id>``, method « virement »), allocations, learnt aliases
(payer IBAN and name), events, and the balances of the invoices paid through
``ledger.services.balances.refresh_balances`` — which sends ``invoices_settled``: dunning
cancels the pending reminders of settled invoices and plans the thank-you. No query per line.

Lines, payments and allocations are inserted with :func:`relance.bulk.insert_rows`:
Django's ``bulk_create`` compiles every field of every row in Python, which at 100 000 rows
costs more than the matching itself.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from django.db import connection
from django.db.models import CharField, Count, Max, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Cast, Concat

from relance import clock
from relance.bulk import chunks, insert_rows
from relance.core.matching import (
    Candidate,
    Decision,
    Matcher,
    OpenItem,
    Outcome,
    Payer,
    PayerIndex,
    Receipt,
    compact,
    lookup_keys,
    name_key,
)
from relance.errors import Conflict
from relance.events import kinds
from relance.events.services import NewEvent, record_many
from relance.ledger.models import Allocation, Customer, CustomerAlias, Invoice, Organisation, Payment
from relance.ledger.services.balances import refresh_balances
from relance.locks import lock_invoices

from ..models import BankTransaction

CHUNK = 2000
#: what the matcher reads of an invoice (``core.matching.OpenItem``)
ITEM_FIELDS = ("id", "number", "customer_id", "due_date", "issue_date", "amount_due", "currency", "payment_reference")
METHOD = "virement"
#: how a line was matched, in French (``BankTransaction.method``)
METHOD_LABELS = {
    "rf": "référence RF de la facture",
    "rf_customer": "référence RF du client",
    "number": "numéro de facture dans le libellé",
    "iban": "IBAN du payeur",
    "payer_name": "nom du payeur",
    "name": "nom proche",
    "amount": "montant",
    "manual": "rapprochement manuel",
}


class Line(Protocol):
    """What the matching reads of a bank line: a stored ``BankTransaction`` or a ``NewLine``."""

    @property
    def pk(self) -> Any: ...
    @property
    def booking_date(self) -> date: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def currency(self) -> str: ...
    @property
    def counterparty_name(self) -> str: ...
    @property
    def counterparty_iban(self) -> str: ...
    @property
    def remittance(self) -> str: ...
    @property
    def structured_reference(self) -> str: ...
    @property
    def end_to_end_id(self) -> str: ...
    @property
    def payment_reference(self) -> str: ...


@dataclass
class NewLine:
    """A credit line read from a statement, decided before it is stored (then ``pk`` is set)."""

    account_id: int
    fingerprint: str
    location: str
    booking_date: date
    value_date: date | None
    amount: Decimal
    currency: str
    counterparty_name: str = ""
    counterparty_iban: str = ""
    remittance: str = ""
    structured_reference: str = ""
    end_to_end_id: str = ""
    bank_reference: str = ""
    status: str = BankTransaction.Status.UNMATCHED
    method: str = ""
    reason: str = ""
    decided_by: str = ""
    decided_at: datetime | None = None
    pk: int | None = None

    @property
    def payment_reference(self) -> str:
        return f"BANQUE-{self.pk}"


LINE_FIELDS = ("organisation", "account", "statement_file", "location", "fingerprint", "booking_date", "value_date",
               "amount", "currency", "counterparty_name", "counterparty_iban", "remittance", "structured_reference",
               "end_to_end_id", "bank_reference", "status", "method", "reason", "decided_by", "decided_at",
               "created_at")


@dataclass
class MatchOutcome:
    matched: int = 0
    to_review: int = 0
    unmatched: int = 0
    amount_matched: Decimal = Decimal("0.00")
    payments: list[str] = field(default_factory=list)


def store_lines(organisation: Organisation, statement_file_id: int, lines: Sequence[NewLine]) -> None:
    """Insert new lines and give them their ids (read back by fingerprint, one query)."""
    if not lines:
        return
    now = clock.now()
    insert_rows(BankTransaction, LINE_FIELDS, (
        (organisation.pk, line.account_id, statement_file_id, line.location, line.fingerprint, line.booking_date,
         line.value_date, line.amount, line.currency, line.counterparty_name, line.counterparty_iban, line.remittance,
         line.structured_reference, line.end_to_end_id, line.bank_reference, line.status, line.method, line.reason,
         line.decided_by, line.decided_at, now)
        for line in lines))
    ids: dict[str, int] = {}
    prints = [line.fingerprint for line in lines]
    for chunk in chunks(prints):
        ids.update(BankTransaction.objects.filter(organisation=organisation, statement_file_id=statement_file_id,
                                                  fingerprint__in=chunk).values_list("fingerprint", "id"))
    for line in lines:
        line.pk = ids[line.fingerprint]


def _open_invoices(organisation: Organisation) -> QuerySet[Invoice]:
    """The invoices the matcher sees: open, something still due."""
    return Invoice.objects.filter(organisation=organisation, status=Invoice.Status.OPEN, amount_due__gt=0)


def load_matcher(organisation: Organisation) -> Matcher:
    """Every open invoice and every customer of the organisation, with the learnt aliases (three queries)."""
    items = (OpenItem(*row) for row in _open_invoices(organisation).values_list(*ITEM_FIELDS)
             .order_by().iterator(chunk_size=5000))
    return Matcher(items, _payers(organisation))


def _aliases(organisation: Organisation) -> list[tuple[int, str, str]]:
    return list(CustomerAlias.objects.filter(
        organisation=organisation, kind__in=[CustomerAlias.Kind.IBAN, CustomerAlias.Kind.PAYER_NAME]
    ).values_list("customer_id", "kind", "value").order_by("id"))


def _customers(organisation: Organisation) -> QuerySet[Customer, tuple[int, str, str, str]]:
    return (Customer.objects.filter(organisation=organisation)
            .values_list("id", "code", "legal_name", "payment_reference").order_by("id"))


def _payers(organisation: Organisation, aliases: Iterable[tuple[int, str, str]] | None = None,
            customers: Iterable[tuple[int, str, str, str]] | None = None) -> Iterator[Payer]:
    """Every customer with what identifies it on a transfer: its reference, the payer IBANs and
    names learnt (two queries, unless given their rows)."""
    ibans: dict[int, list[str]] = defaultdict(list)
    names: dict[int, list[str]] = defaultdict(list)
    for customer_id, kind, value in _aliases(organisation) if aliases is None else aliases:
        (ibans if kind == CustomerAlias.Kind.IBAN else names)[customer_id].append(value)
    return (
        Payer(cid, code, name, reference, tuple(ibans.get(cid, ())), tuple(names.get(cid, ())))
        for cid, code, name, reference in (_customers(organisation).iterator(chunk_size=5000) if customers is None
                                           else customers)
    )


_PAYERS: dict[tuple[str, str, int], tuple[object, PayerIndex]] = {}


def payer_index(organisation: Organisation) -> PayerIndex:
    """The organisation's customers indexed for the matcher (:class:`PayerIndex`): read each
    time (two queries), indexed again only when they or their learnt aliases changed."""
    rows = (_aliases(organisation), list(_customers(organisation)))
    key = (connection.alias, str(connection.settings_dict["NAME"]), organisation.pk)
    known = _PAYERS.get(key)
    if known is not None and known[0] == rows:
        return known[1]
    index = PayerIndex(_payers(organisation, *rows))
    with _INDEXES_LOCK:
        _PAYERS[key] = (rows, index)
    return index


# --------------------------------------------------------------------------- bounded: the review list


@dataclass(frozen=True)
class NumberIndex:
    """The organisation's invoice numbers (every status) by their compact form, and the
    references of those whose stored form is not compact (an e-invoice's own, BT-83). Both are
    written with the invoice and never changed: the index is kept in memory, extended with the
    invoices added since, rebuilt when others appeared or went (:func:`number_index`)."""

    counts: tuple[int, int, int]  # how many invoices, the highest id, the sum of the ids
    numbers: Mapping[str, tuple[int, ...]]
    references: Mapping[str, tuple[int, ...]]
    longest: int


_INDEXES: dict[tuple[str, str, int], NumberIndex] = {}
_INDEXES_LOCK = threading.Lock()


def _summary(counts: tuple[int, int, int]) -> tuple[int, ...]:
    """What tells whether the index still covers every invoice. SQLite's writers take turns, so
    ids become visible in order: the highest id says it (and an invoice deleted only leaves a
    number that finds nothing). PostgreSQL hands ids out before the commit, so one can appear
    below the highest: the count and the sum of the ids say it."""
    return counts[1:2] if connection.vendor == "sqlite" else counts


def _current_counts(organisation: Organisation) -> tuple[int, ...]:
    """:func:`_summary` of the organisation's invoices now (one query on an index)."""
    invoices = Invoice.objects.filter(organisation=organisation)
    if connection.vendor == "sqlite":
        return _summary((0, int(invoices.aggregate(top=Max("id"))["top"] or 0), 0))
    row = invoices.aggregate(n=Count("id"), top=Max("id"), total=Sum("id"))
    return _summary((int(row["n"]), int(row["top"] or 0), int(row["total"] or 0)))


def _indexed(rows: Iterable[tuple[int, str, str]], numbers: dict[str, list[int]],
             references: dict[str, list[int]]) -> tuple[int, int, int]:
    n = top = total = 0
    for invoice_id, number, reference in rows:
        n, top, total = n + 1, max(top, invoice_id), total + invoice_id
        numbers.setdefault(compact(number), []).append(invoice_id)
        if reference and compact(reference) != reference:
            references.setdefault(compact(reference), []).append(invoice_id)
    return n, top, total


def number_index(organisation: Organisation) -> NumberIndex:
    """The organisation's :class:`NumberIndex`, read again only when its invoices changed:
    the new ones when invoices were only added, all of them otherwise. Inside a transaction
    it is read afresh and not kept: what it sees may be rolled back, and the ids given again."""
    cacheable = not connection.in_atomic_block
    now = _current_counts(organisation) if cacheable else None
    key = (connection.alias, str(connection.settings_dict["NAME"]), organisation.pk)
    known = _INDEXES.get(key) if cacheable else None
    if known is not None and _summary(known.counts) == now:
        return known
    invoices = Invoice.objects.filter(organisation=organisation).order_by().values_list(
        "id", "number", "payment_reference")
    numbers: dict[str, list[int]] = {}
    references: dict[str, list[int]] = {}
    counts: tuple[int, int, int] | None = None
    if known is not None:  # invoices added since: the new ones only
        numbers.update((k, list(ids)) for k, ids in known.numbers.items())
        references.update((k, list(ids)) for k, ids in known.references.items())
        n, top, total = _indexed(invoices.filter(id__gt=known.counts[1]).iterator(chunk_size=5000),
                                 numbers, references)
        counts = (known.counts[0] + n, max(top, known.counts[1]), known.counts[2] + total)
    if counts is None or _summary(counts) != now:  # others appeared or went (or not kept): all of them
        numbers.clear()
        references.clear()
        counts = _indexed(invoices.iterator(chunk_size=5000), numbers, references)
    index = NumberIndex(counts, {k: tuple(v) for k, v in numbers.items()},
                        {k: tuple(v) for k, v in references.items()}, max(map(len, numbers), default=0))
    if cacheable:
        with _INDEXES_LOCK:
            _INDEXES[key] = index
    return index


def load_matcher_for(organisation: Organisation, receipts: Sequence[Receipt]) -> Matcher:
    """A matcher that decides ``receipts`` as :func:`load_matcher` would, built over only the
    invoices they can match (``core.matching.lookup_keys``): those their texts name (number or
    RF reference), those of their amount, and every open invoice of the customers they can
    point at. What it reads is bounded by the receipts, not by the ledger; the invoices are
    read now, so one paid meanwhile is not proposed."""
    payers = payer_index(organisation)  # every customer: the similarity of names compares with all
    index = number_index(organisation)
    references: set[str] = set()
    numbers: set[str] = set()
    for receipt in receipts:
        found = lookup_keys(receipt, index.longest)
        references |= found[0]
        numbers |= found[1]
    named = {i for k in numbers for i in index.numbers.get(k, ())}
    named |= {i for k in references for i in index.references.get(k, ())}
    probe = Matcher((), payers)  # without invoices: the customers a receipt can point at
    customers: set[int] = set()
    for receipt in receipts:
        payer = probe.identified_payer(receipt)
        if payer is not None:
            customers.add(payer[0])
        customers.update(c for kind, c in probe.rf_targets(receipt) if kind == "customer")
        customers.update(c for c, _ in probe.similar_payers(receipt.counterparty_name))
    # one query: the open invoices of these amounts (a scan of an index), and all those of the
    # customers above and of the customers of the invoices named (their other invoices are candidates too)
    named_by = Invoice.objects.filter(organisation=organisation).filter(
        Q(id__in=sorted(named)) | Q(payment_reference__in=sorted(references))).values("customer_id")
    rows = {row[0]: row for row in _open_invoices(organisation).order_by().filter(
        Q(amount_due__in=sorted({r.amount for r in receipts})) | Q(customer_id__in=sorted(customers))
        | Q(customer_id__in=named_by)).values_list(*ITEM_FIELDS)}
    return Matcher((OpenItem(*rows[i]) for i in sorted(rows)), payers)


def receipt_of(line: Line, key: Any = None) -> Receipt:
    return Receipt(
        key=line.pk if key is None else key, amount=line.amount, on=line.booking_date, currency=line.currency,
        counterparty_name=line.counterparty_name, counterparty_iban=line.counterparty_iban,
        remittance=line.remittance, structured_reference=line.structured_reference,
        end_to_end_id=line.end_to_end_id,
    )


_STATUS = {Outcome.MATCHED: BankTransaction.Status.MATCHED, Outcome.REVIEW: BankTransaction.Status.TO_REVIEW,
           Outcome.UNMATCHED: BankTransaction.Status.UNMATCHED}


def decide_new_lines(organisation: Organisation, lines: Sequence[NewLine], actor: str,
                     matcher: Matcher | None = None) -> list[Decision]:
    """Decide lines not stored yet (date order, each match deducted before the next line)
    and set their status, method and reason accordingly."""
    if not lines:
        return []
    matcher = matcher or load_matcher(organisation)
    decisions = matcher.decide_all([receipt_of(line, n) for n, line in enumerate(lines)], consume=True)
    now = clock.now()
    for line, decision in zip(lines, decisions, strict=True):
        line.status = _STATUS[decision.outcome]
        line.method = decision.method[:20]
        line.reason = decision.reason[:300]
        if decision.outcome == Outcome.MATCHED:
            line.decided_by, line.decided_at = actor[:150], now
    return decisions


def match_lines(organisation: Organisation, lines: Sequence[NewLine], decisions: Sequence[Decision], *,
                actor: str) -> MatchOutcome:
    """Lines stored with their decision: apply the matches, write the events of the others."""
    outcome = MatchOutcome()
    if not lines:
        return outcome
    matched = [(line, d) for line, d in zip(lines, decisions, strict=True) if d.outcome == Outcome.MATCHED]
    outcome.payments = apply_decisions(organisation, matched, actor=actor)
    outcome.matched = len(matched)
    outcome.amount_matched = sum((line.amount for line, _ in matched), Decimal("0.00"))
    others = [(line, d) for line, d in zip(lines, decisions, strict=True) if d.outcome != Outcome.MATCHED]
    outcome.to_review = sum(1 for _, d in others if d.outcome == Outcome.REVIEW)
    outcome.unmatched = len(others) - outcome.to_review
    if others:
        codes = _codes(organisation, {c.customer_id for _, d in others for c in d.candidates[:3]})
        numbers = _numbers(organisation, {i for _, d in others for c in d.candidates[:3] for i in c.invoice_ids})
        record_many(organisation, [
            kinds.bank_line_unmatched(
                kinds.BANK_LINE_TO_REVIEW if d.outcome == Outcome.REVIEW else kinds.BANK_LINE_UNMATCHED,
                line=line_data(line), reason=d.reason, actor=actor,
                candidates=[_candidate_data(c, codes, numbers) for c in d.candidates[:3]])
            for line, d in others
        ])
    return outcome


def _codes(organisation: Organisation, ids: Iterable[int]) -> dict[int, str]:
    codes: dict[int, str] = {}
    for chunk in chunks(list(set(ids))):
        codes.update(Customer.objects.filter(organisation=organisation, id__in=chunk).values_list("id", "code"))
    return codes


def _numbers(organisation: Organisation, ids: Iterable[int]) -> dict[int, str]:
    numbers: dict[int, str] = {}
    for chunk in chunks(list(set(ids))):
        numbers.update(Invoice.objects.filter(organisation=organisation, id__in=chunk).values_list("id", "number"))
    return numbers


def line_data(line: Line) -> dict[str, Any]:
    """A bank line as its events carry it."""
    return {"line": line.pk, "date": line.booking_date, "amount": line.amount, "currency": line.currency,
            "counterparty": line.counterparty_name, "iban": line.counterparty_iban,
            "remittance": line.remittance[:300], "reference": line.structured_reference,
            "end_to_end_id": line.end_to_end_id}


def _candidate_data(c: Candidate, codes: dict[int, str], numbers: dict[int, str]) -> dict[str, Any]:
    return {"customer": codes.get(c.customer_id, str(c.customer_id)),
            "invoices": [numbers.get(i, str(i)) for i in c.invoice_ids], "amount": c.amount, "score": c.score,
            "reason": c.reason}


def apply_decisions(organisation: Organisation, matched: Sequence[tuple[Line, Decision]], *, actor: str) -> list[str]:
    """Record the payments of matched lines (stored, status set) and everything that follows.
    Returns the payment references. Runs inside the caller's transaction."""
    if not matched:
        return []
    if any(d.customer_id is None for _, d in matched):
        raise ValueError("a matched decision names its customer")
    _check_still_due(organisation, matched)
    now = clock.now()
    references = [line.payment_reference for line, _ in matched]
    insert_rows(Payment, ("organisation", "customer", "reference", "date", "amount", "method", "created_at"), (
        (organisation.pk, d.customer_id, line.payment_reference, line.booking_date, line.amount, METHOD, now)
        for line, d in matched))
    payment_ids: dict[str, int] = {}
    for chunk in chunks(references):
        payment_ids.update(Payment.objects.filter(organisation=organisation, reference__in=chunk)
                           .values_list("reference", "id"))
    insert_rows(Allocation, ("organisation", "invoice", "payment", "credit_note", "amount", "date"), (
        (organisation.pk, part.invoice_id, payment_ids[line.payment_reference], None, part.amount, line.booking_date)
        for line, d in matched for part in d.allocations))
    _link_payments(organisation, [line.pk for line, _ in matched])
    _learn_aliases(organisation, matched)

    numbers = _numbers(organisation, {p.invoice_id for _, d in matched for p in d.allocations})
    events: list[NewEvent] = []
    for line, d in matched:
        parts = [{"invoice": numbers[p.invoice_id], "amount": p.amount} for p in d.allocations]
        events.append(kinds.payment_recorded(
            customer_id=d.customer_id, reference=line.payment_reference, date=line.booking_date, amount=line.amount,
            method=METHOD, bank_line=line.pk, allocations=parts, actor=actor))
        events.append(kinds.bank_line_matched(
            customer_id=d.customer_id, invoice_id=d.allocations[0].invoice_id if len(d.allocations) == 1 else None,
            line=line_data(line), payment=line.payment_reference, method=d.method, reason=d.reason,
            allocations=parts, unallocated=d.unallocated, actor=actor))
    record_many(organisation, events)

    # balances, day by day (the day is the settlement date given to dunning for the thank-you)
    by_day: dict[date, set[int]] = defaultdict(set)
    for line, d in matched:
        by_day[line.booking_date].update(p.invoice_id for p in d.allocations)
    for day in sorted(by_day):
        for ids in chunks(sorted(by_day[day])):
            refresh_balances(organisation, ids, day, actor)
    return references


def _check_still_due(organisation: Organisation, matched: Sequence[tuple[Line, Decision]]) -> None:
    """Lock the invoices about to be paid and check they still owe what the matcher saw
    (a payment recorded meanwhile would otherwise be paid twice)."""
    wanted: dict[int, Decimal] = defaultdict(Decimal)
    for _, d in matched:
        for part in d.allocations:
            wanted[part.invoice_id] += part.amount
    for chunk in chunks(sorted(wanted)):
        # held already when the caller followed the lock order (relance/locks.py)
        for invoice in lock_invoices(chunk):
            invoice_id, number, amount_due, status = invoice.pk, invoice.number, invoice.amount_due, invoice.status
            if invoice.organisation_id != organisation.pk:
                continue
            if status != Invoice.Status.OPEN or wanted[invoice_id] > amount_due:
                raise Conflict(f"la facture {number} a été réglée entre-temps par un autre paiement : "
                               "relancez l’import du relevé")


def _link_payments(organisation: Organisation, line_ids: Sequence[int]) -> None:
    """``line.payment`` from the reference ``BANQUE-<line id>``: one UPDATE per chunk, not one per line."""
    payment = Payment.objects.filter(
        organisation=organisation,
        reference=Concat(Value("BANQUE-"), Cast(OuterRef("pk"), output_field=CharField()), output_field=CharField()),
    ).values("pk")[:1]
    for chunk in chunks(list(line_ids)):
        BankTransaction.objects.filter(organisation=organisation, pk__in=chunk).update(payment=Subquery(payment))


def _learn_aliases(organisation: Organisation, matched: Sequence[tuple[Line, Decision]]) -> None:
    """The payer's IBAN and name, so that its next transfer is recognised (an alias already
    learnt for another customer is kept: the first one wins)."""
    aliases: dict[tuple[str, str], int] = {}
    for line, d in matched:
        if d.customer_id is None:
            continue
        if line.counterparty_iban:
            aliases.setdefault((CustomerAlias.Kind.IBAN, line.counterparty_iban), d.customer_id)
        name = line.counterparty_name.strip()
        if name and name_key(name):
            aliases.setdefault((CustomerAlias.Kind.PAYER_NAME, name[:200]), d.customer_id)
    if not aliases:
        return
    known: set[tuple[str, str]] = set()
    for kind in (CustomerAlias.Kind.IBAN, CustomerAlias.Kind.PAYER_NAME):
        values = [v for k, v in aliases if k == kind]
        for chunk in chunks(values):
            known.update((kind, v) for v in CustomerAlias.objects.filter(
                organisation=organisation, kind=kind, value__in=chunk).values_list("value", flat=True))
    CustomerAlias.objects.bulk_create(
        [CustomerAlias(organisation=organisation, customer_id=cid, kind=kind, value=value)
         for (kind, value), cid in aliases.items() if (kind, value) not in known],
        batch_size=1000, ignore_conflicts=True)
