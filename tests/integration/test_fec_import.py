"""FEC import into the ledger: the real exports of the corpus with their figures, and
small self-made FECs for each rule (customers, partial lettering, credits, rejection,
re-import closing a lettered invoice and cancelling its reminder, year change)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core import mail

from relance.core.formats.fec import parse_fec, receivables
from relance.dunning.models import Reminder
from relance.dunning.services.dispatcher import dispatch_now
from relance.dunning.services.planner import plan_day
from relance.errors import ImportRejected, InvalidInput, NotFound
from relance.events.models import Event
from relance.events.services import verify_chain
from relance.ledger.models import (
    Allocation,
    CreditNote,
    Customer,
    CustomerAlias,
    ImportBatch,
    Invoice,
    Organisation,
    Payment,
)
from relance.ledger.services import fec_import as fec_service
from relance.ledger.services.fec_import import map_fec_label
from relance.ledger.services.imports import import_file
from tests.builders import CUSTOMERS_CSV, make_customer, make_org, write

pytestmark = pytest.mark.django_db


def import_fec(org: Organisation, path: Path, **options: Any) -> Any:
    """The FEC import, with the explicit default kind the FEC cannot give (most tests are about other things)."""
    options.setdefault("default_kind", "entreprise")
    return fec_service.import_fec(org, path, **options)

D = Decimal
LEDGER_MODELS = (Customer, CustomerAlias, Invoice, CreditNote, Payment, Allocation, ImportBatch, Event)

HEADER = (
    "JournalCode\tJournalLib\tEcritureNum\tEcritureDate\tCompteNum\tCompteLib\tCompAuxNum\tCompAuxLib\tPieceRef\t"
    "PieceDate\tEcritureLib\tDebit\tCredit\tEcritureLet\tDateLet\tValidDate\tMontantdevise\tIdevise"
)
JOURNALS = {"VE": "Ventes", "BQ": "Banque", "AN": "A nouveaux", "OD": "Opérations diverses"}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def org() -> Organisation:
    return make_org(siren="")


# ---------------------------------------------------------------- a small FEC writer


def row(journal: str, num: str, day: str, account: str, account_label: str, aux: str, aux_label: str, piece: str,
        label: str, debit: str, credit: str, letter: str = "", letter_date: str = "") -> str:
    return "\t".join([journal, JOURNALS[journal], num, day, account, account_label, aux, aux_label, piece, day, label,
                      debit, credit, letter, letter_date, day, "", ""])


def sale(num: str, day: str, aux: str, name: str, piece: str, amount: str, letter: str = "",
         account: str = "41100000", account_label: str = "Clients") -> list[str]:
    """An invoice: customer debit, sales credit."""
    return [row("VE", num, day, account, account_label, aux, name, piece, f"Facture {piece} {name}", amount, "0,00",
                letter),
            row("VE", num, day, "70600000", "Prestations", "", "", piece, f"Facture {piece} {name}", "0,00", amount)]


def refund(num: str, day: str, aux: str, name: str, piece: str, amount: str, letter: str = "") -> list[str]:
    """A credit note in the sales journal: customer credit, sales debit."""
    return [row("VE", num, day, "41100000", "Clients", aux, name, piece, f"Avoir {piece} {name}", "0,00", amount,
                letter),
            row("VE", num, day, "70600000", "Prestations", "", "", piece, f"Avoir {piece}", amount, "0,00")]


def receipt(num: str, day: str, aux: str, name: str, piece: str, amount: str, letter: str = "",
            account: str = "41100000", account_label: str = "Clients") -> list[str]:
    """A payment received: bank debit, customer credit."""
    return [row("BQ", num, day, "51200000", "Banque", "", "", piece, f"Virement {name}", amount, "0,00"),
            row("BQ", num, day, account, account_label, aux, name, piece, f"Virement {name}", "0,00", amount, letter)]


def fec(tmp_path: Path, name: str, *entries: list[str], encoding: str = "utf-8") -> Path:
    lines = [HEADER] + [line for entry in entries for line in entry]
    path = tmp_path / name
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in LEDGER_MODELS}


def due_of(org: Organisation, code: str) -> Decimal:
    # summed in Python: SQLite sums decimal columns in floating point
    return sum(Invoice.objects.filter(organisation=org, customer__code=code).values_list("amount_due", flat=True),
               D(0))


def inv(org: Organisation, number: str) -> Invoice:
    return Invoice.objects.get(organisation=org, number=number)


# ---------------------------------------------------------------- the real exports of the corpus

# file, prefix, open invoices, open credits, customers with open items, open amount, credit balances
REAL = [
    ("ekylibre_quadra_123456789FEC20190731.txt", "411", 248, 62, 151, D("283113.83"), D("322.46")),
    # collective accounts (« CLIENTS », « CLIENTS Divers Prof ») split by entry label; « CLIENTS Bigot » stays one
    ("ekylibre_agrigest_123456789FEC20230331.txt", "411", 159, 120, 86, D("29900.14"), D("45719.47")),
    ("ekylibre_sage_coala_2020.txt", "411", 0, 0, 0, D("0"), D("0")),
    ("ekylibre_bordeaux_sciences_agro_istea_123456789FEC20201231.txt", "411", 0, 0, 0, D("0"), D("0")),
    ("tryton_account_fr_FEC.csv", "4967", 2, 0, 1, D("15.00"), D("0")),
]


@pytest.mark.parametrize(("name", "prefix", "invoices", "credits", "customers", "amount", "in_credit"), REAL)
def test_real_fec_imports_with_its_figures(realdata, org, name, prefix, invoices, credits, customers, amount,
                                           in_credit):
    path = realdata / "fec" / name
    report = import_fec(org, path, customer_prefix=prefix)
    data = report.as_dict()
    assert (data["open_invoices"], data["open_credits"], data["customers"]) == (invoices, credits, customers)
    assert data["open_amount"] == f"{amount:.2f}"
    assert Invoice.objects.filter(organisation=org).count() == data["invoices_created"] == invoices
    assert Payment.objects.count() + CreditNote.objects.count() == credits
    # credits are applied so that each customer's FEC invoices owe exactly its open balance
    rec = receivables(parse_fec(path).lines, prefix)
    for account in rec.open_customers:
        code = account.code
        if account.source == "label":  # a customer derived from the entry labels: found by its alias
            code = Customer.objects.get(organisation=org, aliases__value=account.code).code
        assert due_of(org, code) == max(account.balance, D(0)), account.code
    total_due = sum(Invoice.objects.filter(organisation=org).values_list("amount_due", flat=True), D(0))
    assert total_due == amount + in_credit
    assert not verify_chain(org)
    assert import_fec(org, path, customer_prefix=prefix).already_imported


def test_quadra_details(realdata, org):
    report = import_fec(org, realdata / "fec" / "ekylibre_quadra_123456789FEC20190731.txt")
    assert report.counts["credit_notes_created"] == 4  # credits booked in the sales journal VE
    assert report.counts["payments_created"] == 58  # ENC (bank), MAR, AN
    text = report.as_text()
    assert "283\u202f113,83\xa0€" in text and "151 client(s)" in text
    assert any("solde créditeur" in w and "LE GLEDIL" in w for w in report.warnings)
    assert any("pas d’échéances" in w for w in report.warnings)
    # the ENC payment of 5 488,00 € carries the invoice's PieceRef 190735: it designates it
    aems = Customer.objects.get(organisation=org, code="01AEMS00")
    assert aems.legal_name == "A.E.M.S"
    paid = inv(org, "190735")
    assert (paid.amount_incl_tax, paid.amount_due) == (D("5770.00"), D("282.00"))
    assert paid.due_date == date(2019, 8, 23)  # 24 July 2019 + 30 days
    assert paid.source == "fec" and paid.source_key == "VE|VE001345|41100000|01AEMS00|190735"
    assert paid.payment_reference.startswith("RF")


def test_agrigest_individual_accounts_and_cross_journal_entries(realdata, org):
    report = import_fec(org, realdata / "fec" / "ekylibre_agrigest_123456789FEC20230331.txt")
    coop = Customer.objects.get(organisation=org, code="41110100")
    assert coop.legal_name == "COOP"
    # PieceRef « 510 » is shared by 87 opening lines: numbered after their entry instead
    assert Invoice.objects.filter(organisation=org, number__startswith="AN-").exists()
    assert report.counts["invoices_created"] == 159


def test_tryton_needs_its_prefix(realdata, org):
    with pytest.raises(ImportRejected) as exc:
        import_fec(org, realdata / "fec" / "tryton_account_fr_FEC.csv")
    assert "commençant par « 411 »" in str(exc.value)
    assert ImportBatch.objects.count() == 0
    import_fec(org, realdata / "fec" / "tryton_account_fr_FEC.csv", customer_prefix="4967")
    assert Customer.objects.get(organisation=org, code="2").legal_name == "Party"


def test_coala_lettering_without_counterpart_is_trusted(realdata, org):
    report = import_fec(org, realdata / "fec" / "ekylibre_sage_coala_2020.txt")
    assert Invoice.objects.count() == 0
    assert any("8 lettrage(s) sans contrepartie" in w and "363,70" in w for w in report.warnings)


# ---------------------------------------------------------------- customers


def test_aux_accounts_csv_customer_terms_credit_note_and_designated_payment(org, tmp_path):
    import_file(org, write(tmp_path, "clients.csv", CUSTOMERS_CSV))
    Customer.objects.filter(code="C002").update(terms_days=45)
    path = fec(tmp_path, "fec.txt",
               sale("VE1", "20260910", "C001", "BOULANGERIE MARTIN", "FA-001", "1200,00"),
               sale("VE2", "20261001", "C001", "BOULANGERIE MARTIN", "FA-002", "480,50"),
               sale("VE3", "20261015", "C002", "GARAGE DU CENTRE", "FA-003", "2400,00"),
               refund("VE4", "20261020", "C002", "GARAGE DU CENTRE", "AV-001", "400,00"),
               sale("VE5", "20261016", "C004", "NOUVEAU CLIENT", "FA-004", "100,00"),
               receipt("BQ1", "20261105", "C001", "BOULANGERIE MARTIN", "FA-002", "480,50"))
    report = import_fec(org, path)
    assert report.counts["customers_created"] == 1  # C004; C001 and C002 are the CSV's
    assert Customer.objects.filter(organisation=org).count() == 4
    assert Customer.objects.get(code="C001").legal_name == "Boulangerie Martin SARL"  # the CSV's name is kept
    assert Customer.objects.get(code="C004").legal_name == "NOUVEAU CLIENT"
    # the payment names FA-002 in its PieceRef: it settles FA-002, not the older FA-001
    assert (inv(org, "FA-001").amount_due, inv(org, "FA-002").status) == (D("1200.00"), "paid")
    # the credit note of the sales journal is a credit note, applied to FA-003
    note = CreditNote.objects.get(organisation=org)
    assert (note.number, note.amount_incl_tax, note.customer.code) == ("AV-001", D("400.00"), "C002")
    assert inv(org, "FA-003").amount_due == D("2000.00")
    assert inv(org, "FA-003").due_date == date(2026, 11, 29)  # 15 October + the customer's 45 days
    assert inv(org, "FA-001").due_date == date(2026, 10, 10)  # the organisation's 30 days
    assert Payment.objects.get(organisation=org).method == "non lettré (FEC)"
    assert report.counts["credits_applied"] == 2
    assert not verify_chain(org)


def test_individual_customer_accounts(org, tmp_path):
    path = fec(tmp_path, "fec.txt",
               sale("VE1", "20260910", "", "", "F1", "100,00", account="411DUPONT", account_label="Dupont SA"),
               sale("VE2", "20260911", "", "", "F2", "50,00", account="411MARTIN", account_label="Martin"),
               receipt("BQ1", "20260920", "", "", "VIR", "30,00", account="411MARTIN", account_label="Martin"))
    report = import_fec(org, path)
    assert set(Customer.objects.values_list("code", "legal_name")) == {("411DUPONT", "Dupont SA"),
                                                                       ("411MARTIN", "Martin")}
    assert due_of(org, "411MARTIN") == D("20.00")
    assert not any("libellé" in w for w in report.warnings)


def test_label_grouping_and_correction(org, tmp_path):
    import_file(org, write(tmp_path, "clients.csv", CUSTOMERS_CSV))
    rows = [
        sale("VE1", "20260910", "", "", "F101", "120,00"),
        sale("VE2", "20260912", "", "", "F102", "80,00"),
        sale("VE3", "20260915", "", "", "F103", "50,00"),
        receipt("BQ1", "20260920", "", "", "V1", "20,00"),
    ]
    rows[0] = [r.replace("Facture F101 ", "Facture F101 Dupont") for r in rows[0]]
    rows[1] = [r.replace("Facture F102 ", "Facture F102 Dupont") for r in rows[1]]
    rows[2] = [r.replace("Facture F103 ", "Facture F103 Martin") for r in rows[2]]
    rows[3] = [r.replace("Virement ", "Virement Dupont") for r in rows[3]]
    report = import_fec(org, fec(tmp_path, "fec.txt", *rows))
    assert any("deviné(s) d’après le libellé" in w and "« DUPONT »" in w for w in report.warnings)
    dupont = Customer.objects.get(organisation=org, code="FEC-DUPONT")
    assert CustomerAlias.objects.get(value="DUPONT").customer == dupont
    assert due_of(org, "FEC-DUPONT") == D("180.00")
    # the user says « DUPONT » is the CSV's customer C002
    assert map_fec_label(org, "DUPONT", "C002") == 2
    assert due_of(org, "C002") == D("180.00") and due_of(org, "FEC-DUPONT") == D("0")
    assert Payment.objects.get(organisation=org).customer.code == "C002"
    assert CustomerAlias.objects.get(value="DUPONT").customer.code == "C002"
    assert map_fec_label(org, "DUPONT", "C002") == 0
    assert Event.objects.filter(kind="customer.alias_changed").count() == 1
    with pytest.raises(NotFound):
        map_fec_label(org, "INCONNU", "C002")
    with pytest.raises(NotFound):
        map_fec_label(org, "MARTIN", "C999")
    # the next FEC keeps the correction: a new Dupont invoice goes to C002
    rows.append([r.replace("Facture F104 ", "Facture F104 Dupont") for r in sale("VE4", "20261001", "", "", "F104",
                                                                                   "10,00")])
    report = import_fec(org, fec(tmp_path, "fec2.txt", *rows))
    assert inv(org, "F104").customer.code == "C002"
    assert report.counts["customers_created"] == 0
    assert due_of(org, "C002") == D("190.00")
    assert not verify_chain(org)


def test_mapping_a_label_cancels_the_previous_customers_planned_reminders(org, tmp_path):
    """Invoices moved to the right customer are no longer chased under the guessed one:
    its planned reminder listing them is cancelled (evented), and the next planning
    chases the right customer."""
    import_file(org, write(tmp_path, "clients.csv", CUSTOMERS_CSV))
    rows = [sale("VE1", "20260910", "", "", "F101", "120,00"), sale("VE2", "20260912", "", "", "F102", "80,00")]
    rows = [[r.replace(f"Facture {n} ", f"Facture {n} Dupont") for r in row]
            for row, n in zip(rows, ["F101", "F102"], strict=True)]
    import_fec(org, fec(tmp_path, "fec.txt", *rows))
    day = date(2026, 11, 23)
    plan_day(org, day)
    guessed = Reminder.objects.get(organisation=org, customer__code="FEC-DUPONT")
    assert guessed.status == Reminder.Status.PLANNED
    assert map_fec_label(org, "DUPONT", "C002") == 2
    guessed.refresh_from_db()
    assert guessed.status == Reminder.Status.CANCELLED
    cancelled = Event.objects.get(kind="reminder.cancelled", reminder_id_ref=guessed.pk)
    assert cancelled.data["reason"] == "invoices_moved"
    plan_day(org, day)
    right = Reminder.objects.get(organisation=org, customer__code="C002", status=Reminder.Status.PLANNED)
    assert sorted(right.lines.values_list("invoice__number", flat=True)) == ["F101", "F102"]
    assert not verify_chain(org)


# ---------------------------------------------------------------- lettering


def test_partial_lettering_leaves_the_residual_due(org, tmp_path):
    path = fec(tmp_path, "fec.txt",
               sale("VE1", "20260910", "C1", "ALPHA", "F1", "100,00", letter="AA*"),
               receipt("BQ1", "20260920", "C1", "ALPHA", "V1", "60,00", letter="AA*"),
               sale("VE2", "20260911", "C2", "BETA", "F2", "100,00", letter="b"),
               sale("VE3", "20260912", "C2", "BETA", "F3", "50,00", letter="b"),
               receipt("BQ2", "20260920", "C2", "BETA", "V2", "120,00", letter="b"),
               sale("VE4", "20260913", "C3", "GAMMA", "F4", "70,00", letter="C"),
               receipt("BQ3", "20260920", "C3", "GAMMA", "V3", "100,00", letter="C"),
               sale("VE5", "20260914", "C3", "GAMMA", "F5", "40,00"))
    report = import_fec(org, path)
    assert report.as_dict()["open_amount"] == "80.00"  # F1 40 + F3 30 + V3 −30 + F5 40, as detailed below
    f1 = inv(org, "F1")
    assert (f1.amount_incl_tax, f1.amount_due) == (D("100.00"), D("40.00"))
    assert Payment.objects.get(reference="Lettrage partiel FEC F1").amount == D("60.00")
    # the payment settles the oldest invoice first: F2 is settled, F3 keeps 30
    assert not Invoice.objects.filter(number="F2").exists()
    assert (inv(org, "F3").amount_incl_tax, inv(org, "F3").amount_due) == (D("50.00"), D("30.00"))
    # Gamma paid 30 too much on F4: the excess stays open and goes to F5
    assert not Invoice.objects.filter(number="F4").exists()
    assert inv(org, "F5").amount_due == D("10.00")
    assert any("3 lettrage(s) partiel(s)" in w for w in report.warnings)


# ---------------------------------------------------------------- rejection


def test_unbalanced_entry_rejects_the_file_and_imports_nothing(org, tmp_path):
    bad = sale("VE2", "20260911", "C1", "ALPHA", "F2", "50,00")
    bad[1] = bad[1].replace("\t0,00\t50,00\t", "\t0,00\t40,00\t")
    path = fec(tmp_path, "fec.txt", sale("VE1", "20260910", "C1", "ALPHA", "F1", "100,00"), bad)
    before = counts()
    with pytest.raises(ImportRejected) as exc:
        import_fec(org, path)
    [problem] = exc.value.problems
    assert (problem.file, problem.line, problem.field) == ("fec.txt", 4, "EcritureNum")
    assert "écriture non équilibrée : journal VE, n° VE2" in problem.message and "écart 10.00" in problem.message
    assert "rien n’a été importé" in exc.value.message
    assert counts() == before


@pytest.mark.parametrize(("content", "message"), [
    ("utf16", "UTF-16"),
    ("comma", "séparé par « , »"),
    ("truncated", "fichier tronqué ?"),
    ("xlsx", "classeur Excel"),
    ("empty", "fichier vide"),
    ("header", "colonnes manquantes"),
])
def test_files_that_are_not_a_fec_are_refused_clearly(org, tmp_path, content, message):
    good = fec(tmp_path, "good.txt", sale("VE1", "20260910", "C1", "ALPHA", "F1", "100,00"))
    text = good.read_text()
    path = tmp_path / "fec.txt"
    if content == "utf16":
        path.write_bytes(text.encode("utf-16"))
    elif content == "comma":
        path.write_text(text.replace("\t", ","))
    elif content == "truncated":
        path.write_text(text[: text.rindex("\t0,00\t")])
    elif content == "xlsx":
        path.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    elif content == "empty":
        path.write_bytes(b"")
    else:
        path.write_text(text.replace("CompteNum", "Compte"))
    before = counts()
    with pytest.raises(ImportRejected) as exc:
        import_fec(org, path)
    assert message in str(exc.value)
    assert counts() == before


def test_unreadable_file_and_bad_prefix(org, tmp_path):
    with pytest.raises(ImportRejected) as exc:
        import_fec(org, tmp_path / "absent.txt")
    assert "fichier illisible" in str(exc.value)
    path = fec(tmp_path, "fec.txt", sale("VE1", "20260910", "C1", "ALPHA", "F1", "100,00"))
    with pytest.raises(InvalidInput):
        import_fec(org, path, customer_prefix="41 1")


def test_montant_sens_pipe_cp1252_fixture(org):
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "fec" / "montant_sens.txt"
    report = import_fec(org, fixture)
    customer = Customer.objects.get(organisation=org, code="411LEFEVRE")
    assert customer.legal_name == "Léfèvre € Cie"
    invoice = inv(org, "FA010")
    assert (invoice.amount_incl_tax, invoice.amount_due, invoice.description) == (
        D("240.00"), D("140.00"), "Facture FA010")
    assert report.as_dict()["open_amount"] == "140.00"


def test_cp1252_file(org, tmp_path):
    path = fec(tmp_path, "fec.txt", sale("VE1", "20260910", "C1", "LÉA ÉPICERIE", "F1", "100,00"),
               encoding="cp1252")
    import_fec(org, path)
    assert Customer.objects.get(code="C1").legal_name == "LÉA ÉPICERIE"


# ---------------------------------------------------------------- re-import


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 11, 0, tzinfo=UTC)


V1 = [
    sale("VE1", "20260910", "C001", "BOULANGERIE MARTIN", "FA-001", "1200,00"),
    sale("VE2", "20261001", "C001", "BOULANGERIE MARTIN", "FA-002", "480,50"),
    sale("VE3", "20261015", "C002", "GARAGE DU CENTRE", "FA-003", "2400,00"),
]


@pytest.mark.django_db(transaction=True)
def test_reimport_closes_the_lettered_invoice_and_cancels_its_reminder(org, tmp_path):
    import_file(org, write(tmp_path, "clients.csv", CUSTOMERS_CSV))
    import_fec(org, fec(tmp_path, "v1.txt", *V1))
    day = date(2026, 11, 19)  # FA-001 at J+40, FA-002 at J+19
    plan_day(org, day)
    reminder = Reminder.objects.get(customer__code="C001", status=Reminder.Status.PLANNED)
    assert set(reminder.lines.values_list("invoice__number", flat=True)) == {"FA-001", "FA-002"}
    # the next export: FA-001 and FA-002 paid and lettered, FA-003 raised, a new invoice
    v2 = [
        sale("VE1", "20260910", "C001", "BOULANGERIE MARTIN", "FA-001", "1200,00", letter="AA"),
        sale("VE2", "20261001", "C001", "BOULANGERIE MARTIN", "FA-002", "480,50", letter="AA"),
        sale("VE3", "20261015", "C002", "GARAGE DU CENTRE", "FA-003", "2500,00"),
        sale("VE4", "20261110", "C002", "GARAGE DU CENTRE", "FA-005", "90,00"),
        receipt("BQ1", "20261118", "C001", "BOULANGERIE MARTIN", "VIR", "1680,50", letter="AA"),
    ]
    report = import_fec(org, fec(tmp_path, "v2.txt", *v2))
    c = report.counts
    assert (c["invoices_closed"], c["invoices_updated"], c["invoices_created"]) == (2, 1, 1)
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.CANCELLED
    fa1 = inv(org, "FA-001")
    assert (fa1.status, fa1.amount_due, fa1.settled_on) == ("paid", D("0"), date(2026, 11, 18))
    settlement = Payment.objects.get(reference="Lettrage FEC FA-001")
    assert (settlement.amount, settlement.method) == (D("1200.00"), "lettrage AA (FEC)")
    assert inv(org, "FA-003").amount_incl_tax == D("2500.00") == inv(org, "FA-003").amount_due
    assert Invoice.objects.filter(organisation=org).count() == 4  # no duplicate
    assert Event.objects.filter(kind="invoice.settled").count() == 2
    assert Event.objects.filter(kind="reminder.cancelled").count() == 1
    # the same file again: recognised, nothing changes
    before, events = counts(), Event.objects.count()
    again = import_fec(org, tmp_path / "v2.txt")
    assert again.already_imported and again.as_text().endswith("rien n’a changé.")
    assert counts() == before and Event.objects.count() == events
    assert not verify_chain(org)


@pytest.mark.django_db(transaction=True)
def test_reimport_after_a_sent_reminder_plans_the_thank_you(org, tmp_path):
    import_file(org, write(tmp_path, "clients.csv", CUSTOMERS_CSV))
    import_fec(org, fec(tmp_path, "v1.txt", *V1))
    day = date(2026, 11, 19)
    plan_day(org, day)
    dispatch_now(org, noon(day))
    assert any("FA-001" in m.subject for m in mail.outbox)
    v2 = [sale("VE1", "20260910", "C001", "BOULANGERIE MARTIN", "FA-001", "1200,00", letter="AA"),
          sale("VE2", "20261001", "C001", "BOULANGERIE MARTIN", "FA-002", "480,50"),
          V1[2],
          receipt("BQ1", "20261120", "C001", "BOULANGERIE MARTIN", "VIR", "1200,00", letter="AA")]
    import_fec(org, fec(tmp_path, "v2.txt", *v2))
    thanks = Reminder.objects.get(customer__code="C001", kind=Reminder.Kind.THANKS)
    assert thanks.status == Reminder.Status.PLANNED
    assert list(thanks.lines.values_list("invoice__number", flat=True)) == ["FA-001"]
    assert inv(org, "FA-002").status == "open"


def test_reimport_moves_credits_and_reopens(org, tmp_path):
    # v1: an unapplied payment; v2: the accountant letters it with FA-002 (not the oldest FA-001)
    v1 = [*V1, receipt("BQ1", "20261105", "C001", "BOULANGERIE MARTIN", "VIR", "480,50")]
    import_fec(org, fec(tmp_path, "v1.txt", *v1))
    assert (inv(org, "FA-001").amount_due, inv(org, "FA-002").amount_due) == (D("719.50"), D("480.50"))
    v2 = [V1[0],
          sale("VE2", "20261001", "C001", "BOULANGERIE MARTIN", "FA-002", "480,50", letter="A"),
          V1[2],
          receipt("BQ1", "20261105", "C001", "BOULANGERIE MARTIN", "VIR", "480,50", letter="A")]
    report = import_fec(org, fec(tmp_path, "v2.txt", *v2))
    assert report.counts["payments_removed"] == 1 and report.counts["invoices_closed"] == 1
    assert (inv(org, "FA-001").amount_due, inv(org, "FA-002").amount_due) == (D("1200.00"), D("0"))
    # v3: the lettering is undone — FA-002 is open again
    report = import_fec(org, fec(tmp_path, "v3.txt", *V1))
    assert report.counts["invoices_reopened"] == 1
    assert (inv(org, "FA-002").status, inv(org, "FA-002").amount_due) == ("open", D("480.50"))
    assert Event.objects.filter(kind="invoice.reopened").count() == 1
    assert not verify_chain(org)


def test_next_year_carries_open_invoices_forward(org, tmp_path):
    import_fec(org, fec(tmp_path, "2026.txt", *V1))
    fa3 = inv(org, "FA-003")
    # the next year's FEC: FA-001 and FA-003 carried forward in detail, FA-002 paid before year end
    opening = [
        [row("AN", "1", "20270101", "41100000", "Clients", "C001", "BOULANGERIE MARTIN", "x", "Report FA-001",
             "1200,00", "0,00"),
         row("AN", "1", "20270101", "41100000", "Clients", "C002", "GARAGE DU CENTRE", "FA-003", "Report",
             "2400,00", "0,00"),
         row("AN", "1", "20270101", "89000000", "Bilan d’ouverture", "", "", "x", "Report", "0,00", "3600,00")],
        sale("VE1", "20270110", "C002", "GARAGE DU CENTRE", "FA-010", "300,00"),
    ]
    report = import_fec(org, fec(tmp_path, "2027.txt", *opening))
    c = report.counts
    assert (c["invoices_carried_forward"], c["invoices_closed"], c["invoices_created"]) == (2, 1, 1)
    fa3.refresh_from_db()
    assert fa3.source_key.startswith("AN|1|") and fa3.amount_due == D("2400.00") and fa3.issue_date == date(
        2026, 10, 15)
    assert inv(org, "FA-001").status == "open"
    assert inv(org, "FA-002").status == "paid"
    assert any("FA-002" in w and "ni ouverte(s), ni lettrée(s)" in w for w in report.warnings)
    assert Invoice.objects.filter(organisation=org).count() == 4


def test_credit_balance_is_a_warning(org, tmp_path):
    report = import_fec(org, fec(tmp_path, "fec.txt",
                                 sale("VE1", "20260910", "C1", "ALPHA", "F1", "100,00"),
                                 receipt("BQ1", "20260920", "C1", "ALPHA", "V1", "150,00")))
    assert inv(org, "F1").status == "paid"
    assert any("solde créditeur" in w and "50,00" in w for w in report.warnings)
    assert report.as_dict()["open_amount"] == "-50.00"


@pytest.mark.parametrize("reference", [
    "FA-2026/0012", "190735", "AN-4", "VE001345", "x", "-", "", "Éte-ÀÇ 12", "C01ACSO00", "CFEC-DUPONT",
    "A" * 21, "A" * 22, "fa 2026 001", "LET-190735/2", "Ω42",
])
def test_references_given_at_creation_are_those_of_the_references_module(reference):
    from relance.core.references import PaymentReferenceError, make_rf_lenient
    from relance.ledger.services.fec_import.identities import _rf

    try:
        expected = make_rf_lenient(reference)
    except PaymentReferenceError:
        expected = ""
    assert _rf(reference) == expected


def test_collective_accounts_give_customers_from_labels_and_say_so(org):
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "fec" / "comptes_collectifs.txt"
    report = import_fec(org, fixture)
    names = set(Customer.objects.filter(organisation=org).values_list("legal_name", flat=True))
    assert not any(n.upper().startswith("CLIENTS DIVERS") or n.upper().startswith("CLIENTS INTRA") for n in names)
    assert {"BOULANGERIE MARTIN", "PHARMACIE LEROY", "CLIENTS Bigot"} <= names
    assert any("compte 41120000 « CLIENTS DIVERS » lu comme un compte collectif (libellé générique)" in w
               for w in report.warnings)
    # the user corrects a derived customer with an alias; the next import keeps it
    garage = make_customer(org, "G01", "Garage du Centre SARL", is_business=True)
    map_fec_label(org, "GARAGE DU CENTRE", "G01")
    assert Invoice.objects.get(organisation=org, number="F102").customer == garage


def test_a_fec_creating_customers_without_a_default_kind_is_refused(org, tmp_path):
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "fec" / "montant_sens.txt"
    with pytest.raises(ImportRejected) as excinfo:
        fec_service.import_fec(org, fixture)
    (problem,) = excinfo.value.problems
    assert "le FEC ne dit pas s’ils sont des entreprises ou des particuliers" in problem.message
    assert not Customer.objects.filter(organisation=org).exists()
    assert not Invoice.objects.filter(organisation=org).exists()
    report = fec_service.import_fec(org, fixture, default_kind="particulier")
    assert set(Customer.objects.filter(organisation=org).values_list("is_business", flat=True)) == {False}
    assert report.as_dict()["default_kind"] == "particulier"
    assert "type par défaut donné pour cet import : particulier" in report.as_text()
