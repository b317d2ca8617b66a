"""The law pages: the legal calculator, the rate tables (and adding a semester), and the late
charges of open invoices on the customer page."""

from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from relance import clock
from relance.core.law import RateTables, Semester, compute_penalties, semester_of
from relance.dunning.queries import charges_of_invoices
from relance.dunning.services.charges import invoice_charges
from relance.ledger.models import Allocation, CreditNote, Customer, Invoice, Organisation, Payment, RecoveryCost
from relance.rates.models import AddedRate
from relance.rates.services import add_rate, rate_tables
from relance.web.templatetags.relance_tags import eur
from relance.web.views_law import pct
from tests.builders import bare_org, make_customer, make_invoice, make_user
from tests.conftest import PINNED_NOW

# The pages compute « à ce jour » and the late charges on today's date, and the shipped rate tables end
# before 2026-S2: the clock is pinned on DAY, a day of 2026-S2 (tests/conftest.py).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("pinned_clock")]

PARIS = ZoneInfo("Europe/Paris")
DAY = PINNED_NOW.astimezone(PARIS).date()
NBSP = "\u00a0"
_seq = itertools.count(1)
CALC = "/calculateur/"
RATES = "/taux/"


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --------------------------------------------------------------------------- data


def pay(invoice: Invoice, amount: str, day: date, *, credit_note: bool = False) -> None:
    org, value = invoice.organisation, Decimal(amount)
    if credit_note:
        note = CreditNote.objects.create(organisation=org, customer=invoice.customer, number=f"AV-{next(_seq)}",
                                         issue_date=day, amount_incl_tax=value)
        Allocation.objects.create(organisation=org, invoice=invoice, credit_note=note, amount=value, date=day)
    else:
        payment = Payment.objects.create(organisation=org, customer=invoice.customer, date=day, amount=value,
                                         reference=f"VIR-{next(_seq)}")
        Allocation.objects.create(organisation=org, invoice=invoice, payment=payment, amount=value, date=day)
    invoice.amount_due -= value
    invoice.save()


def add_missing_semesters(up_to: date = DAY) -> list[str]:
    """Hypothetical rates for every semester our shipped tables lack, up to ``up_to`` (2026-S2 on DAY)."""
    tables, added = RateTables.shipped(), []
    sem = Semester(2026, 2)
    while sem <= semester_of(up_to):
        add_rate(str(sem), individual="6,50", other="2,50", ecb="2,40", source="hypothèse de test")
        added.append(str(sem))
        sem = sem.next()
    assert tables is RateTables.shipped()
    return added


@pytest.fixture
def org() -> Organisation:
    return bare_org("alpha", "Alpha Conseil", timezone="Europe/Paris")


@pytest.fixture
def user(org: Organisation) -> User:
    return make_user("alice", org)


@pytest.fixture
def staff(org: Organisation) -> User:
    return make_user("admin", org, staff=True)


@pytest.fixture
def client_u(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


@pytest.fixture
def client_staff(client: Client, staff: User) -> Client:
    client.force_login(staff)
    return client


def text(response: Any) -> str:
    return response.content.decode()


def section(response: Any, kind: str) -> dict[str, Any]:
    return next(s for s in response.context["sections"] if s["kind"] == kind)


def penalties(client: Client, **fields: str) -> Any:
    data = {"calcul": "penalites", "debiteur": "business", **fields}
    return client.get(CALC, data)


# --------------------------------------------------------------------------- access


@pytest.mark.parametrize("url", [CALC, RATES])
def test_anonymous_users_are_sent_to_login(client: Client, url: str) -> None:
    for method in (client.get, client.post):
        response = method(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login") + "?next=")
    assert not AddedRate.objects.exists()


def test_navigation_links(client_u: Client) -> None:
    page = text(client_u.get("/"))
    assert f'href="{CALC}"' in page and f'href="{RATES}"' in page


def test_pages_work_without_an_organisation(client: Client) -> None:
    client.force_login(make_user("solo"))
    assert client.get(CALC).status_code == 200
    assert "235,27" in text(penalties(client, montant="10000", echeance="2024-06-15", paiement="2024-08-14"))
    assert client.get(RATES).status_code == 200


# --------------------------------------------------------------------------- calculator: penalties


def test_calculator_page_has_four_forms(client_u: Client) -> None:
    response = client_u.get(CALC)
    assert response.status_code == 200
    page = text(response)
    for title in ("Pénalités de retard", "Intérêts au taux légal", "Délais de paiement", "Prescription"):
        assert title in page
    assert page.count('name="calcul"') == 4
    assert all(s["result"] is None and s["missing"] is None for s in response.context["sections"])
    assert client_u.post(CALC).status_code == 405


def test_penalties_over_two_semesters(client_u: Client) -> None:
    response = penalties(client_u, montant="10 000,00", echeance="2024-06-15", paiement="2024-08-14")
    page = text(response)
    result = section(response, "penalites")["result"]
    assert result is not None
    assert result["total"] == Decimal("235.27") and result["indemnity"] == Decimal("40.00")
    assert [(p["start"], p["end"], p["days"], p["rate"]) for p in result["periods"]] == [
        (date(2024, 6, 16), date(2024, 6, 30), 15, f"14,50{NBSP}%"),
        (date(2024, 7, 1), date(2024, 8, 14), 45, f"14,25{NBSP}%"),
    ]
    assert f"235,27{NBSP}€" in page and f"40,00{NBSP}€" in page and f"275,27{NBSP}€" in page
    assert f"14,50{NBSP}%" in page and f"14,25{NBSP}%" in page
    assert f"59,59{NBSP}€" in page and f"175,68{NBSP}€" in page  # the periods, rounded for display
    assert "16 juin 2024" in page and "14 août 2024" in page  # date_fr
    assert "60 jours de retard" in page
    assert "C. com. L441-10 II" in page  # legal basis


def test_penalties_with_a_partial_payment(client_u: Client) -> None:
    response = penalties(client_u, montant="12000", echeance="2024-05-31", paiement="2024-08-14",
                         p1_date="2024-06-10", p1_montant="3000")
    result = section(response, "penalites")["result"]
    assert result["total"] == Decimal("277.29") and result["indemnity"] == Decimal("40.00")
    assert [p["base"] for p in result["periods"]] == [Decimal("12000"), Decimal("9000"), Decimal("9000")]


def test_contractual_rate_below_the_floor_is_raised_with_a_warning(client_u: Client) -> None:
    response = penalties(client_u, montant="10000", echeance="2024-03-01", paiement="2024-04-30", taux="5")
    result = section(response, "penalites")["result"]
    assert result["total"] == Decimal("250.03")
    assert result["periods"][0]["rate"] == f"15,21{NBSP}%"
    assert "plancher" in text(response) and "2024-S1" in text(response)


def test_consumer_debtor_owes_no_penalties(client_u: Client) -> None:
    response = penalties(client_u, montant="1000", echeance="2024-06-15", paiement="2024-08-14", debiteur="consumer")
    result = section(response, "penalites")["result"]
    assert result["total"] == Decimal("0.00") and result["indemnity"] == Decimal("0.00")
    assert "Débiteur consommateur" in text(response)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"montant": "abc"}, "montant", "n’est pas un montant"),
        ({"montant": "-10"}, "montant", "strictement positif"),
        ({"montant": "0"}, "montant", "strictement positif"),
        ({"echeance": "2024-02-30"}, "echeance", "Date invalide"),
        ({"paiement": ""}, "paiement", "cochez « à ce jour »"),
        ({"a_ce_jour": "on"}, "paiement", "pas les deux"),
        ({"taux": "douze"}, "taux", "n’est pas un taux"),
        ({"taux": "-3"}, "taux", "n’est pas un taux"),
        ({"p1_date": "2024-06-20"}, "p1_montant", "une date et un montant"),
        ({"p2_montant": "100"}, "p2_date", "une date et un montant"),
    ],
)
def test_invalid_input_shows_an_error_and_no_result(client_u: Client, fields: dict[str, str], field: str,
                                                    message: str) -> None:
    data = {"montant": "10000", "echeance": "2024-06-15", "paiement": "2024-08-14", **fields}
    response = penalties(client_u, **data)
    sec = section(response, "penalites")
    assert sec["result"] is None and sec["missing"] is None
    assert any(message in e for e in sec["form"].errors[field]), sec["form"].errors
    page = text(response)
    assert 'data-testid="result-penalites"' not in page and "235,27" not in page
    assert "has-error" in page


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"p1_date": "2024-06-20", "p1_montant": "20000"}, "dépassent le montant dû"),
        ({"p1_date": "2024-09-01", "p1_montant": "100"}, "postérieur à la date de fin du calcul"),
    ],
)
def test_core_input_errors_are_form_errors(client_u: Client, fields: dict[str, str], message: str) -> None:
    response = penalties(client_u, montant="10000", echeance="2024-06-15", paiement="2024-08-14", **fields)
    sec = section(response, "penalites")
    assert sec["result"] is None
    assert any(message in e for e in sec["form"].non_field_errors())
    assert 'data-testid="form-errors"' in text(response) and message in text(response)


def test_a_missing_semester_shows_the_missing_rate_message(client_u: Client) -> None:
    response = penalties(client_u, montant="10000", echeance="2026-06-15", paiement="2026-08-14")
    sec = section(response, "penalites")
    assert sec["result"] is None and sec["missing"] is not None
    page = text(response)
    assert "Taux manquant pour le semestre 2026-S2" in page
    assert "relance rates add --semestre 2026-S2 --bce X" in page
    assert f'href="{RATES}"' in page and 'data-testid="missing-rate"' in page
    assert 'data-testid="result-penalites"' not in page
    assert "€" not in page.split('data-testid="missing-rate"')[1].split("</section>")[0]


def test_to_date_uses_today(client_u: Client) -> None:
    add_missing_semesters()
    response = penalties(client_u, montant="1000", echeance=(DAY - timedelta(days=10)).isoformat(), a_ce_jour="on")
    result = section(response, "penalites")["result"]
    assert result["end"] == DAY and result["days"] == 10 and result["to_date"]
    assert "à ce jour" in text(response)


# --------------------------------------------------------------------------- calculator: the others


@pytest.mark.parametrize(("creditor", "expected"), [("business", "16.83"), ("individual", "35.24")])
def test_legal_interest(client_u: Client, creditor: str, expected: str) -> None:
    response = client_u.get(CALC, {"calcul": "interets", "montant": "1000", "depuis": "2025-03-10",
                                   "jusqu_au": "2025-09-10", "creancier": creditor})
    result = section(response, "interets")["result"]
    assert result["total"] == Decimal(expected)
    assert [p["days"] for p in result["periods"]] == [112, 72]
    assert eur(Decimal(expected)) in text(response)


def test_legal_interest_errors(client_u: Client) -> None:
    response = client_u.get(CALC, {"calcul": "interets", "montant": "1000", "depuis": "2025-03-10",
                                   "jusqu_au": "2025-01-10", "creancier": "business"})
    sec = section(response, "interets")
    assert sec["result"] is None and "antérieure au point de départ" in sec["form"].errors["jusqu_au"][0]
    response = client_u.get(CALC, {"calcul": "interets", "montant": "1000", "depuis": "2026-03-10",
                                   "jusqu_au": "2026-09-10", "creancier": "business"})
    assert section(response, "interets")["missing"] is not None
    assert "Taux manquant pour le semestre 2026-S2 : taux de l’intérêt légal" in text(response)


def test_legal_interest_with_a_judgment(client_u: Client) -> None:
    response = client_u.get(CALC, {"calcul": "interets", "montant": "1000", "depuis": "2025-01-01",
                                   "jusqu_au": "2025-06-30", "creancier": "business", "jugement": "2025-01-01"})
    result = section(response, "interets")["result"]
    assert result["majoration_from"] == date(2025, 3, 2)
    assert [p["rate"] for p in result["periods"]] == [f"3,71{NBSP}%", f"8,71{NBSP}%"]
    assert "majoré de 5 points" in text(response)


def test_payment_terms(client_u: Client) -> None:
    over = client_u.get(CALC, {"calcul": "delais", "date_facture": "2025-01-15", "echeance": "2025-04-30",
                               "convenu": "yes", "convention": "shortest"})
    result = section(over, "delais")["result"]
    assert result.legal_max == date(2025, 3, 17) and result.exceeds and result.days_over == 44
    page = text(over)
    assert "17 mars 2025" in page and "Délai dépassé de 44 jours" in page and "75 000" in page
    ok = client_u.get(CALC, {"calcul": "delais", "date_facture": "2025-01-15", "echeance": "2025-03-01",
                             "convenu": "yes", "convention": "eom_after"})
    assert not section(ok, "delais")["result"].exceeds and "Délai conforme" in text(ok)
    default = client_u.get(CALC, {"calcul": "delais", "date_facture": "2025-01-15", "echeance": "2025-03-01",
                                  "livraison": "2025-01-10", "convenu": "no", "convention": "shortest"})
    result = section(default, "delais")["result"]
    assert result.legal_max == date(2025, 2, 9) and result.days_over == 20
    bad = client_u.get(CALC, {"calcul": "delais", "date_facture": "2025-01-15", "echeance": "2025-01-01",
                              "convenu": "yes", "convention": "nimporte"})
    sec = section(bad, "delais")
    assert sec["result"] is None and {"echeance", "convention"} <= set(sec["form"].errors)


def test_prescription(client_u: Client) -> None:
    response = client_u.get(CALC, {"calcul": "prescription", "echeance": "2024-01-31", "debiteur": "business",
                                   "prestation": "2024-01-15", "acte1_date": "2025-02-01",
                                   "acte1_type": "acknowledgment", "acte2_date": "2025-03-01",
                                   "acte2_type": "formal_notice"})
    result = section(response, "prescription")["result"]
    assert result.deadline == date(2030, 2, 1) and result.restarted_on == date(2025, 2, 1)
    assert result.days_left == (date(2030, 2, 1) - response.context["today"]).days
    page = text(response)
    assert "1er février 2030" in page and "n’interrompt pas la prescription" in page
    consumer = client_u.get(CALC, {"calcul": "prescription", "echeance": "2020-01-31", "debiteur": "consumer"})
    result = section(consumer, "prescription")["result"]
    assert result.expired and "Prescription acquise" in text(consumer)
    bad = client_u.get(CALC, {"calcul": "prescription", "echeance": "", "debiteur": "x"})
    sec = section(bad, "prescription")
    assert sec["result"] is None and {"echeance", "debiteur"} <= set(sec["form"].errors)


def test_rate_format() -> None:
    assert pct(Decimal("14.5")) == f"14,50{NBSP}%"
    assert pct(Decimal("14.50")) == f"14,50{NBSP}%"
    assert pct(Decimal("12")) == f"12,00{NBSP}%"
    assert pct(Decimal("12.125")) == f"12,125{NBSP}%"


# --------------------------------------------------------------------------- rates page


def test_rates_page_lists_the_tables_and_flags_the_missing_semesters(client_u: Client) -> None:
    response = client_u.get(RATES)
    assert response.status_code == 200
    page = text(response)
    row = next(r for r in response.context["rows"] if str(r.semester) == "2025-S2")
    assert (row.individual, row.other, row.ecb, row.default_penalty) == (
        f"6,65{NBSP}%", f"2,76{NBSP}%", f"2,15{NBSP}%", f"12,15{NBSP}%")
    assert row.legal_status == "confirmé" and "ECOT2516925A" in row.legal_reference
    html_row = page.split('data-semester="2025-S2"')[1].split("</tr>")[0]
    assert f"6,65{NBSP}%" in html_row and f"2,76{NBSP}%" in html_row and f"12,15{NBSP}%" in html_row
    assert "2026-S2 : taux non publiés dans nos sources — à ajouter" in page
    assert str(response.context["missing"][0].semester) == "2026-S2"
    assert str(response.context["rows"][-1].semester) == "2015-S1"
    # read-only for a non-staff user
    assert response.context["form"] is None and "Ajouter un semestre" not in page and 'method="post"' not in page.split(
        "</header>")[1]


def test_non_staff_user_cannot_add_a_semester(client_u: Client) -> None:
    response = client_u.post(RATES, {"semestre": "2026-S2", "particuliers": "6,5", "autres": "2,5", "bce": "2,4",
                                     "source": "arrêté"})
    assert response.status_code == 403
    assert not AddedRate.objects.exists()


def test_staff_adds_a_semester_then_the_calculator_computes(client_staff: Client) -> None:
    before = penalties(client_staff, montant="10000", echeance="2026-06-15", paiement="2026-08-14")
    assert section(before, "penalites")["missing"] is not None
    page = text(client_staff.get(RATES))
    assert "Ajouter un semestre" in page and 'value="2026-S2"' in page  # suggested
    response = client_staff.post(RATES, {"semestre": "2026-S2", "particuliers": "6,50", "autres": "2,50",
                                         "bce": "2,40", "source": "arrêté du 20/06/2026 ; BCE 11/06/2026"})
    assert response.status_code == 302 and response["Location"] == RATES
    added = AddedRate.objects.get(semester="2026-S2")
    assert (added.individual_rate, added.other_rate, added.ecb_rate) == (Decimal("6.50"), Decimal("2.50"),
                                                                           Decimal("2.40"))
    assert added.added_by == "admin"
    after = client_staff.get(RATES)
    page = text(after)
    assert "Semestre 2026-S2 enregistré" in page
    assert "2026-S2 : taux non publiés" not in page
    assert "arrêté du 20/06/2026" in page
    row = next(r for r in after.context["rows"] if str(r.semester) == "2026-S2")
    assert (row.individual, row.default_penalty, row.legal_status) == (
        f"6,50{NBSP}%", f"12,40{NBSP}%", "saisi par un utilisateur")

    computed = penalties(client_staff, montant="10000", echeance="2026-06-15", paiement="2026-08-14")
    result = section(computed, "penalites")["result"]
    # 10 000 × 12,15 % × 15 / 365 + 10 000 × 12,40 % × 45 / 365 = 49,9315 + 152,8767
    assert result["total"] == Decimal("202.81")
    assert [p["rate"] for p in result["periods"]] == [f"12,15{NBSP}%", f"12,40{NBSP}%"]
    assert f"202,81{NBSP}€" in text(computed)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"semestre": "2025-S2", "particuliers": "7", "autres": "3"}, "figure déjà dans les tables livrées"),
        ({"semestre": "2026-S2", "particuliers": "7"}, "donnez --particuliers et --autres ensemble"),
        ({"semestre": "2026-S2", "bce": "abc"}, "n’est pas un taux"),
        ({"semestre": "2026-S2"}, "rien à ajouter"),
    ],
)
def test_add_rate_errors_are_shown_in_the_form(client_staff: Client, fields: dict[str, str], message: str) -> None:
    response = client_staff.post(RATES, {"source": "test", **fields})
    assert response.status_code == 200
    assert any(message in e for e in response.context["form"].non_field_errors())
    assert message in text(response)
    assert not AddedRate.objects.exists()


def test_add_rate_form_validation(client_staff: Client) -> None:
    response = client_staff.post(RATES, {"semestre": "2026-S3", "bce": "2,4", "source": ""})
    form = response.context["form"]
    assert {"semestre", "source"} <= set(form.errors)
    assert not AddedRate.objects.exists()


# --------------------------------------------------------------------------- customer page


@pytest.fixture
def customers(org: Organisation) -> dict[str, Any]:
    business = make_customer(org, "C001", "Durand Menuiserie SARL")
    consumer = make_customer(org, "C002", "M. Martin", is_business=False)
    return {
        "business": business,
        "consumer": consumer,
        "late": make_invoice(business, "F-1", "10000.00", DAY - timedelta(days=40)),
        "partly": make_invoice(business, "F-2", "1200.00", DAY - timedelta(days=20)),
        "coming": make_invoice(business, "F-3", "500.00", DAY + timedelta(days=10)),
        "consumer_late": make_invoice(consumer, "P-1", "300.00", DAY - timedelta(days=45)),
    }


def _customer_page(client: Client, customer: Customer) -> Any:
    response = client.get(reverse("web:customer", kwargs={"pk": customer.pk}))
    assert response.status_code == 200
    return response


def test_customer_page_without_the_rate_shows_taux_manquant(client_u: Client, customers: dict[str, Any]) -> None:
    response = _customer_page(client_u, customers["business"])
    charges = response.context["charges"]
    assert charges.missing and charges.penalties is None and charges.grand_total is None
    page = text(response)
    assert "taux manquant" in page and "Taux manquant pour le semestre 2026-S2" in page
    assert f'href="{RATES}"' in page


def test_customer_page_shows_penalties_of_a_business_customer(client_u: Client, customers: dict[str, Any],
                                                              org: Organisation) -> None:
    add_missing_semesters()
    pay(customers["partly"], "200.00", DAY - timedelta(days=5))
    response = _customer_page(client_u, customers["business"])
    charges = response.context["charges"]
    tables = rate_tables()
    expected = {k: invoice_charges(org, Invoice.objects.get(pk=customers[k].pk), DAY, tables) for k in ("late", "partly")}
    for key, reference in expected.items():
        shown = charges.by_invoice[customers[key].pk]
        assert reference.penalties is not None and shown.penalties == reference.penalties
        assert shown.indemnity == reference.indemnity == Decimal("40.00")
    assert customers["coming"].pk not in charges.by_invoice
    late = expected["late"].penalties
    assert late is not None and late.total > 0 and late.days_late == 40
    # the same figure as the calculator
    assert late.total == compute_penalties(Decimal("10000.00"), DAY - timedelta(days=40), DAY, tables=tables).total
    assert expected["partly"].penalties is not None and expected["partly"].penalties.periods[-1].base == Decimal("1000")
    total = sum((c.penalties.total for c in expected.values() if c.penalties), Decimal(0))
    assert charges.penalties == total and charges.indemnities == Decimal("80.00")
    page = text(response)
    assert "Pénalités à ce jour" in page and "taux manquant" not in page
    assert eur(late.total) in page and eur(total) in page and f"80,00{NBSP}€" in page
    assert 'data-testid="charges-total"' in page


def test_customer_page_shows_no_penalties_for_a_consumer(client_u: Client, customers: dict[str, Any]) -> None:
    response = _customer_page(client_u, customers["consumer"])
    charges = response.context["charges"]
    shown = charges.by_invoice[customers["consumer_late"].pk]
    assert shown.penalties is None and shown.interest is None and shown.missing is None
    assert shown.indemnity == 0 and charges.penalties == 0 and charges.indemnities == 0
    page = text(response)
    assert "taux manquant" not in page
    assert "ni pénalités de retard" in page and f"40,00{NBSP}€" not in page


def test_customer_page_queries_do_not_grow_with_invoices(client_u: Client, org: Organisation,
                                                         django_assert_max_num_queries: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    add_missing_semesters()
    customer = make_customer(org, "N001", "Client en nombre")

    def invoices(start: int, stop: int) -> None:
        for i in range(start, stop):
            inv = make_invoice(customer, f"N-{i}", "1000.00", DAY - timedelta(days=3 * i + 1))
            if i % 2:
                pay(inv, "100.00", DAY - timedelta(days=1), credit_note=i % 4 == 1)

    def count() -> int:
        url = reverse("web:customer", kwargs={"pk": customer.pk})
        client_u.get(url)
        with CaptureQueriesContext(connection) as ctx:
            response = client_u.get(url)
        assert response.status_code == 200
        return len(ctx.captured_queries)

    invoices(0, 3)
    few = count()
    invoices(3, 30)
    with django_assert_max_num_queries(few):
        response = client_u.get(reverse("web:customer", kwargs={"pk": customer.pk}))
    assert len(response.context["charges"].by_invoice) == 30
    assert count() == few


def test_batched_charges_equal_invoice_charges(org: Organisation, customers: dict[str, Any]) -> None:
    """``charges_of_invoices`` gives the figures of ``invoice_charges``, invoice by invoice."""
    add_missing_semesters()
    org.penalty_rate = Decimal("5.00")  # below the floor: raised, with a warning
    org.save()
    business = customers["business"]
    pay(customers["partly"], "200.00", DAY - timedelta(days=15))
    pay(customers["partly"], "300.00", DAY - timedelta(days=3), credit_note=True)
    settled = make_invoice(business, "F-9", "800.00", DAY - timedelta(days=30))
    pay(settled, "800.00", DAY - timedelta(days=10))
    settled.status, settled.settled_on = Invoice.Status.PAID, DAY - timedelta(days=10)
    settled.save()
    old = make_invoice(business, "F-0", "100.00", date(2026, 6, 1))
    RecoveryCost.objects.create(organisation=org, invoice=old, incurred_on=date(2026, 6, 10), amount=Decimal("75.00"),
                                description="commissaire de justice", proof="recovery_costs/pv.pdf")
    invoices = [*Invoice.objects.filter(organisation=org).order_by("pk")]
    for as_of in (DAY, DAY - timedelta(days=12), date(2026, 6, 20)):
        for tables in (rate_tables(), RateTables.shipped()):
            batched = charges_of_invoices(org, invoices, as_of, tables)
            assert set(batched) == {i.pk for i in invoices}
            for invoice in invoices:
                one, many = invoice_charges(org, invoice, as_of, tables), batched[invoice.pk]
                assert (many.days_late, many.penalties, many.interest, many.indemnity, many.complement,
                        many.warnings) == (one.days_late, one.penalties, one.interest, one.indemnity, one.complement,
                                           one.warnings), (invoice.number, as_of)
                assert str(many.missing) == str(one.missing)
    assert old.pk in batched
    assert (batched[old.pk].indemnity, batched[old.pk].complement) == (Decimal("40.00"), Decimal("35.00"))


def test_batched_charges_of_nothing_do_no_query(org: Organisation, django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(0):
        assert charges_of_invoices(org, [], DAY, RateTables.shipped()) == {}


def test_without_an_organisation_to_date_reads_the_service_clock(client: Client) -> None:
    """Outside any organisation « à ce jour » is today in Paris, and a frozen service clock (a replay) is
    honoured there too (it once read the system clock)."""
    client.force_login(make_user("solo"))
    add_missing_semesters()
    day = DAY - timedelta(days=40)
    with clock.frozen(datetime.combine(day, time(12), tzinfo=PARIS)):
        response = penalties(client, montant="1000", echeance=(day - timedelta(days=10)).isoformat(), a_ce_jour="on")
    result = section(response, "penalites")["result"]
    assert result["end"] == day and result["days"] == 10
