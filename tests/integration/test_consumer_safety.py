"""Consumers never receive business-only mentions (issue #11).

Every shipped template (French and English), the payment-plan agreement letter, the instalment
notices, the broken-promise message and the call scripts are rendered for a business and for a
consumer of the same organisation, with real charges: an overdue invoice, a formal notice already
sent, justified recovery costs recorded. The consumer's text must not name L441-10, D441-5, the
40 € indemnity, « indemnité forfaitaire », « pénalités de retard » nor a company stamp: claiming
collection costs from a consumer is forbidden (CPCE L111-8), and their interest runs only from the
formal notice (C. civ. 1231-6, 1344-1; a clause pénale, 1231-5 al. 5).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from relance.core.law import RateTables
from relance.documents.plan_letter import plan_agreement_html
from relance.dunning.models import CallTask
from relance.dunning.services.calls import CallContact, CallInvoice, call_script
from relance.dunning.services.charges import charges_of_invoices
from relance.dunning.services.messages import TEMPLATE_DIR, build_context, render, shipped_source
from relance.dunning.services.payment_details import payment_block_for
from relance.dunning.services.plan_messages import agreement_document
from relance.holds.services.plans import propose_plan
from relance.holds.services.wording import agreement_context, instalment_context, sample_hold_variables
from relance.ledger.models import Contact, Customer, Invoice, Organisation, RecoveryCost
from tests.builders import make_org

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("pinned_clock")]

TODAY = date(2026, 6, 15)  # every day of the charges in 2026-S1: the shipped tables know its rates
NOTICE = date(2026, 4, 1)

#: business-only mentions, on whitespace-normalised text
FORBIDDEN = [
    re.compile(p, re.IGNORECASE) for p in (
        r"L\s?441", r"D\s?441", r"\b40\s?€", r"\b40,00\s?€", r"€\s?40\b", r"indemnit[ée] forfaitaire",
        r"p[ée]nalit[ée]s? de retard", r"cachet", r"stamp", r"recovery fee", r"frais de recouvrement",
        r"recovery costs",
    )
]
KEYS = sorted(p.stem for p in (TEMPLATE_DIR / "fr").glob("*.txt"))


def _plain(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())


def business_only(text: str) -> list[str]:
    plain = _plain(text)
    return [m.group(0) for p in FORBIDDEN for m in [p.search(plain)] if m]


@pytest.fixture(params=["legal_rate", "with_clauses"])
def org(request: pytest.FixtureRequest) -> Organisation:
    """The default organisation, and one with a contractual rate and a consumer clause."""
    if request.param == "with_clauses":
        return make_org(penalty_rate=Decimal("15.00"), consumer_penalty_rate=Decimal("8.00"))
    return make_org()


def _customer(org: Organisation, code: str, business: bool, language: str) -> Customer:
    customer = Customer.objects.create(
        organisation=org, code=code, legal_name="Boulangerie Martin SARL" if business else "Jean Petit",
        is_business=business, language=language, address1="8 impasse des Roses", postal_code="69100",
        city="Villeurbanne", siren="732829320" if business else "",
    )
    Contact.objects.create(organisation=org, customer=customer, civility="M.", first_name="Jean", last_name="Petit",
                           email=f"{code.lower()}@example.test", is_billing=True)
    for number, due, notice in ((f"{code}-1", date(2026, 3, 2), NOTICE), (f"{code}-2", date(2026, 5, 4), None)):
        invoice = Invoice.objects.create(
            organisation=org, customer=customer, number=number, issue_date=due.replace(day=1), due_date=due,
            amount_incl_tax=Decimal("1250.00"), amount_due=Decimal("1250.00"), formal_notice_on=notice,
            reminders_received=2,
        )
        # justified collection costs: a separate amount for a business, never claimed from a consumer
        RecoveryCost.objects.create(organisation=org, invoice=invoice, incurred_on=date(2026, 5, 20),
                                    amount=Decimal("150.00"), description="commissaire de justice",
                                    proof="recovery_costs/facture.pdf")
    return customer


def _context(org: Organisation, customer: Customer, key: str) -> dict[str, Any]:
    invoices = list(Invoice.objects.filter(customer=customer).order_by("due_date"))
    charges = charges_of_invoices(org, invoices, TODAY, RateTables.shipped())
    context = build_context(org, customer, customer.billing_contact, invoices, TODAY, attachments=True,
                            charges=charges, payment_block=payment_block_for(org, customer, invoices))
    holds = sample_hold_variables(customer.language)
    holds["echeancier"]["renonciation_penalites"] = True  # the waiver's wording too
    return {**context, **holds}


def _render_all(org: Organisation, customer: Customer) -> dict[str, str]:
    out = {}
    for key in KEYS:
        message = render(org, key, _context(org, customer, key), shipped_source(key, customer.language))
        out[key] = "\n".join((message.subject, message.text, message.html))
    return out


@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_template_for_a_consumer_is_free_of_business_only_mentions(org: Organisation, language: str):
    business = _render_all(org, _customer(org, "B001", True, language))
    consumer = _render_all(org, _customer(org, "P001", False, language))
    assert set(consumer) == set(KEYS) and len(KEYS) >= 12
    problems = {key: business_only(text) for key, text in consumer.items() if business_only(text)}
    assert problems == {}
    # the test is not vacuous: the business versions do state them
    assert {"mise_en_demeure", "relance_2", "relance_3", "courrier"} <= {k for k, t in business.items()
                                                                       if business_only(t)}
    # the business's justified costs come apart from the 40 € per invoice
    notice = _plain(business["mise_en_demeure"])
    if language == "fr":
        assert "80,00 € d’indemnité forfaitaire" in notice and "220,00 € de frais de recouvrement justifiés" in notice
        assert "de 40 € par facture" in notice  # _plain: no-break spaces as spaces
    else:
        assert "€220.00 of justified recovery costs" in notice


@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_consumer_formal_notice_states_interest_from_the_notice_only(org: Organisation, language: str):
    consumer = _customer(org, "P001", False, language)
    text = _plain(_render_all(org, consumer)["mise_en_demeure"])
    clause = org.consumer_penalty_rate is not None
    if language == "fr":
        assert "d’intérêts de retard" in text and "depuis notre mise en demeure du 1 avril 2026" in text.replace(
            "1er", "1")
        assert ("article 1231-5 du Code civil" in text) == clause
        assert ("taux légal" in text) == (not clause)
    else:
        assert "since our formal notice of 1 April 2026" in text
    # the interest runs from the notice: 75 days on the first invoice only (the second has no notice)
    charges = charges_of_invoices(org, list(Invoice.objects.filter(customer=consumer)), TODAY, RateTables.shipped())
    first = next(c for c in charges.values() if c.invoice.formal_notice_on)
    other = next(c for c in charges.values() if not c.invoice.formal_notice_on)
    assert (first.clause or first.interest) is not None and first.indemnity == first.complement == Decimal(0)
    result = first.clause or first.interest
    assert result is not None and result.periods[0].start == date(2026, 4, 2)
    assert other.late_charge == Decimal(0) and other.indemnity == Decimal(0)


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("waive", [True, False])
def test_the_plan_agreement_letter_of_a_consumer(org: Organisation, language: str, waive: bool):
    texts = {}
    for code, business in (("B001", True), ("P001", False)):
        customer = _customer(org, code, business, language)
        plan = propose_plan(org, customer, [f"{code}-1", f"{code}-2"], count=3, first_due=date(2026, 7, 1),
                            waive_penalties=waive, today=TODAY)
        doc = agreement_document(org, plan, TODAY)
        texts[business] = plan_agreement_html(doc)
        for key in ("accord_echeancier", "accord_echeancier_envoi"):
            context = {**_context(org, customer, key), **agreement_context(plan, language, TODAY)}
            texts[business] += render(org, key, context, shipped_source(key, language)).text
        for inst in plan.instalments.all():
            for key in ("echeance_a_venir", "echeance_impayee"):
                context = {**_context(org, customer, key), **instalment_context(inst, language, TODAY)}
                texts[business] += render(org, key, context, shipped_source(key, language)).text
    assert business_only(texts[False]) == []
    assert business_only(texts[True])  # L441-10, the stamp… are right for the business


@pytest.mark.parametrize("language", ["fr", "en"])
def test_call_scripts_of_a_consumer(org: Organisation, language: str):
    consumer = _customer(org, "P001", False, language)
    rows = [CallInvoice(i.pk, i.number, i.issue_date, i.due_date, i.amount_due, i.currency, i.days_late(TODAY), "")
            for i in Invoice.objects.filter(customer=consumer)]
    contact = CallContact(1, "M. Jean Petit", "", "06 00 00 00 00", "", False)
    for purpose in CallTask.Purpose.values:
        for tone in range(1, 6):
            lines = call_script(org, consumer, contact, rows, rows, CallTask(purpose=purpose), tone,
                                ["Facture non reçue", "Montant contesté", "Autre"], TODAY)
            assert business_only("\n".join(lines)) == [], (purpose, tone)
