"""Small builders for integration tests: organisations, users, customers, invoices and CSV files to
import. ``make_org`` is a complete creditor (letterhead, IBAN, default scenario); ``bare_org`` only
what a test names (no scenario)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.test import Client

from relance.dunning.services.scenarios import install_default_scenario
from relance.ledger.models import Customer, Invoice, Membership, Organisation

PASSWORD = "motdepasse-solide-123"

CUSTOMERS_CSV = """Code client;Raison sociale;Type;SIREN;Adresse;Code postal;Ville;Contact;Fonction;Email;Téléphone
C001;Boulangerie Martin SARL;entreprise;732829320;12 rue des Lilas;69003;Lyon;Mme Claire Martin;Gérante;\
claire.martin@boulangerie-martin.test;04 72 00 00 01
C002;Garage du Centre;entreprise;;3 avenue Jean Jaurès;69007;Lyon;M. Paul Durand;Comptable;compta@garageducentre.test;
C003;Jean Petit;particulier;;8 impasse des Roses;69100;Villeurbanne;M. Jean Petit;;;
"""


def make_org(slug: str = "atelier", **fields: object) -> Organisation:
    values: dict[str, object] = dict(
        legal_name="Atelier Dubois SAS", legal_form="SAS au capital de 10 000 €", siren="552100554",
        address1="5 place Bellecour", postal_code="69002", city="Lyon", iban="FR7630006000011234567890189",
        bic="AGRIFRPP", sender_name="Atelier Dubois — Comptabilité", sender_email="compta@atelier-dubois.test",
        reply_to_email="recouvrement@atelier-dubois.test", phone="04 78 00 00 00",
        signature_name="Sophie Laurent", signature_title="Responsable comptable",
    )
    values.update(fields)
    org = Organisation.objects.create(slug=slug, **values)
    install_default_scenario(org)
    return org


def bare_org(slug: str = "atelier", legal_name: str = "Atelier Dubois SAS", **fields: Any) -> Organisation:
    """An organisation with only the fields given (no letterhead, no scenario)."""
    return Organisation.objects.create(slug=slug, legal_name=legal_name, **fields)


def make_user(username: str, *orgs: Organisation, role: str = Membership.Role.COLLECTOR, staff: bool = False) -> User:
    """A user (password :data:`PASSWORD`), member of ``orgs`` with ``role``."""
    user = User.objects.create_user(username, password=PASSWORD, is_staff=staff)
    for org in orgs:
        Membership.objects.create(user=user, organisation=org, role=role)
    return user


def member_client(org: Organisation, username: str, role: str = Membership.Role.COLLECTOR) -> Client:
    """A test client logged in as a new member of ``org`` with ``role``."""
    client = Client()
    client.force_login(make_user(username, org, role=role))
    return client


def make_customer(org: Organisation, code: str, name: str, **fields: Any) -> Customer:
    return Customer.objects.create(organisation=org, code=code, legal_name=name, **fields)


def make_invoice(customer: Customer, number: str, amount: str, due: date, *, issued: date | None = None,
                 **fields: Any) -> Invoice:
    """An invoice of ``amount`` (all of it due unless ``amount_due`` is given), issued 30 days before ``due``
    unless ``issued`` is given."""
    value = Decimal(amount)
    fields.setdefault("amount_due", value)
    return Invoice.objects.create(organisation=customer.organisation, customer=customer, number=number,
                                  issue_date=issued or due - timedelta(days=30), due_date=due, amount_incl_tax=value,
                                  **fields)


def write(tmp_path: Path, name: str, content: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(content, encoding=encoding)
    return path


def invoices_csv(rows: list[tuple[str, str, str, str, str]]) -> str:
    """rows of (number, customer, issue date, due date, amount TTC)."""
    lines = ["Numéro facture;Code client;Date;Échéance;Montant TTC;Libellé"]
    lines += [f"{n};{c};{d};{e};{a};Prestation {n}" for n, c, d, e, a in rows]
    return "\n".join(lines) + "\n"


def one_planned_reminder(tmp_path: Path, settings: Any, day: date) -> tuple[Organisation, Any]:
    """An organisation with customer C001, one invoice F-1 of 900 € due 31 October 2026, and the
    one reminder planned for it on ``day`` (documents written under ``tmp_path``)."""
    from relance.dunning.models import Reminder
    from relance.dunning.services.planner import plan_day
    from relance.ledger.services.imports import import_file

    settings.MEDIA_ROOT = tmp_path / "media"
    org = make_org()
    import_file(org, write(tmp_path, "clients.csv", CUSTOMERS_CSV))
    import_file(org, write(tmp_path, "factures.csv", invoices_csv([("F-1", "C001", "2026-10-01", "2026-10-31", "900")])))
    plan_day(org, day)
    return org, Reminder.objects.get()


#: the invoices of :func:`org_with_three_invoices`: C001 owes two (one 40 days late on 19 November 2026, one
#: 19 days), C002 one (5 days)
THREE_INVOICES = [
    ("F-001", "C001", "2026-09-10", "2026-10-10", "1200,00"),
    ("F-002", "C001", "2026-10-01", "2026-10-31", "480,50"),
    ("F-003", "C002", "2026-10-15", "2026-11-14", "2 400,00"),
]


def org_with_three_invoices(tmp_path: Path) -> Organisation:
    """:func:`make_org` with the customers of :data:`CUSTOMERS_CSV` and :data:`THREE_INVOICES`, imported."""
    from relance.ledger.services.imports import import_file

    org = make_org()
    import_file(org, write(tmp_path, "clients.csv", CUSTOMERS_CSV))
    import_file(org, write(tmp_path, "factures.csv", invoices_csv(THREE_INVOICES)))
    return org
