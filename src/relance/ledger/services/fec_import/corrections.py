"""Correcting a guess of an import: the lines grouped under an entry label belong to another customer."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import Q

from relance.bulk import chunks
from relance.core.formats.fec import label_key_suffix, name_from_label
from relance.errors import NotFound
from relance.events import kinds
from relance.events.services import record_many
from relance.ledger.models import CreditNote, Customer, CustomerAlias, Invoice, Organisation, Payment
from relance.ledger.signals import invoices_moved
from relance.locks import lock_invoices

from ..balances import refresh_balances
from .collective import sync_collective_holds
from .credits import _credit_events, _reallocate
from .identities import CREDIT_PREFIX, PARTIAL_PREFIX, SETTLED_PREFIX


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
        invoices = lock_invoices(Invoice.objects.filter(
            organisation=organisation, customer_id=previous, source_key__endswith=suffix).values_list("pk", flat=True))
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
