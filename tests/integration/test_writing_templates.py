"""Every shipped message template (French and English), rendered by the project's own rendering for a
business and for a consumer customer, has no problem for the writing check (issue #17): subject, text
and HTML body."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from relance.core.law import RateTables
from relance.dunning.services.charges import charges_of_invoices
from relance.dunning.services.messages import TEMPLATE_DIR, build_context, render, shipped_source
from relance.dunning.services.payment_details import payment_block_for
from relance.holds.services.wording import sample_hold_variables
from relance.ledger.models import Contact, Customer, Invoice, Organisation
from relance.writing import Problem, check_text
from tests.builders import make_org

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("pinned_clock")]

TODAY = date(2026, 6, 15)
KEYS = sorted(p.stem for p in (TEMPLATE_DIR / "fr").glob("*.txt"))


def _customer(org: Organisation, code: str, business: bool, language: str) -> Customer:
    customer = Customer.objects.create(
        organisation=org, code=code, legal_name="Boulangerie Lefèvre SARL" if business else "Jeanne Kowalski",
        is_business=business, language=language, address1="8 impasse des Roses", postal_code="69100",
        city="Villeurbanne", siren="732829320" if business else "")
    Contact.objects.create(organisation=org, customer=customer, civility="Mme", first_name="Élodie",
                           last_name="Lefèvre" if business else "Kowalski", role="Gérante" if business else "",
                           email=f"{code.lower()}@example.test", is_billing=True)
    for number, due, notice in ((f"F-2026-{code}1", date(2026, 3, 2), date(2026, 4, 1)),
                                (f"F-2026-{code}2", date(2026, 5, 4), None)):
        Invoice.objects.create(organisation=org, customer=customer, number=number, issue_date=due.replace(day=1),
                               due_date=due, amount_incl_tax=Decimal("1250.00"), amount_due=Decimal("1250.00"),
                               formal_notice_on=notice, reminders_received=2,
                               description="Rénovation de la vitrine" if language == "fr" else "Shop window renovation")
    return customer


def _context(org: Organisation, customer: Customer) -> dict[str, Any]:
    invoices = list(Invoice.objects.filter(customer=customer).order_by("due_date"))
    charges = charges_of_invoices(org, invoices, TODAY, RateTables.shipped())
    context = build_context(org, customer, customer.billing_contact, invoices, TODAY, attachments=True,
                            charges=charges, payment_block=payment_block_for(org, customer, invoices))
    return {**context, **sample_hold_variables(customer.language)}


def _problems(org: Organisation, customer: Customer) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    language = customer.language
    for key in KEYS:
        message = render(org, key, _context(org, customer), shipped_source(key, language))
        problems: list[tuple[str, Problem]] = []
        for part, text, html in (("objet", message.subject, False), ("texte", message.text, False),
                                 ("html", message.html, True)):
            problems += [(part, p) for p in check_text(text, language=language, organisation=org, html=html)]
        if problems:
            found[key] = [f"{part}: [{p.kind}] {p.text!r} at {p.offset}: {p.message}" for part, p in problems]
    return found




@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("business", [True, False], ids=["professionnel", "particulier"])
def test_every_shipped_template_reads_without_a_problem(language: str, business: bool):
    org = make_org()
    customer = _customer(org, "B" if business else "P", business, language)
    problems = _problems(org, customer)
    for key, lines in problems.items():
        print(f"--- {language} {key}")
        print("\n".join(lines))
    assert len(KEYS) >= 12
    assert problems == {}
