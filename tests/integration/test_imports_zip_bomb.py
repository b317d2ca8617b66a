"""« ZIP bombs » among the imports (issue #11): the ZIP of a table and its PDFs, and an XLSX (also
inside such a ZIP), are refused from the sizes they declare, naming the file, before anything is
decompressed; nothing is imported. From the command line and from the web page."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from relance.errors import ImportRejected
from relance.ledger.models import ImportBatch, Invoice, Membership, Organisation
from relance.ledger.services import imports
from relance.ledger.services.imports import import_file
from tests.builders import CUSTOMERS_CSV, make_org, make_user, write
from tests.unit.test_xlsx_zip_bomb import _declare_size, _with_member, _workbook

pytestmark = pytest.mark.django_db

TABLE = b"Num\xc3\xa9ro facture;Code client;Date;\xc3\x89ch\xc3\xa9ance;Montant TTC;Libell\xc3\xa9;PDF\n" \
        b"F1;C001;01/10/2026;31/10/2026;12,00;;F1.pdf\n"


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    monkeypatch.delenv(imports.IMPORT_DIR_ENV, raising=False)


@pytest.fixture
def org(tmp_path: Path) -> Organisation:
    org = make_org()
    import_file(org, write(tmp_path, "clients.csv", CUSTOMERS_CSV))
    return org


def bomb_archive() -> bytes:
    """The table and a « PDF » of 20 MB of zeros: about 20 KB."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("factures.csv", TABLE)
        archive.writestr("F1.pdf", b"\0" * (20 * 1024 * 1024), compresslevel=9)
    return out.getvalue()


def test_a_zip_whose_member_inflates_a_thousand_times_is_refused(org: Organisation, tmp_path: Path) -> None:
    path = tmp_path / "lot.zip"
    path.write_bytes(bomb_archive())
    assert path.stat().st_size < 40_000
    batches = ImportBatch.objects.count()
    with pytest.raises(ImportRejected) as exc:
        import_file(org, path, own_folder=False)
    (message,) = [str(p) for p in exc.value.problems]
    assert message.startswith("lot.zip : archive ZIP refusée avant lecture : « F1.pdf » y occupe")
    assert "bombe de décompression" in message
    assert not Invoice.objects.filter(organisation=org).exists() and ImportBatch.objects.count() == batches


def test_a_zip_declaring_gigabytes_is_refused(org: Organisation, tmp_path: Path) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("factures.csv", TABLE)
        archive.writestr("F1.pdf", b"%PDF-1.4\n%%EOF\n")
    path = tmp_path / "lot.zip"
    path.write_bytes(_declare_size(out.getvalue(), "F1.pdf", 0xF0000000))
    with pytest.raises(ImportRejected) as exc:
        import_file(org, path, own_folder=False)
    assert "une fois décompressé (au plus 1\u202f024 Mo)" in str(exc.value.problems[0])


def test_an_xlsx_bomb_inside_the_zip_is_refused_naming_it(org: Organisation, tmp_path: Path) -> None:
    xlsx = _with_member(_workbook(), "xl/worksheets/sheet2.xml", b"\0" * (20 * 1024 * 1024))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("factures.xlsx", xlsx)
    path = tmp_path / "lot.zip"
    path.write_bytes(out.getvalue())
    with pytest.raises(ImportRejected) as exc:
        import_file(org, path, own_folder=False)
    message = str(exc.value.problems[0])
    assert message.startswith("lot.zip/factures.xlsx : classeur XLSX refusé avant lecture")


def test_the_web_page_refuses_the_bomb_in_french(client: Client, org: Organisation) -> None:
    client.force_login(make_user("admin-bombe", org, role=Membership.Role.ADMIN))
    page = client.post(reverse("web:imports"), {
        "format": "csv", "uploads": [SimpleUploadedFile("lot.zip", bomb_archive())]})
    assert page.status_code == 422  # refused: the form is shown again with the problems
    text = page.content.decode()
    assert "Import refusé : rien n’a été importé" in text and "archive ZIP refusée avant lecture" in text
    assert not Invoice.objects.filter(organisation=org).exists()
