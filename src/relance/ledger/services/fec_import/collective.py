"""The unattributed credits of collective accounts.

On a collective account the customer of a line is only a name read in its label. A payment whose
label names no one (« Remise CB ») lands on the pseudo-customer « (SANS LIBELLÉ) », and one whose
label spells the name another way (« Vrt Grenier MF » for the invoices of « MF Guillaume ») on a
customer of its own without invoices: either way it settles nothing, and the invoices it paid look
unpaid. relance never chases a paid invoice, so while such credits are left on a collective
account, every customer of that account with open invoices is paused (a ``relance.holds`` ``Hold``, kind
pause, no end date, reason « paiements non attribués sur le compte collectif … »), and the
pseudo-customer, who is no one, is never chased at all. The holds are brought to the ledger's state
after each FEC import and each label mapping (:func:`sync_collective_holds`): assigning the labels
to the right customers, or re-importing a corrected FEC, lifts them, with their events."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Q

from relance.bulk import chunks
from relance.core.formats.fec import NO_LABEL, Receivables
from relance.core.formatting import money
from relance.core.money import ZERO
from relance.ledger.models import Allocation, CreditNote, Customer, CustomerAlias, Invoice, Organisation, Payment
from relance.ledger.signals import collective_holds

from .identities import (
    CREDIT_NOTE,
    CREDIT_PREFIX,
    LABEL_CODE_PREFIX,
    PAYMENT,
    _credit_account,
    _credit_label,
    _key_account,
    credit_ident,
)
from .report import Unattributed, _n

UNATTRIBUTED_REASON = "paiements non attribués sur le compte collectif"


NOT_A_CUSTOMER_REASON = "« (SANS LIBELLÉ) » n’est pas un client"


#: the code of the pseudo-customer of the lines whose label names no one (``_label_code(NO_LABEL)``)
NO_LABEL_CODE = LABEL_CODE_PREFIX + "SANS-LIBELLE"


@dataclass(frozen=True)
class CollectiveHold:
    """A pause that must be active on a whole customer (see ``holds.services.collective``)."""

    customer_id: int
    reason: str
    note: str
    data: dict[str, Any]


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
    """Bring the pauses of the collective accounts to the ledger's state: holds creates the
    missing ones and lifts the others, with their events (``ledger.signals.collective_holds``, heard
    by ``holds.services.collective.pause_collective_accounts``).
    Nothing is done for an organisation that never had customers derived from entry labels."""
    if not CustomerAlias.objects.filter(organisation=organisation, kind=CustomerAlias.Kind.FEC_LABEL).exists():
        return {}
    holds, found = collective_hold_plan(organisation)
    collective_holds.send(sender=Customer, organisation=organisation, holds=holds, actor=actor)
    return found
