"""The French interface and the CLI show a broken e-invoice's problem in French, naming file, line
and attachment (issue #11)."""

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
from tests.unit.test_einvoice_errors_fr import ENGLISH, _facturx

pytestmark = pytest.mark.django_db
BROKEN = b"<Invoice>\n<ID>F1</ID>\n<Note>\n</Invoice>\n"


@pytest.fixture
def org(settings: Any, tmp_path: Path) -> Organisation:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return make_org(vat_number="FR96552100554")


def test_cli_names_file_line_and_says_it_in_french(org: Organisation, tmp_path: Path, capsys: Any) -> None:
    (tmp_path / "facture.xml").write_bytes(BROKEN)
    (tmp_path / "F2.pdf").write_bytes(_facturx(b"<rsm:CrossIndustryInvoice xmlns:rsm='urn:x'>\n<a>\n"))
    code = main(["import", "einvoice", str(tmp_path / "facture.xml"), str(tmp_path / "F2.pdf"), "--org", org.slug,
                 "--json"])
    assert code == 4
    problems = json.loads(capsys.readouterr().out)["problems"]
    texts = [p if isinstance(p, str) else f"{p['file']} {p.get('line')} {p.get('field')} {p['message']}"
             for p in problems]
    assert any("facture.xml" in t and "4" in t and "« Note » (ouverte ligne 3)" in t for t in texts), texts
    assert any("F2.pdf" in t and "factur-x.xml, ligne 3" in t and "n’est jamais fermée" in t for t in texts), texts
    for text in texts:
        assert not ENGLISH.search(text.replace("facture.xml", "").replace("factur-x.xml", "")), text
    assert not Invoice.objects.exists()


def test_web_page_shows_the_french_problem(client: Client, org: Organisation) -> None:
    client.force_login(make_user("boss-fr", org, role=Membership.Role.ADMIN))
    page = client.post(reverse("web:imports"), {
        "format": "einvoice", "uploads": [SimpleUploadedFile("facture.xml", BROKEN)]})
    text = page.content.decode()
    assert "facture.xml, ligne 4 : XML mal formé ou tronqué, colonne " in text
    assert "Opening and ending tag mismatch" not in text
