"""``relance cases`` (alias ``relance litigation``, issue #16): the read actions in JSON (list,
show, documents, export, writeoffs, recipients, prescription) and the write actions over the
litigation services (file, handover, step, close, recipients)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from relance import clock
from relance.cli.main import main
from relance.dunning.models import Reminder, ReminderLine
from relance.ledger.models import Customer, Invoice, Organisation
from relance.litigation.models import CaseDocument, HandoverRecipient, LitigationCase
from relance.litigation.services import close_case, open_cases
from tests.builders import make_customer, make_org

pytestmark = pytest.mark.django_db

DAY = date(2026, 11, 23)
NOON = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
TRACKING = "1A12345678901"
PDF = b"%PDF-1.4\n% ordonnance\n%%EOF\n"


@pytest.fixture(autouse=True)
def _world(settings: Any, tmp_path: Path) -> Any:
    settings.MEDIA_ROOT = tmp_path / "media"
    with clock.frozen(NOON):
        yield


@pytest.fixture
def org() -> Organisation:
    return make_org()


@pytest.fixture
def martin(org: Organisation) -> Customer:
    return make_customer(org, "C001", "Boulangerie Martin SARL", siren="732829320", address1="12 rue des Lilas",
                         postal_code="69003", city="Lyon")


@pytest.fixture
def invoices(org: Organisation, martin: Customer) -> list[Invoice]:
    made = [Invoice.objects.create(organisation=org, customer=martin, number=number, due_date=due,
                                   issue_date=due - timedelta(days=30), amount_incl_tax=Decimal(amount),
                                   amount_excl_tax=Decimal(excl), tax_amount=Decimal(amount) - Decimal(excl),
                                   amount_due=Decimal(amount), last_step_position=5)
            for number, due, amount, excl in (("FA-2026-0101", date(2026, 9, 1), "1200.00", "1000.00"),
                                              ("FA-2026-0107", date(2026, 9, 8), "480.00", "400.00"))]
    reminder = Reminder.objects.create(
        organisation=org, customer=martin, channel="registered_letter", planned_for=date(2026, 10, 12),
        status=Reminder.Status.SENT, idempotency_key="test-notice", subject="Mise en demeure de payer",
        sent_at=datetime(2026, 10, 12, 9, 30, tzinfo=UTC), tracking_number=TRACKING, received_on=date(2026, 10, 14))
    ReminderLine.objects.bulk_create([ReminderLine(reminder=reminder, invoice=i, step_position=4,
                                                   amount_due=i.amount_due) for i in made])
    return made


@pytest.fixture
def case(org: Organisation, martin: Customer, invoices: list[Invoice]) -> LitigationCase:
    (opened,) = open_cases(org, DAY, {martin.pk: [i.pk for i in invoices]}, step_label="Contentieux")
    return opened


def cli(capsys: Any, *args: str, command: str = "cases", as_json: bool = True) -> tuple[int, Any]:
    code = main([command, *args, *(["--json"] if as_json else [])])
    out = capsys.readouterr().out
    if not as_json:
        return code, out
    return code, json.loads(out) if out.strip() else None


# --------------------------------------------------------------------------- read


def test_list_and_show_under_both_names(capsys: Any, org: Organisation, case: LitigationCase) -> None:
    code, listing = cli(capsys, "list", "--org", org.slug)
    assert code == 0 and [c["case"] for c in listing["cases"]] == [case.pk]
    assert listing["counts"]["opened"] == 1
    assert cli(capsys, "list", "--org", org.slug, command="litigation") == (0, listing)
    code, shown = cli(capsys, "show", str(case.pk), "--org", org.slug)
    assert code == 0 and shown["case"] == case.pk and shown["events"][0]["kind"] == "litigation.opened"
    assert cli(capsys, "show", "--org", org.slug)[0] == 2  # no number
    assert cli(capsys, "show", str(case.pk + 99), "--org", org.slug)[0] == 3
    code, docs = cli(capsys, "documents", str(case.pk), "--org", org.slug)
    assert code == 0 and docs == {"case": case.pk, "documents": []}


def test_export_for_an_agency(capsys: Any, tmp_path: Path, org: Organisation, case: LitigationCase) -> None:
    code, data = cli(capsys, "export", "--org", org.slug)
    assert code == 0 and [c["case"] for c in data["cases"]] == [case.pk]
    assert data["cases"][0]["total_due_now"] == "1680.00"
    assert data["cases"][0]["invoices"][0]["formal_notice"]["tracking_number"] == TRACKING

    target = tmp_path / "export" / "dossiers.csv"
    code, done = cli(capsys, "export", "--out", str(target), "--org", org.slug)
    assert code == 0 and done["file"] == str(target) and done["cases"] == 1
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert [(r["Facture"], r["Montant TTC"]) for r in rows] == [("FA-2026-0101", "1200,00"), ("FA-2026-0107", "480,00")]

    code, out = cli(capsys, "export", "--format", "json", "--state", "opened", "--org", org.slug, as_json=False)
    assert code == 0 and json.loads(out)[0]["case"] == case.pk
    code, out = cli(capsys, "export", "--org", org.slug, as_json=False)
    assert code == 0 and out.startswith("\ufeffDossier;État;")


def test_writeoffs_for_the_accountant(capsys: Any, tmp_path: Path, org: Organisation, case: LitigationCase) -> None:
    close_case(org, case, outcome="irrecoverable", actor="sophie", on=DAY)

    code, data = cli(capsys, "writeoffs", "--since", "2026-01-01", "--until", "2026-12-31", "--org", org.slug)
    assert code == 0 and [w["invoice"] for w in data["writeoffs"]] == ["FA-2026-0101", "FA-2026-0107"]
    assert data["totals"] == {"written_off": "1680.00", "excl_tax": "1400.00", "vat": "280.00"}
    assert "272" in data["vat_note"] and data["vat_unknown"] == []
    code, data = cli(capsys, "writeoffs", "--since", "2026-10-01", "--until", "2026-11-22", "--org", org.slug)
    assert code == 0 and data["writeoffs"] == []

    target = tmp_path / "irrecouvrables.txt"
    code, done = cli(capsys, "writeoffs", "--format", "fec", "--loss-account", "6541", "--out", str(target),
                     "--org", org.slug)
    assert code == 0 and Path(done["note_file"]).read_text(encoding="utf-8").startswith("Récupération de la TVA")
    lines = [line.split("\t") for line in target.read_text(encoding="utf-8").splitlines()]
    assert lines[0][:4] == ["JournalCode", "JournalLib", "EcritureNum", "EcritureDate"]
    assert [(line[4], line[11], line[12]) for line in lines[1:4]] == [("6541", "1000,00", "0,00"),
                                                                      ("44571", "200,00", "0,00"),
                                                                      ("411", "0,00", "1200,00")]
    assert [e["CompteNum"] for e in done["fec"]] == ["6541", "44571", "411"] * 2

    code, out = cli(capsys, "writeoffs", "--org", org.slug, as_json=False)
    assert code == 0 and out.startswith("\ufeffDossier;Clôturé le;") and "1200,00;1000,00;200,00" in out
    assert cli(capsys, "writeoffs", "--since", "2026-12-01", "--until", "2026-01-01", "--org", org.slug)[0] == 2


def test_prescription_watch(capsys: Any, org: Organisation, martin: Customer) -> None:
    Invoice.objects.create(organisation=org, customer=martin, number="FA-2021-0042", issue_date=date(2021, 12, 1),
                           due_date=date(2021, 12, 31), amount_incl_tax=Decimal("300"), amount_due=Decimal("300"))
    code, data = cli(capsys, "prescription", "--org", org.slug)
    assert code == 0 and data["as_of"] == "2026-11-23" and data["days"] == 90
    (row,) = data["invoices"]
    assert row["number"] == "FA-2021-0042" and row["ends_on"] == "2026-12-01" and row["days_left"] == 8
    assert row["years"] == 5 and row["case"] is None
    assert cli(capsys, "prescription", "--days", "7", "--org", org.slug)[1]["invoices"] == []
    code, out = cli(capsys, "prescription", "--org", org.slug, as_json=False)
    assert code == 0 and "FA-2021-0042" in out and "prescrite le 01/12/2026 (dans 8 j)" in out


# --------------------------------------------------------------------------- write


def test_recipients_are_created_listed_and_changed(capsys: Any, org: Organisation) -> None:
    code, made = cli(capsys, "recipients", "--name", "Recouvr’Est", "--kind", "agency", "--email",
                     "dossiers@recouvrest.test", "--reference", "MANDAT-42", "--org", org.slug)
    assert code == 0 and made["name"] == "Recouvr’Est" and made["active"] is True
    code, listing = cli(capsys, "recipients", "--org", org.slug)
    assert code == 0 and [r["id"] for r in listing["recipients"]] == [made["id"]]
    code, changed = cli(capsys, "recipients", str(made["id"]), "--inactive", "--org", org.slug)
    assert code == 0 and changed["active"] is False and changed["email"] == "dossiers@recouvrest.test"
    assert cli(capsys, "recipients", "--name", "Sans profession", "--org", org.slug)[0] == 2


def test_steps_documents_and_closing(capsys: Any, tmp_path: Path, org: Organisation, case: LitigationCase) -> None:
    code, moved = cli(capsys, "step", str(case.pk), "--to", "request_filed", "--date", "2026-11-23",
                      "--court-kind", "commerce", "--court-name", "Tribunal de commerce de Lyon",
                      "--court-address", "44 rue de Bonnel, 69003 Lyon", "--org", org.slug)
    assert code == 0 and moved["state"] == "request_filed"
    saved = LitigationCase.objects.get(pk=case.pk)
    assert saved.request_filed_on == DAY and saved.court_name == "Tribunal de commerce de Lyon"
    order = tmp_path / "ordonnance.pdf"
    order.write_bytes(PDF)
    code, moved = cli(capsys, "step", str(case.pk), "--to", "order_issued", "--date", "2026-11-23",
                      "--court-reference", "RG 26/01234", "--document", str(order), "--org", org.slug)
    assert code == 0 and moved["state"] == "order_issued"
    code, docs = cli(capsys, "documents", str(case.pk), "--org", org.slug)
    assert code == 0 and [d["kind"] for d in docs["documents"]] == [CaseDocument.Kind.ORDER]
    assert cli(capsys, "step", str(case.pk), "--to", "request_filed", "--org", org.slug)[0] == 6  # backwards
    assert cli(capsys, "step", str(case.pk), "--org", org.slug)[0] == 2  # no target
    code, closed = cli(capsys, "close", str(case.pk), "--outcome", "irrecoverable", "--org", org.slug)
    assert code == 0 and closed["state"] == "closed" and closed["outcome"] == "irrecoverable"


def test_file_handled_by_marks_the_handover_only(capsys: Any, org: Organisation, case: LitigationCase) -> None:
    code, filed = cli(capsys, "file", str(case.pk), "--handled-by", "Maître Durand",
                      "--date", "2026-11-23", "--org", org.slug)
    assert code == 0 and filed["state"] == "filed" and filed["handled_by"] == "Maître Durand"
    assert filed["documents"] == [] and not CaseDocument.objects.exists()
    # refused (already handed over): nothing produced either
    assert cli(capsys, "file", str(case.pk), "--handled-by", "X", "--documents", "--org", org.slug)[0] == 6
    assert not CaseDocument.objects.exists()


def test_file_produces_the_documents_and_copies_them(capsys: Any, tmp_path: Path, org: Organisation,
                                                     case: LitigationCase) -> None:
    out = tmp_path / "dossier"
    code, data = cli(capsys, "file", str(case.pk), "--out", str(out), "--org", org.slug)
    assert code == 0
    kinds = {d["kind"] for d in data["documents"]}
    assert {"evidence_pdf", "evidence_zip", "request"} <= kinds
    assert sorted(p.name for p in out.iterdir()) == sorted(Path(w).name for w in data["written"])
    assert all((out / Path(d["file"]).name).stat().st_size == d["size"] for d in data["documents"])


def test_handover_by_download_and_to_a_recipient(capsys: Any, org: Organisation, case: LitigationCase) -> None:
    HandoverRecipient.objects.create(organisation=org, kind="lawyer", name="Maître Durand")
    code, data = cli(capsys, "handover", str(case.pk), "--to", "maître durand", "--method", "download",
                     "--org", org.slug)
    assert code == 0 and data["handover"]["method"] == "download"
    assert data["handover"]["recipient"] == HandoverRecipient.objects.get().pk
    assert cli(capsys, "handover", str(case.pk), "--to", "Inconnu", "--org", org.slug)[0] == 3
    assert cli(capsys, "handover", str(case.pk), "--org", org.slug)[0] == 2


def test_serving_the_order_takes_an_invoice_off_the_prescription_watch(capsys: Any, org: Organisation) -> None:
    person = make_customer(org, "P001", "Jean Petit", is_business=False)
    old = Invoice.objects.create(organisation=org, customer=person, number="FA-2024-0900", issue_date=date(2024, 12, 1),
                                 due_date=date(2024, 12, 31), amount_incl_tax=Decimal("250"),
                                 amount_due=Decimal("250"), last_step_position=5)
    (case,) = open_cases(org, DAY, {person.pk: [old.pk]})
    code, data = cli(capsys, "prescription", "--org", org.slug)
    (row,) = data["invoices"]
    assert (row["number"], row["ends_on"], row["years"], row["case"]) == ("FA-2024-0900", "2026-12-01", 2, case.pk)
    assert cli(capsys, "step", str(case.pk), "--to", "request_filed", "--court-kind", "judiciaire", "--court-name",
               "Tribunal judiciaire de Lyon", "--court-address", "67 rue Servient, 69003 Lyon", "--org", org.slug)[0] == 0
    assert cli(capsys, "step", str(case.pk), "--to", "order_issued", "--org", org.slug)[0] == 0
    assert len(cli(capsys, "prescription", "--org", org.slug)[1]["invoices"]) == 1  # the request alone: nothing
    assert cli(capsys, "step", str(case.pk), "--to", "served", "--org", org.slug)[0] == 0
    code, data = cli(capsys, "prescription", "--days", "800", "--org", org.slug)
    (row,) = data["invoices"]
    assert code == 0 and row["ends_on"] == "2028-11-23" and row["interruptions"] == [
        {"on": "2026-11-23", "label": "signification de l’ordonnance d’injonction de payer"}]
    assert cli(capsys, "prescription", "--org", org.slug)[1]["invoices"] == []


def test_the_text_outputs(capsys: Any, tmp_path: Path, org: Organisation, case: LitigationCase) -> None:
    assert cli(capsys, "list", "--org", org.slug, as_json=False) == (0, cli(capsys, "--org", org.slug, as_json=False,
                                                                            command="litigation")[1])
    code, out = cli(capsys, "show", str(case.pk), "--org", org.slug, as_json=False)
    assert code == 0 and "Dossier de contentieux n° " in out and f"recommandé {TRACKING}" in out
    code, out = cli(capsys, "documents", str(case.pk), "--org", org.slug, as_json=False)
    assert code == 0 and out.strip() == f"Dossier n° {case.pk} : aucun document."
    code, out = cli(capsys, "recipients", "--org", org.slug, as_json=False)
    assert code == 0 and out.strip() == "Aucun destinataire des dossiers."
    code, out = cli(capsys, "export", "--out", str(tmp_path / "d.csv"), "--org", org.slug, as_json=False)
    assert code == 0 and out.strip() == f"1 dossier(s) exporté(s) dans {tmp_path / 'd.csv'}."
    close_case(org, case, outcome="irrecoverable", actor="sophie", on=DAY)
    code, out = cli(capsys, "writeoffs", "--out", str(tmp_path / "p.csv"), "--org", org.slug, as_json=False)
    assert code == 0 and "2 facture(s) irrécouvrable(s)" in out and "1\u202f680,00\xa0€ TTC" in out
    assert (tmp_path / "p-tva.txt").exists()
    code, out = cli(capsys, "prescription", "--org", org.slug, as_json=False)
    assert code == 0 and out.strip() == "Aucune facture prescrite ou prescrite d’ici 90 jours."
