"""``relance import fec|einvoice|bank`` and the web « Importer » page call the same
services: JSON reports, exit codes, the refused file naming its problems."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from relance.cli.main import main
from relance.ledger.models import Invoice, Membership, Organisation
from tests.builders import make_org, make_user

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture
def org(settings: Any, tmp_path: Path) -> Organisation:
    settings.MEDIA_ROOT = tmp_path / "media"
    return make_org(vat_number="FR96552100554")


def run(capsys: Any, *argv: str) -> tuple[int, Any]:
    code = main(list(argv))
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip().startswith(("{", "[")) else out


def test_cli_einvoice_import_reports_invoices(org: Organisation, capsys: Any) -> None:
    code, data = run(capsys, "import", "einvoice", str(FIXTURES / "einvoice" / "atelier_cii_en16931.xml"),
                     str(FIXTURES / "einvoice" / "atelier_ubl_invoice.xml"), "--org", org.slug, "--json")
    assert code == 0
    assert {i["number"] for i in data["invoices"]} == set(Invoice.objects.values_list("number", flat=True))
    first = data["invoices"][0]
    assert {"number", "issue_date", "due_date", "amount_due", "customer"} <= set(first)
    assert isinstance(data["warnings"], list)


def test_cli_refused_einvoice_exits_4(org: Organisation, capsys: Any) -> None:
    code, data = run(capsys, "import", "einvoice", str(FIXTURES / "einvoice" / "supplier_invoice.xml"),
                     "--org", org.slug, "--json")
    assert code == 4 and data["error"] == "ImportRejected" and data["problems"]
    assert not Invoice.objects.exists()


def test_cli_import_without_file_is_invalid(org: Organisation, capsys: Any) -> None:
    assert main(["import", "fec", "--org", org.slug]) == 2


def test_web_import_page_einvoices(client: Client, org: Organisation) -> None:
    client.force_login(make_user("boss", org, role=Membership.Role.ADMIN))
    files = [SimpleUploadedFile(name, (FIXTURES / "einvoice" / name).read_bytes())
             for name in ("atelier_cii_en16931.xml", "atelier_ubl_invoice.xml")]
    page = client.post(reverse("web:imports"), {"format": "einvoice", "uploads": files})
    assert page.status_code == 200, page.content.decode()[:3000]
    assert "Import terminé" in page.content.decode()
    assert Invoice.objects.filter(organisation=org).count() == 2
    bad = SimpleUploadedFile("fournisseur.xml", (FIXTURES / "einvoice" / "supplier_invoice.xml").read_bytes())
    page = client.post(reverse("web:imports"), {"format": "einvoice", "uploads": [bad]})
    assert page.status_code == 422 and "rien n’a été importé" in page.content.decode()
    assert "fournisseur.xml" in page.content.decode()


def test_cli_fec_import_json_report(org: Organisation, capsys: Any) -> None:
    code, data = run(capsys, "import", "fec", str(FIXTURES / "fec" / "montant_sens.txt"), "--org", org.slug, "--json")
    assert code == 4 and "le FEC ne dit pas" in data["problems"][0]["message"]  # the kind is never guessed
    code, data = run(capsys, "import", "fec", str(FIXTURES / "fec" / "montant_sens.txt"), "--org", org.slug, "--json",
                     "--type-par-defaut", "entreprise")
    assert code == 0 and data["default_kind"] == "entreprise"
    assert {"customers", "open_invoices", "open_amount", "warnings"} <= set(data)
    assert isinstance(data["open_amount"], str) and data["open_amount"].count(".") == 1
    assert data["open_amount"].split(".")[1].__len__() == 2
    code, again = run(capsys, "import", "fec", str(FIXTURES / "fec" / "montant_sens.txt"), "--org", org.slug,
                      "--json")
    assert code == 0 and again["already_imported"]


def test_cli_fec_truncated_exits_4(org: Organisation, capsys: Any) -> None:
    code, data = run(capsys, "import", "fec", str(FIXTURES / "fec" / "truncated.txt"), "--org", org.slug, "--json")
    assert code == 4 and data["problems"]
    assert not Invoice.objects.exists()


def test_cli_bank_import_and_review(org: Organisation, capsys: Any, tmp_path: Path) -> None:
    from relance.ledger.services.imports import import_file
    from tests.builders import CUSTOMERS_CSV, write

    import_file(org, write(tmp_path, "clients.csv", CUSTOMERS_CSV))
    import_file(org, write(tmp_path, "factures.csv", (
        "Numéro facture;Code client;Date;Échéance;Montant TTC;Libellé\n"
        "F-2025-0101;C001;16/05/2025;16/06/2025;400,00;Fournitures de mai\n"
        "F-2025-0102;C001;16/05/2025;16/06/2025;600,00;Livraison de mai\n")))
    code, data = run(capsys, "import", "bank", str(FIXTURES / "bank" / "camt053_e2e_two_invoices.xml"),
                     "--org", org.slug, "--json")
    assert code == 0 and {"lines", "matched", "to_review"} <= set(data)
    assert data["matched"] >= 1
    assert not Invoice.objects.filter(organisation=org, status=Invoice.Status.OPEN).exists()
    code, items = run(capsys, "bank", "review", "--org", org.slug, "--json")
    assert code == 0 and isinstance(items, list)
