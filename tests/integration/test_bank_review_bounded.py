"""The review list reads only what its lines can match (issue #5): the matcher it builds over
those invoices decides every line as the one built over the whole ledger, an invoice paid
meanwhile is never proposed, and the index of invoice numbers kept in memory follows the
invoices added and deleted."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from relance.banking.services import matching
from relance.banking.services.review import review_list
from relance.banking.services.statements import import_statement
from relance.core.matching import Matcher, Receipt, lookup_keys
from relance.ledger.models import Customer, CustomerAlias, Invoice, Organisation
from relance.ledger.services.payments import record_payment
from tests.builders import make_org
from tests.integration.test_bank_import import (
    OWN_IBAN,
    PAYER_IBAN,
    Entry,
    customer,
    invoice,
    write_statement,
)

ON = date(2025, 3, 10)


def receipt(amount: str, **fields: str) -> Receipt:
    return Receipt(key=0, amount=Decimal(amount), on=ON, **fields)


RECEIPTS = [
    receipt("300.00", structured_reference="{m1}"),  # the RF reference of an invoice
    receipt("450.00", remittance="Paiement {m2_spaced} merci"),  # the same, with spaces, in the text
    receipt("750.00", structured_reference="{martin}"),  # the RF reference of a customer
    receipt("1200.50", remittance="Facture F 2025/0042"),  # a number in another spelling
    receipt("95.00", remittance="règlement F-123"),  # never taken for F-12
    receipt("720.00", remittance="F-2025-0050 F-12"),  # invoices of two customers
    receipt("100.00", remittance="F-2025-0041"),  # partial payment of a designated invoice
    receipt("9000.00", remittance="F-2025-0041"),  # over-payment
    receipt("1500.50", counterparty_iban=PAYER_IBAN, remittance="REGLEMENT"),  # a learnt IBAN: two invoices
    receipt("400.00", counterparty_iban=PAYER_IBAN),  # a learnt IBAN: partial payment
    receipt("80.00", counterparty_name="GARAGE DU CENTRE SARL"),  # a learnt payer name
    receipt("640.00", counterparty_name="M. JEAN PETIT"),  # a similar name only
    receipt("333.33", counterparty_name="SAS TOUT AUTRE"),  # the amount of one invoice only
    receipt("12.34", counterparty_name="REMBOURSEMENT ASSURANCE"),  # nothing
    receipt("300.00", currency="USD", structured_reference="{m1}"),  # another currency
    receipt("58.00", structured_reference="INV-2025-77"),  # an e-invoice's own reference, stored with spaces
    receipt("0.00", remittance="F-12"),
]


@pytest.fixture
def ledger() -> dict[str, object]:
    org = make_org(iban=OWN_IBAN)
    martin = customer(org, "C001", "Boulangerie Martin SARL")
    garage = customer(org, "C002", "Garage du Centre")
    petit = customer(org, "C003", "Jean Petit")
    other = customer(org, "C004", "Société Lointaine")
    invoices = {
        "m1": invoice(martin, "F-2025-0040", "300.00", date(2025, 1, 31)),
        "m2": invoice(martin, "F-2025-0041", "450.00", date(2025, 2, 15)),
        "m3": invoice(martin, "F-2025-0042", "1200.50", date(2025, 2, 28)),
        "g1": invoice(garage, "F-12", "80.00", date(2025, 2, 10)),
        "g2": invoice(garage, "F-123", "95.00", date(2025, 2, 20)),
        "p1": invoice(petit, "F-2025-0050", "640.00", date(2025, 2, 1)),
        "o1": invoice(other, "L-9", "333.33", date(2025, 2, 1)),
        "o2": invoice(other, "L-10", "58.00", date(2025, 2, 1)),
    }
    Invoice.objects.filter(pk=invoices["o2"].pk).update(payment_reference="INV 2025/77")
    CustomerAlias.objects.create(organisation=org, customer=martin, kind="iban", value=PAYER_IBAN)
    CustomerAlias.objects.create(organisation=org, customer=garage, kind="payer_name", value="GARAGE DU CENTRE")
    martin.refresh_from_db()
    return {"org": org, "martin": martin, **invoices}


def receipts(ledger: dict[str, object]) -> list[Receipt]:
    refs = {k: getattr(v, "payment_reference", "") for k, v in ledger.items()}
    refs["m2_spaced"] = " ".join(refs["m2"][i:i + 4] for i in range(0, len(refs["m2"]), 4))
    out = []
    for n, r in enumerate(RECEIPTS):
        out.append(replace(r, key=n, remittance=r.remittance.format(**refs),
                           structured_reference=r.structured_reference.format(**refs)))
    return out


def decisions(matcher: Matcher, rs: list[Receipt]) -> list[object]:
    return [matcher.decide(r) for r in rs]


@pytest.mark.django_db
def test_the_bounded_matcher_decides_every_line_as_the_whole_ledger_does(ledger: dict[str, object]) -> None:
    org = ledger["org"]
    assert isinstance(org, Organisation)
    rs = receipts(ledger)
    assert rs[0].structured_reference.startswith("RF") and " " in rs[1].remittance
    full = decisions(matching.load_matcher(org), rs)
    assert decisions(matching.load_matcher_for(org, rs), rs) == full  # all the lines at once
    for r, expected in zip(rs, full, strict=True):  # and each on its own
        assert matching.load_matcher_for(org, [r]).decide(r) == expected
    outcomes = [d.outcome for d in full]  # type: ignore[attr-defined]
    assert outcomes.count("matched") >= 5 and outcomes.count("review") >= 4 and "unmatched" in outcomes

    # after payments, still the same decisions: the invoices are read afresh
    record_payment(org, ledger["martin"], "VIR-1", ON, Decimal("450.00"), designated=["F-2025-0041"])
    record_payment(org, Customer.objects.get(code="C004"), "VIR-2", ON, Decimal("333.33"), designated=["L-9"])
    assert decisions(matching.load_matcher_for(org, rs), rs) == decisions(matching.load_matcher(org), rs)


@pytest.mark.django_db
def test_only_what_the_lines_can_match_is_read(ledger: dict[str, object]) -> None:
    org = ledger["org"]
    assert isinstance(org, Organisation)
    rs = receipts(ledger)
    named = matching.load_matcher_for(org, [rs[3]])  # « F 2025/0042 »: Martin's invoices
    assert {i.number for i in named.items.values()} == {"F-2025-0040", "F-2025-0041", "F-2025-0042"}
    assert matching.load_matcher_for(org, [rs[13]]).items == {}  # nothing named, no such amount, no such payer
    assert lookup_keys(rs[3], 11)[1] >= {"F20250042", "F", "2025", "0042"}


@pytest.mark.django_db
def test_an_invoice_paid_meanwhile_is_not_proposed(tmp_path: Path, ledger: dict[str, object]) -> None:
    org = ledger["org"]
    assert isinstance(org, Organisation)
    path = write_statement(tmp_path, [Entry("500.00", name="BOULANGERIE MARTIN", text="Factures F-2025-0041")])
    assert import_statement(org, path).to_review == 1
    (item,) = review_list(org)
    assert ("F-2025-0041",) in [c.invoices for c in item.candidates]
    record_payment(org, ledger["martin"], "CHQ-1", ON, Decimal("450.00"), designated=["F-2025-0041"])
    (item,) = review_list(org)
    assert all("F-2025-0041" not in c.invoices for c in item.candidates)
    assert item.candidates  # Martin's other invoices, still open


@pytest.mark.django_db(transaction=True)
def test_the_number_index_kept_in_memory_follows_the_invoices(tmp_path: Path) -> None:
    org = make_org(iban=OWN_IBAN)
    martin = customer(org, "C001", "Boulangerie Martin SARL")
    first = invoice(martin, "F-2025-0040", "300.00", date(2025, 1, 31))
    index = matching.number_index(org)
    assert matching.number_index(org) is index  # nothing changed: kept
    assert index.numbers == {"F20250040": (first.pk,)}

    added = invoice(martin, "FA/2025/77", "77.00", date(2025, 2, 28))
    grown = matching.number_index(org)
    assert grown is not index and grown.numbers["FA202577"] == (added.pk,) and "F20250040" in grown.numbers

    path = write_statement(tmp_path, [Entry("80.00", name="INCONNU", text="FA 2025 77")])  # more than due
    assert import_statement(org, path).to_review == 1
    (item,) = review_list(org)  # outside a transaction: the kept index, the invoices read now
    assert item.candidates[0].invoices == ("FA/2025/77",)
    record_payment(org, martin, "CHQ-1", ON, Decimal("77.00"), designated=["FA/2025/77"])
    (item,) = review_list(org)
    assert all("FA/2025/77" not in c.invoices for c in item.candidates)

    Invoice.objects.filter(pk=first.pk).delete()  # a number left in the index finds nothing
    named = receipt("300.00", remittance="F-2025-0040")
    assert matching.load_matcher_for(org, [named]).items == {}
    assert matching.load_matcher_for(org, [named]).decide(named) == matching.load_matcher(org).decide(named)
