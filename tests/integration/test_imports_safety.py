"""Imports that never store a wrong figure, and hostile tables refused (issue 11): shifted
CSV rows, precise errors for a file named anyhow, column limits, the customer's kind never
guessed, PDF paths that cannot leave the import, a restricted collector's import scope,
French reports, and lookups chunked for very large files."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from relance.cli.main import main
from relance.errors import ImportRejected
from relance.ledger.models import Customer, ImportBatch, Invoice, Organisation
from relance.ledger.services import imports
from relance.ledger.services.imports import import_file
from tests.builders import CUSTOMERS_CSV, make_org, make_user, write

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% facture\n%%EOF\n"
INVOICES_HEADER = "Numéro facture;Code client;Date;Échéance;Montant TTC;Libellé;PDF\n"


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.delenv(imports.IMPORT_DIR_ENV, raising=False)


@pytest.fixture
def org(tmp_path: Path) -> Organisation:
    org = make_org()
    import_file(org, write(tmp_path, "clients.csv", CUSTOMERS_CSV))
    return org


def messages(exc: pytest.ExceptionInfo[ImportRejected]) -> list[str]:
    return [str(p) for p in exc.value.problems]


def nothing_imported() -> tuple[int, int]:
    return Invoice.objects.count(), ImportBatch.objects.count()


# --- 1. rows with more or fewer fields than the header ---------------------------------------


def test_an_unquoted_french_amount_in_a_comma_separated_file_imports_nothing(
        org: Organisation, tmp_path: Path, capsys: Any) -> None:
    path = write(tmp_path, "factures.csv", "Numéro facture,Code client,Date,Échéance,Montant TTC,Libellé\n"
                                           "COM-0001,C001,01/10/2026,31/10/2026,1 553,84,Prestation\n")
    before = nothing_imported()
    assert main(["import", str(path), "--org", org.slug]) == 4
    err = capsys.readouterr().err
    assert "factures.csv, ligne 2" in err and "7 champ(s) au lieu des 6" in err
    assert nothing_imported() == before
    assert not Invoice.objects.filter(number="COM-0001").exists()


# --- 2. a file named anyhow, a header-only file ----------------------------------------------


def test_a_file_named_anyhow_gets_the_precise_missing_column(org: Organisation, tmp_path: Path) -> None:
    path = write(tmp_path, "export-compta.csv", "Numéro facture;Code client;Date;Montant TTC\nF1;C001;01/10/2026;12\n")
    with pytest.raises(ImportRejected) as exc:
        import_file(org, path)
    assert messages(exc) == ["export-compta.csv, ligne 1, champ « échéance » : colonne obligatoire absente"]


def test_a_header_only_file_says_that_nothing_was_imported(org: Organisation, tmp_path: Path) -> None:
    path = write(tmp_path, "factures.csv", INVOICES_HEADER)
    with pytest.raises(ImportRejected) as exc:
        import_file(org, path)
    assert messages(exc) == ["factures.csv : aucune ligne de données sous les en-têtes : rien n’a été importé"]
    assert not ImportBatch.objects.filter(filename="factures.csv").exists()


# --- 3. column limits, absurd amounts, dates out of range --------------------------------------


def test_an_over_long_name_is_a_problem_of_its_line_not_a_database_error(tmp_path: Path) -> None:
    org = make_org()
    path = write(tmp_path, "clients.csv", f"Code client;Raison sociale;Type\nC1;{'A' * 250};entreprise\n"
                                          f"{'C' * 60};Dupont;entreprise\n")
    with pytest.raises(ImportRejected) as exc:
        import_file(org, path)
    assert [(p.line, p.field) for p in exc.value.problems] == [(2, "raison sociale"), (3, "code client")]
    assert "au plus 200" in exc.value.problems[0].message
    assert Customer.objects.count() == 0


def test_year_9999_and_absurd_amounts_are_clean_errors(org: Organisation, tmp_path: Path) -> None:
    path = write(tmp_path, "factures.csv", INVOICES_HEADER
                 + "F1;C001;01/10/2026;31/12/9999;12,00;;\n"
                 + f"F2;C001;01/10/2026;31/10/2026;{'9' * 300};;\n")
    with pytest.raises(ImportRejected) as exc:
        import_file(org, path)
    assert [(p.line, p.field) for p in exc.value.problems] == [(2, "échéance"), (3, "montant TTC")]


def test_a_damaged_workbook_is_a_french_error(org: Organisation, tmp_path: Path) -> None:
    path = tmp_path / "export.xlsx"
    path.write_bytes(b"not a workbook at all")
    with pytest.raises(ImportRejected) as exc:
        import_file(org, path)
    assert "classeur XLSX illisible" in messages(exc)[0]
    assert "zip" not in messages(exc)[0].lower()


# --- 4. the customer's kind is never guessed ------------------------------------------------------


NO_KIND = "Code client;Raison sociale;SIREN\nN001;Menuiserie Roux;\nN002;Claire Blanc;\n"


def test_a_new_customer_without_kind_is_refused(tmp_path: Path) -> None:
    org = make_org()
    with pytest.raises(ImportRejected) as exc:
        import_file(org, write(tmp_path, "clients.csv", NO_KIND))
    assert [(p.line, p.field) for p in exc.value.problems] == [(2, "type"), (3, "type")]
    assert "type de client manquant" in exc.value.problems[0].message
    assert Customer.objects.count() == 0


def test_an_explicit_default_kind_is_applied_and_stated(tmp_path: Path, capsys: Any) -> None:
    org = make_org()
    path = write(tmp_path, "clients.csv", NO_KIND)
    assert main(["import", str(path), "--org", org.slug, "--type-par-defaut", "particulier"]) == 0
    out = capsys.readouterr().out
    assert "Type de client par défaut donné pour cet import : particulier (2 ligne(s) sans type)" in out
    assert set(Customer.objects.values_list("code", "is_business")) == {("N001", False), ("N002", False)}


def test_a_known_customer_keeps_its_kind_when_the_row_has_none(org: Organisation, tmp_path: Path) -> None:
    import_file(org, write(tmp_path, "clients2.csv", "Code client;Raison sociale\nC003;Jean Petit\n"))
    assert Customer.objects.get(code="C003").is_business is False


def test_a_business_without_siren_or_siret_is_imported_with_a_warning(tmp_path: Path) -> None:
    org = make_org()
    report = import_file(org, write(tmp_path, "clients.csv", NO_KIND), default_kind="entreprise")
    assert report.defaulted == 2
    assert any("2 entreprise(s) sans SIREN ni SIRET" in w and "N001 (ligne 2)" in w for w in report.warnings)
    assert "Attention : clients.csv : 2 entreprise(s) sans SIREN ni SIRET" in report.as_text()


# --- 7. reports in French ------------------------------------------------------------------------


def test_the_report_is_in_french(org: Organisation, tmp_path: Path) -> None:
    path = write(tmp_path, "factures.csv", INVOICES_HEADER + "F1;C001;01/10/2026;31/10/2026;12,00;;\n")
    text = import_file(org, path).as_text()
    assert text == "factures.csv importé : 1 facture(s) créée(s)."
    assert "invoices_created" not in text


def test_a_missing_file_is_said_in_french(org: Organisation, tmp_path: Path) -> None:
    with pytest.raises(ImportRejected) as exc:
        import_file(org, tmp_path / "absent.csv")
    assert messages(exc) == ["absent.csv : fichier illisible : fichier introuvable"]


# --- 8. PDF paths never reach outside the import ------------------------------------------------


@pytest.mark.parametrize("reference", ["/etc/passwd", "../secret/lettre.pdf", "pdf/../../secret/lettre.pdf",
                                       "C:/Windows/lettre.pdf", "..\\secret\\lettre.pdf", "pdf/absent.pdf"])
def test_a_pdf_outside_the_import_is_refused_without_telling_whether_it_exists(
        org: Organisation, tmp_path: Path, reference: str) -> None:
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "lettre.pdf").write_bytes(PDF)
    folder = tmp_path / "import"
    folder.mkdir()
    path = write(folder, "factures.csv", INVOICES_HEADER + f"F1;C001;01/10/2026;31/10/2026;12,00;;{reference}\n")
    with pytest.raises(ImportRejected) as exc:
        import_file(org, path)
    (problem,) = exc.value.problems
    assert problem.message.startswith(f"PDF « {reference} » introuvable ou non autorisé")
    assert Invoice.objects.count() == 0


def test_a_symbolic_link_out_of_the_folder_is_refused(org: Organisation, tmp_path: Path) -> None:
    (tmp_path / "secret.pdf").write_bytes(PDF)
    folder = tmp_path / "import"
    folder.mkdir()
    (folder / "lien.pdf").symlink_to(tmp_path / "secret.pdf")
    path = write(folder, "factures.csv", INVOICES_HEADER + "F1;C001;01/10/2026;31/10/2026;12,00;;lien.pdf\n")
    with pytest.raises(ImportRejected) as exc:
        import_file(org, path)
    assert "introuvable ou non autorisé" in messages(exc)[0]


def zip_of(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_a_zip_with_the_table_and_its_pdfs_attaches_them(org: Organisation, tmp_path: Path) -> None:
    table = INVOICES_HEADER + "F1;C001;01/10/2026;31/10/2026;12,00;;pdf/F1.pdf\n"
    path = tmp_path / "lot.zip"
    path.write_bytes(zip_of({"factures.csv": table.encode(), "pdf/F1.pdf": PDF}))
    report = import_file(org, path, own_folder=False)
    assert report.counts["invoices_created"] == 1
    assert Invoice.objects.get(number="F1").pdf.read() == PDF


def test_the_configured_folder_of_the_organisation_provides_pdfs(
        org: Organisation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "depot"
    (root / org.slug).mkdir(parents=True)
    (root / org.slug / "F1.pdf").write_bytes(PDF)
    (root / "autre").mkdir()
    (root / "autre" / "F2.pdf").write_bytes(PDF)
    monkeypatch.setenv(imports.IMPORT_DIR_ENV, str(root))
    upload = tmp_path / "upload"
    upload.mkdir()
    ok = write(upload, "factures.csv", INVOICES_HEADER + "F1;C001;01/10/2026;31/10/2026;12,00;;F1.pdf\n")
    import_file(org, ok, own_folder=False)
    assert Invoice.objects.get(number="F1").pdf.read() == PDF
    other = write(upload, "factures2.csv", INVOICES_HEADER + "F2;C001;01/10/2026;31/10/2026;12,00;;../autre/F2.pdf\n")
    with pytest.raises(ImportRejected):
        import_file(org, other, own_folder=False)


def test_the_web_page_reads_no_server_file(tmp_path: Path, client: Client) -> None:
    victim = make_org("victime")
    (tmp_path / "victime").mkdir()
    (tmp_path / "victime" / "lettre.pdf").write_bytes(PDF)
    org = make_org("atelier2")
    from relance.ledger.models import Membership
    client.force_login(make_user("admin2", org, role=Membership.Role.ADMIN))
    client.post(reverse("web:imports"), {"format": "csv", "default_kind": "entreprise", "uploads": [
        _upload("clients.csv", b"Code client;Raison sociale;Type\nC001;Dupont;entreprise\n")]})
    for reference in (str(tmp_path / "victime" / "lettre.pdf"), "../../victime/lettre.pdf", "absent.pdf"):
        table = INVOICES_HEADER + f"F1;C001;01/10/2026;31/10/2026;12,00;;{reference}\n"
        page = client.post(reverse("web:imports"), {"format": "csv", "uploads": [_upload("factures.csv", table.encode())]})
        assert page.status_code == 422
        assert "introuvable ou non autorisé" in page.content.decode()
    assert not Invoice.objects.filter(organisation=org).exists()
    assert victim.pk


def _upload(name: str, data: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile
    return SimpleUploadedFile(name, data)


# --- 9. a restricted collector imports only for their own customers --------------------------


@pytest.fixture
def restricted(org: Organisation, client: Client) -> Client:
    from relance.ledger.models import Membership
    org.collectors_see_assigned_only = True
    org.save(update_fields=["collectors_see_assigned_only"])
    user = make_user("claire", org, role=Membership.Role.COLLECTOR)
    Customer.objects.filter(organisation=org, code="C001").update(collector=user)
    client.force_login(user)
    return client


def test_a_restricted_collector_cannot_rename_an_unassigned_customer(restricted: Client, org: Organisation) -> None:
    table = b"Code client;Raison sociale;Type\nC002;Renomme;entreprise\n"
    page = restricted.post(reverse("web:imports"), {"format": "csv", "uploads": [_upload("clients.csv", table)]})
    assert page.status_code == 422
    assert "hors des clients qui vous sont attribués" in page.content.decode()
    assert Customer.objects.get(code="C002").legal_name == "Garage du Centre"


def test_a_restricted_collector_imports_for_their_own_customer(restricted: Client, org: Organisation) -> None:
    table = (INVOICES_HEADER + "F9;C001;01/10/2026;31/10/2026;12,00;;\n").encode()
    page = restricted.post(reverse("web:imports"), {"format": "csv", "uploads": [_upload("factures.csv", table)]})
    assert page.status_code == 200, page.content.decode()
    assert "1 facture(s) créée(s)" in page.content.decode()
    other = (INVOICES_HEADER + "F10;C002;01/10/2026;31/10/2026;12,00;;\n").encode()
    page = restricted.post(reverse("web:imports"), {"format": "csv", "uploads": [_upload("factures2.csv", other)]})
    assert page.status_code == 422
    assert not Invoice.objects.filter(number="F10").exists()


def test_a_restricted_collector_cannot_import_a_fec(restricted: Client) -> None:
    page = restricted.post(reverse("web:imports"), {"format": "fec", "uploads": [_upload("fec.txt", b"x")]})
    assert page.status_code == 403


# --- 5. lookups in chunks ----------------------------------------------------------------------


def test_lookups_are_chunked(org: Organisation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imports, "CHUNK", 7)
    rows = "".join(f"F{i};C00{1 + i % 3};01/10/2026;31/10/2026;{i + 1},00;;\n" for i in range(50))
    path = write(tmp_path, "factures.csv", INVOICES_HEADER + rows)
    assert import_file(org, path).counts["invoices_created"] == 50
    path2 = write(tmp_path, "factures2.csv", INVOICES_HEADER + rows.replace(";;\n", ";maj;\n"))
    assert import_file(org, path2).counts["invoices_updated"] == 50


def test_an_archive_member_that_climbs_out_is_never_read(org: Organisation, tmp_path: Path) -> None:
    table = INVOICES_HEADER + "F1;C001;01/10/2026;31/10/2026;12,00;;../F1.pdf\n"
    path = tmp_path / "lot.zip"
    path.write_bytes(zip_of({"factures.csv": table.encode(), "../F1.pdf": PDF}))
    with pytest.raises(ImportRejected) as exc:
        import_file(org, path, own_folder=False)
    assert "introuvable ou non autorisé" in messages(exc)[0]


def test_a_damaged_or_ambiguous_archive_is_a_french_error(org: Organisation, tmp_path: Path) -> None:
    damaged = tmp_path / "lot.zip"
    damaged.write_bytes(b"PK\x03\x04 pas une archive")
    with pytest.raises(ImportRejected) as exc:
        import_file(org, damaged)
    assert messages(exc) == ["lot.zip : archive ZIP illisible (fichier abîmé ou pas un ZIP)"]
    two = tmp_path / "deux.zip"
    two.write_bytes(zip_of({"a.csv": b"x", "b.csv": b"y"}))
    with pytest.raises(ImportRejected) as exc:
        import_file(org, two)
    assert "exactement un tableau" in messages(exc)[0]


def test_the_web_page_takes_an_explicit_default_kind_and_states_it(tmp_path: Path, client: Client) -> None:
    from relance.ledger.models import Membership
    org = make_org("atelier3")
    client.force_login(make_user("admin3", org, role=Membership.Role.ADMIN))
    refused = client.post(reverse("web:imports"), {"format": "csv", "uploads": [_upload("clients.csv", NO_KIND.encode())]})
    assert refused.status_code == 422
    assert "type de client manquant" in refused.content.decode()
    page = client.post(reverse("web:imports"), {"format": "csv", "default_kind": "particulier",
                                                "uploads": [_upload("clients.csv", NO_KIND.encode())]})
    assert page.status_code == 200
    assert "Type de client par défaut donné pour cet import : particulier (2 ligne(s) sans type)" in page.content.decode()
    assert set(Customer.objects.filter(organisation=org).values_list("is_business", flat=True)) == {False}


def test_the_web_page_attaches_pdfs_from_an_uploaded_archive(client: Client, org: Organisation) -> None:
    from relance.ledger.models import Membership
    client.force_login(make_user("admin4", org, role=Membership.Role.ADMIN))
    table = INVOICES_HEADER + "F7;C001;01/10/2026;31/10/2026;12,00;;pdf/F7.pdf\n"
    archive = zip_of({"factures.csv": table.encode(), "pdf/F7.pdf": PDF})
    page = client.post(reverse("web:imports"), {"format": "csv", "uploads": [_upload("lot.zip", archive)]})
    assert page.status_code == 200, page.content.decode()
    assert Invoice.objects.get(number="F7").pdf.read() == PDF
