"""The « Banque » pages: statement upload (report, refusals with file and element, in French),
the review list with its candidates and its three actions (POST with CSRF), roles, and
organisation scoping."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from relance.banking.models import BankAccount, BankTransaction
from relance.ledger.models import Invoice, Membership, Organisation
from tests.builders import make_org, make_user
from tests.integration.test_bank_import import OWN_IBAN, Entry, camt053, customer, invoice

pytestmark = pytest.mark.django_db

NNBSP, NBSP = "\u202f", "\xa0"


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def org() -> Organisation:
    org = make_org("atelier", iban=OWN_IBAN)
    martin = customer(org, "C001", "Boulangerie Martin SARL")
    invoice(martin, "F-2025-0040", "300.00", date(2025, 1, 31))
    invoice(martin, "F-2025-0041", "450.00", date(2025, 2, 15))
    petit = customer(org, "C003", "Jean Petit")
    invoice(petit, "F-2025-0050", "640.00", date(2025, 2, 1))
    return org


@pytest.fixture
def other() -> Organisation:
    org = make_org("autre", legal_name="Autre SAS", iban="FR7610107001011234567890129")
    c = customer(org, "Z001", "Zeta Secrète SA")
    invoice(c, "Z-1", "999.99", date(2025, 2, 1))
    return org


def member(org: Organisation, username: str, role: str = Membership.Role.ADMIN) -> User:
    return make_user(username, org, role=role)


@pytest.fixture
def admin(client: Client, org: Organisation) -> Client:
    client.force_login(member(org, "sophie"))
    return client


def upload(client: Client, entries: list[Entry], name: str = "releve.xml", account: str = OWN_IBAN,
           statement_id: str = "REL-1") -> Any:
    data = camt053(account, entries, statement_id).encode()
    return client.post(reverse("web:bank"), {"action": "import", "file": SimpleUploadedFile(name, data)})


def page(response: Any) -> str:
    return response.content.decode()


# --------------------------------------------------------------------------- upload


def test_bank_page_and_nav(admin: Client) -> None:
    response = admin.get(reverse("web:bank"))
    assert response.status_code == 200
    html = page(response)
    assert "Importer un relevé" in html and 'enctype="multipart/form-data"' in html
    assert 'href="/banque/"' in html and ">Banque</a>" in html
    assert "csrfmiddlewaretoken" in html
    assert "l’IBAN de l’organisation (FR1420041010050500013M02606)" in html


def test_upload_matches_and_reports(admin: Client, org: Organisation) -> None:
    response = upload(admin, [Entry("300.00", text="Facture F-2025-0040"), Entry("640.00", name="M JEAN PETIT"),
                              Entry("25.00", name="Frais", credit=False)])
    assert response.status_code == 200
    html = page(response)
    assert "Relevé importé" in html
    assert f'data-testid="matched">1 (300,00{NBSP}€)' in html
    assert 'data-testid="to-review">1<' in html
    assert Invoice.objects.get(number="F-2025-0040").status == Invoice.Status.PAID
    assert 'data-testid="statement-files"' in html and "releve.xml" in html
    again = upload(admin, [Entry("300.00", text="Facture F-2025-0040"), Entry("640.00", name="M JEAN PETIT"),
                           Entry("25.00", name="Frais", credit=False)])
    assert "déjà été importé : rien n’a changé" in page(again)
    line = BankTransaction.objects.get(status="matched")
    assert line.decided_by == "web:sophie"


def test_unknown_account_is_refused_with_file_and_element(admin: Client) -> None:
    response = upload(admin, [Entry("300.00")], account="FR7610107001011234567890129", name="mauvais-compte.xml")
    assert response.status_code == 422
    html = page(response)
    assert "Relevé refusé : rien n’a été importé" in html
    assert "mauvais-compte.xml, élément « BkToCstmrStmt/Stmt[1]/Acct/Id »" in html
    assert "le compte FR7610107001011234567890129 n’est pas un compte de Atelier Dubois SAS" in html
    assert not BankTransaction.objects.exists()


def test_unreadable_file_and_missing_file(admin: Client) -> None:
    response = admin.post(reverse("web:bank"), {"file": SimpleUploadedFile("notes.txt", b"bonjour\n")})
    assert response.status_code == 422
    assert "notes.txt" in page(response) and "format de relevé inconnu" in page(response)
    response = admin.post(reverse("web:bank"), {"action": "import"})
    assert response.status_code == 400


def test_admin_registers_an_account(admin: Client, org: Organisation) -> None:
    response = admin.post(reverse("web:bank"), {"action": "account", "iban": "FR76 1010 7001 0112 3456 7890 129",
                                                "label": "Compte BRED"})
    assert response.status_code == 302
    assert BankAccount.objects.filter(organisation=org, iban="FR7610107001011234567890129").exists()
    html = page(admin.get(reverse("web:bank")))
    assert "Compte « Compte BRED » enregistré" in html
    assert upload(admin, [Entry("1.00")], account="FR7610107001011234567890129").status_code == 200
    bad = admin.post(reverse("web:bank"), {"action": "account", "iban": "FR7610107001011234567890128"})
    assert bad.status_code == 400 and "IBAN invalide" in page(bad)


def test_roles(client: Client, org: Organisation) -> None:
    reader = member(org, "lecteur", Membership.Role.READ_ONLY)
    client.force_login(reader)
    html = page(client.get(reverse("web:bank")))
    assert "lecture seule" in html and "Importer un relevé" not in html
    assert upload(client, [Entry("1.00")]).status_code == 403
    assert client.post(reverse("web:bank_dismiss", kwargs={"pk": 1})).status_code == 403
    collector = member(org, "charge", Membership.Role.COLLECTOR)
    client.force_login(collector)
    assert upload(client, [Entry("1.00")]).status_code == 200  # a collector imports
    assert client.post(reverse("web:bank"), {"action": "account", "account_id": "123456789"}).status_code == 403
    org.collectors_see_assigned_only = True
    org.save()
    assert client.get(reverse("web:bank")).status_code == 403
    assert client.get(reverse("web:bank_review")).status_code == 403
    assert ">Banque</a>" not in page(client.get(reverse("web:customers")))


# --------------------------------------------------------------------------- review list


def test_review_list_shows_candidates(admin: Client) -> None:
    upload(admin, [Entry("640.00", name="M JEAN PETIT", iban="DE89370400440532013000", text="solde"),
                   Entry("12.34", name="ASSURANCE")])
    response = admin.get(reverse("web:bank_review"))
    assert response.status_code == 200
    html = page(response)
    assert 'data-testid="pending-count">2<' in html
    assert html.count('data-testid="bank-line"') == 2
    assert "Jean Petit" in html and "F-2025-0050" in html and "nom proche de « Jean Petit »" in html
    assert f"640,00{NBSP}€" in html and "DE89370400440532013000" in html
    assert "Aucune facture ni aucun client ne correspond." in html
    assert html.count("csrfmiddlewaretoken") >= 5  # apply, choose and dismiss forms


def test_apply_a_candidate(admin: Client, org: Organisation) -> None:
    upload(admin, [Entry("640.00", name="M JEAN PETIT", iban="DE89370400440532013000")])
    line = BankTransaction.objects.get()
    response = admin.post(reverse("web:bank_apply", kwargs={"pk": line.pk}),
                          {"invoice": ["F-2025-0050"], "customer": "C003"})
    assert response.status_code == 302 and response["Location"] == reverse("web:bank_review")
    assert Invoice.objects.get(number="F-2025-0050").status == Invoice.Status.PAID
    html = page(admin.get(reverse("web:bank_review")))
    assert (f"Virement n° {line.pk} rapproché : paiement BANQUE-{line.pk} de 640,00{NBSP}€ pour Jean Petit "
            f"— F-2025-0050 (640,00{NBSP}€).") in html
    assert "Aucun virement à vérifier." in html


def test_choose_invoices_by_hand_and_errors(admin: Client) -> None:
    upload(admin, [Entry("750.00", name="INCONNU")])
    line = BankTransaction.objects.get()
    url = reverse("web:bank_apply", kwargs={"pk": line.pk})
    response = admin.post(url, {"invoices": "F-2025-0040, F-404"})
    assert response.status_code == 302 and response["Location"].endswith(f"#ligne-{line.pk}")
    assert "facture(s) inconnue(s) : F-404" in page(admin.get(reverse("web:bank_review")))
    empty = admin.post(url, {"invoices": " "})
    assert "indiquer au moins une facture" in page(admin.get(empty["Location"]))
    admin.post(url, {"invoices": "F-2025-0041 F-2025-0040", "customer": ""})
    assert Invoice.objects.get(number="F-2025-0040").status == Invoice.Status.PAID
    assert Invoice.objects.get(number="F-2025-0041").status == Invoice.Status.PAID
    line.refresh_from_db()
    assert line.status == "matched" and line.method == "manual"
    again = admin.post(url, {"invoices": "F-2025-0040"})
    assert "déjà rapprochée" in page(admin.get(again["Location"]))


def test_dismiss(admin: Client) -> None:
    upload(admin, [Entry("42.00", name="VIREMENT INTERNE")])
    line = BankTransaction.objects.get()
    response = admin.post(reverse("web:bank_dismiss", kwargs={"pk": line.pk}), {"reason": "virement interne"})
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.status == "dismissed" and line.reason == "écartée : virement interne"
    assert f"Virement n° {line.pk} écarté du rapprochement." in page(admin.get(reverse("web:bank_review")))


def test_get_is_refused_on_actions(admin: Client) -> None:
    assert admin.get(reverse("web:bank_apply", kwargs={"pk": 1})).status_code == 405
    assert admin.get(reverse("web:bank_dismiss", kwargs={"pk": 1})).status_code == 405


def test_csrf_is_required(org: Organisation) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(member(org, "sophie"))
    assert client.post(reverse("web:bank_dismiss", kwargs={"pk": 1}), {"reason": "x"}).status_code == 403
    assert client.post(reverse("web:bank"), {"action": "import"}).status_code == 403


def test_another_organisation_line_is_a_404(admin: Client, other: Organisation) -> None:
    path_client = Client()
    path_client.force_login(member(other, "bob"))
    upload(path_client, [Entry("999.99", name="ZETA SECRETE")], account="FR7610107001011234567890129")
    line = BankTransaction.objects.get(organisation=other)
    assert admin.post(reverse("web:bank_apply", kwargs={"pk": line.pk}), {"invoices": "Z-1"}).status_code == 404
    assert admin.post(reverse("web:bank_dismiss", kwargs={"pk": line.pk})).status_code == 404
    html = page(admin.get(reverse("web:bank_review")))
    assert "Zeta" not in html and "999,99" not in html
    line.refresh_from_db()
    assert line.status != "matched"


def test_review_page_queries_do_not_grow_with_lines(admin: Client, org: Organisation) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    upload(admin, [Entry("12.34", name="ASSURANCE"), Entry("640.00", name="M JEAN PETIT")])

    def count() -> int:
        admin.get(reverse("web:bank_review"))
        with CaptureQueriesContext(connection) as ctx:
            assert admin.get(reverse("web:bank_review")).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    upload(admin, [Entry(f"{n}.00", name=f"PAYEUR {n}", text="F-2025-0050 F-2025-0041") for n in range(10, 30)],
           name="b.xml", statement_id="REL-2")
    assert BankTransaction.objects.filter(status__in=["to_review", "unmatched"]).count() == 22
    assert count() == few
