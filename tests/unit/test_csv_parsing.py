"""Reading CSV/XLSX receivables: encodings, separators, headers, and every problem located precisely."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from stdnum import luhn
from stdnum.fr import siren as fr_siren

from relance.core.formats import tabular
from relance.core.formats.problems import Problem
from relance.core.formats.receivables import (
    COLUMNS,
    LABELS,
    REQUIRED,
    ContactRow,
    CreditNoteRow,
    CustomerRow,
    InvoiceRow,
    ParsedTable,
    PaymentRow,
    detect_kind,
    normalise_header,
    parse_table,
)
from relance.core.formats.tabular import Sheet, TabularError, read_csv, read_table_file, read_xlsx

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "csv"

INVOICE_HEADER = ["Numéro facture", "Code client", "Date", "Échéance", "Montant TTC"]
KNOWN = ("C001", "C002")


def to_csv(rows: list[list[str]], delimiter: str = ";") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def parse(
    text: str,
    filename: str = "factures.csv",
    kind: str | None = None,
    known: tuple[str, ...] = KNOWN,
    encoding: str = "utf-8",
) -> ParsedTable:
    return parse_table(read_csv(text.encode(encoding), filename), filename, kind, known)


def invoices(*rows: str, header: str = ";".join(INVOICE_HEADER)) -> str:
    return "\n".join([header, *rows]) + "\n"


def siret_for(siren: str, nic: str = "0001") -> str:
    body = siren + nic
    return body + luhn.calc_check_digit(body)


VALID_SIREN = "732829320"
VALID_SIRET = siret_for(VALID_SIREN)
VALID_VAT = "FR" + fr_siren.to_tva(VALID_SIREN)


# --- separators and encodings ------------------------------------------------------------

EXPECTED_F1 = InvoiceRow(
    line=2, number="F-001", customer="C001", issue_date=date(2026, 10, 1), due_date=date(2026, 10, 31),
    amount_incl_tax=Decimal("1234.56"),
)


@pytest.mark.parametrize("delimiter", [";", ",", "\t"], ids=["semicolon", "comma", "tab"])
def test_separators(delimiter: str) -> None:
    text = to_csv([INVOICE_HEADER, ["F-001", "C001", "01/10/2026", "31/10/2026", "1 234,56"],
                   ["F-002", "C002", "2026-10-02", "2026-11-01", "99,90"]], delimiter)
    sheet = read_csv(text.encode(), "factures.csv")
    assert sheet.header == INVOICE_HEADER
    table = parse_table(sheet, "factures.csv", None, KNOWN)
    assert table.problems == []
    assert table.kind == "invoices"
    assert table.rows == [
        EXPECTED_F1,
        InvoiceRow(line=3, number="F-002", customer="C002", issue_date=date(2026, 10, 2),
                   due_date=date(2026, 11, 1), amount_incl_tax=Decimal("99.90")),
    ]


def test_comma_separated_with_english_amounts() -> None:
    text = 'Invoice number,Customer code,Invoice date,Due date,Amount\nF-001,C001,2026-10-01,2026-10-31,"1,234.56"\n'
    table = parse(text)
    assert table.problems == []
    assert table.rows == [EXPECTED_F1]


def test_utf8_with_bom() -> None:
    raw = "\ufeff" + invoices("F-001;C001;01/10/2026;31/10/2026;1 234,56")
    sheet = read_csv(raw.encode("utf-8"), "factures.csv")
    assert sheet.header[0] == "Numéro facture"  # the BOM is not part of the first header
    assert parse_table(sheet, "factures.csv", None, KNOWN).rows == [EXPECTED_F1]


def test_utf8_bom_bytes_and_crlf() -> None:
    raw = b"\xef\xbb\xbfCode client;Raison sociale\r\nC010;Cr\xc3\xaaperie H\xc3\xa9l\xc3\xa8ne\r\n"
    table = parse_table(read_csv(raw, "clients.csv"), "clients.csv")
    assert table.problems == []
    assert table.rows == [CustomerRow(line=2, code="C010", name="Crêperie Hélène")]


def test_windows_1252() -> None:
    text = "Code client;Raison sociale;Ville\nC010;Crêperie Hélène;Besançon\nC011;Société Générale d’Études;Évry\n"
    raw = text.encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    table = parse_table(read_csv(raw, "clients.csv"), "clients.csv")
    assert table.problems == []
    assert [(r.name, r.city) for r in table.rows] == [
        ("Crêperie Hélène", "Besançon"), ("Société Générale d’Études", "Évry")]


def test_windows_1252_headers() -> None:
    raw = invoices("F-001;C001;01/10/2026;31/10/2026;1 234,56").encode("cp1252")
    sheet = read_csv(raw, "export.csv")
    assert sheet.header[3] == "Échéance"
    assert parse_table(sheet, "export.csv", None, KNOWN).rows == [EXPECTED_F1]


def test_undecodable_file_is_refused() -> None:
    raw = b"Code client;Raison sociale\nC1;\x81\x8d\x8f\x90\x9d\xff\xfe\n"
    with pytest.raises(TabularError) as exc:
        read_csv(raw, "clients.csv")
    assert exc.value.problem == Problem("clients.csv", None, None, "encodage illisible (ni UTF-8 ni Windows-1252)")


def test_empty_file_is_refused() -> None:
    with pytest.raises(TabularError) as exc:
        read_csv(b"", "vide.csv")
    assert exc.value.problem == Problem("vide.csv", None, None, "fichier vide")


def test_blank_lines_are_skipped_and_line_numbers_kept() -> None:
    text = invoices("", "F-001;C001;01/10/2026;31/10/2026;1 234,56", ";;;;", "F-002;C001;01/10/2026;31/10/2026;x")
    table = parse(text)
    assert [r.line for r in table.rows] == [3]
    assert table.problems == [Problem("factures.csv", 5, "montant TTC", "montant illisible : 'x'")]


def test_cells_are_stripped() -> None:
    text = "Code client;Raison sociale;Ville\n  C010 ;  Dupont & Fils  ; Lyon \n"
    table = parse(text, "clients.csv")
    assert table.rows == [CustomerRow(line=2, code="C010", name="Dupont & Fils", city="Lyon")]


def test_a_row_with_fewer_fields_than_the_header_is_refused_naming_its_line() -> None:
    text = "Code client;Raison sociale;Ville\nC009;Martin;Paris\n  C010 ;  Dupont & Fils  \n"
    with pytest.raises(TabularError) as exc:
        parse(text, "clients.csv")
    assert (exc.value.problem.file, exc.value.problem.line) == ("clients.csv", 3)
    assert "2 champ(s) au lieu des 3" in exc.value.problem.message


def test_an_unquoted_french_amount_in_a_comma_separated_file_is_refused() -> None:
    text = ("Numéro facture,Code client,Date,Échéance,Montant TTC,Libellé\n"
            "COM-0000,C001,01/10/2026,31/10/2026,\"1 553,84\",Prestation\n"
            "COM-0001,C001,01/10/2026,31/10/2026,1 553,84,Prestation\n"
            "COM-0002,C001,01/10/2026,31/10/2026,12\n")
    with pytest.raises(TabularError) as exc:
        parse(text)
    assert [(p.line, p.field) for p in exc.value.problems] == [(3, None), (4, None)]
    assert "7 champ(s) au lieu des 6" in exc.value.problems[0].message


def test_trailing_empty_fields_are_not_extra_fields() -> None:
    table = parse("Code client;Raison sociale;Type;\nC010;Dupont;entreprise;\nC011;Durand;particulier;;\n",
                  "clients.csv")
    assert table.problems == []
    assert [r.code for r in table.rows] == ["C010", "C011"]


# --- headers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "Numéro facture;Code client;Date;Échéance;Montant TTC",
        "N° facture;Client;Date facture;Date d'échéance;Total TTC",
        "NUMERO FACTURE;CODE CLIENT;DATE D’ÉMISSION;DATE ÉCHÉANCE;MONTANT",
        "numero;code_client;date;echeance;ttc",
        "Invoice number;Customer code;Invoice date;Due date;Amount incl. tax",
        "Invoice;Customer;Issue date;Due;Total",
    ],
)
def test_french_and_english_invoice_headers(header: str) -> None:
    table = parse(invoices("F-001;C001;01/10/2026;31/10/2026;1 234,56", header=header), "export.csv")
    assert table.kind == "invoices"
    assert table.problems == []
    assert table.rows == [EXPECTED_F1]


def test_all_invoice_columns_french() -> None:
    header = ("Numéro facture;Code client;Date;Échéance;Date de livraison;Montant HT;TVA;Montant TTC;Devise;"
              "Libellé;PDF")
    row = "F-001;C001;01/10/2026;31/10/2026;30/09/2026;1 000,00;200,00;1 200,00;eur;Audit énergétique;F-001.pdf"
    table = parse(invoices(row, header=header))
    assert table.problems == []
    assert table.rows == [InvoiceRow(
        line=2, number="F-001", customer="C001", issue_date=date(2026, 10, 1), due_date=date(2026, 10, 31),
        amount_incl_tax=Decimal("1200.00"), amount_excl_tax=Decimal("1000.00"), tax_amount=Decimal("200.00"),
        currency="EUR", description="Audit énergétique", pdf="F-001.pdf", delivery_date=date(2026, 9, 30),
    )]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-10-31", date(2026, 10, 31)),
        ("31/10/2026", date(2026, 10, 31)),
        ("31-10-2026", date(2026, 10, 31)),
        ("31.10.2026", date(2026, 10, 31)),
        ("31/10/26", date(2026, 10, 31)),
        ("20261031", date(2026, 10, 31)),
        ("1/2/2026", date(2026, 2, 1)),
    ],
)
def test_date_formats(text: str, expected: date) -> None:
    table = parse(invoices(f"F-001;C001;01/01/2026;{text};10"))
    assert table.problems == []
    assert table.rows[0].due_date == expected


def test_customers_all_columns() -> None:
    header = ("Code client;Raison sociale;Type;SIREN;SIRET;TVA intracommunautaire;Adresse;Complément;Code postal;"
              "Ville;Pays;Langue;Canal;Délai de paiement;Contact;Fonction;Email;Téléphone")
    row = (f"C010;Menuiserie Arnaud SARL;Entreprise;{VALID_SIREN};{VALID_SIRET};{VALID_VAT};3 rue Neuve;Bât. B;"
           "21000;Dijon;FR;Français;Courrier;45 jours;Mme Anne Arnaud;Gérante;anne@menuiserie-arnaud.example;"
           "03 80 00 00 00")
    table = parse(f"{header}\n{row}\n", "clients.csv")
    assert table.problems == []
    assert table.rows == [CustomerRow(
        line=2, code="C010", name="Menuiserie Arnaud SARL", is_business=True, siren=VALID_SIREN,
        siret=VALID_SIRET, vat=VALID_VAT, address1="3 rue Neuve", address2="Bât. B", postal_code="21000",
        city="Dijon", country="FR", language="fr", channel="letter", terms_days=45,
        contact_name="Mme Anne Arnaud", contact_role="Gérante", email="anne@menuiserie-arnaud.example",
        phone="03 80 00 00 00",
    )]


def test_identifiers_are_compacted() -> None:
    siret_spaced = f"{VALID_SIRET[:3]} {VALID_SIRET[3:6]} {VALID_SIRET[6:9]} {VALID_SIRET[9:]}"
    text = f"Code client;Nom;SIREN;SIRET;N° TVA\nC010;X;732 829 320;{siret_spaced};fr {VALID_VAT[2:]}\n"
    table = parse(text, "clients.csv")
    assert table.problems == []
    assert (table.rows[0].siren, table.rows[0].siret, table.rows[0].vat) == (VALID_SIREN, VALID_SIRET, VALID_VAT)


@pytest.mark.parametrize(
    ("kind_text", "is_business"),
    [("entreprise", True), ("Professionnel", True), ("B2B", True), ("company", True), ("", None),
     ("particulier", False), ("Consommateur", False), ("B2C", False), ("individual", False)],
)
def test_customer_type(kind_text: str, is_business: bool | None) -> None:
    # an empty type is no answer (None): the import refuses it unless a default is given
    table = parse(f"Code client;Nom;Type\nC010;X;{kind_text}\n", "clients.csv")
    assert table.problems == []
    assert table.rows[0].is_business is is_business


@pytest.mark.parametrize(
    ("channel", "expected"),
    [("email", "email"), ("E-mail", "email"), ("courriel", "email"), ("courrier", "letter"),
     ("Lettre", "letter"), ("post", "letter"), ("papier", "letter")],
)
def test_customer_channel(channel: str, expected: str) -> None:
    table = parse(f"Code client;Nom;Canal\nC010;X;{channel}\n", "clients.csv")
    assert table.rows[0].channel == expected


@pytest.mark.parametrize(
    ("language", "expected"),
    [("fr", "fr"), ("Français", "fr"), ("french", "fr"), ("EN", "en"), ("anglais", "en"), ("English", "en")],
)
def test_customer_language(language: str, expected: str) -> None:
    table = parse(f"Code client;Nom;Langue\nC010;X;{language}\n", "clients.csv")
    assert table.rows[0].language == expected


@pytest.mark.parametrize(("terms", "days"), [("30", 30), ("45 jours", 45), ("60j", 60), ("30 days", 30), ("0", 0)])
def test_customer_terms(terms: str, days: int) -> None:
    table = parse(f"Code client;Nom;Délai de paiement\nC010;X;{terms}\n", "clients.csv")
    assert table.rows[0].terms_days == days


@pytest.mark.parametrize(
    ("text", "expected"),
    [("oui", True), ("Oui", True), ("O", True), ("yes", True), ("1", True), ("x", True), ("vrai", True),
     ("non", False), ("N", False), ("no", False), ("0", False), ("faux", False), ("", False)],
)
def test_contact_billing_yes_no(text: str, expected: bool) -> None:
    table = parse(f"Code client;Nom;Prénom;Facturation\nC001;Martin;Claire;{text}\n", "contacts.csv")
    assert table.problems == []
    assert table.rows[0].billing is expected


def test_contacts() -> None:
    text = ("Code client;Civilité;Prénom;Nom;Fonction;Email;Téléphone;Contact facturation\n"
            "C001;Mme;Claire;Martin;Comptable;claire.martin@example.org;01 02 03 04 05;oui\n")
    table = parse(text, "contacts.csv")
    assert table.problems == []
    assert table.rows == [ContactRow(
        line=2, customer="C001", last_name="Martin", first_name="Claire", civility="Mme", role="Comptable",
        email="claire.martin@example.org", phone="01 02 03 04 05", billing=True,
    )]


def test_credit_notes() -> None:
    text = ("Numéro avoir;Code client;Date;Montant TTC;Facture d'origine;Motif\n"
            "AV-001;C001;15/10/2026;120,00;F-001;Remise commerciale\n")
    table = parse(text, "avoirs.csv")
    assert table.problems == []
    assert table.rows == [CreditNoteRow(
        line=2, number="AV-001", customer="C001", issue_date=date(2026, 10, 15), amount_incl_tax=Decimal("120.00"),
        invoice="F-001", reason="Remise commerciale",
    )]


def test_payments() -> None:
    text = ("Référence;Code client;Date de paiement;Montant;Facture;Mode de paiement\n"
            "VIR-001;C001;20/10/2026;1 234,56;F-001;virement\n"
            "CHQ-002;C002;21/10/2026;50;;chèque\n")
    table = parse(text, "paiements.csv")
    assert table.problems == []
    assert table.rows == [
        PaymentRow(line=2, reference="VIR-001", customer="C001", date=date(2026, 10, 20),
                   amount=Decimal("1234.56"), invoice="F-001", method="virement"),
        PaymentRow(line=3, reference="CHQ-002", customer="C002", date=date(2026, 10, 21),
                   amount=Decimal("50.00"), invoice="", method="chèque"),
    ]


def test_customers_declared_earlier_in_the_same_file_are_known() -> None:
    table = parse("Code client;Nom\nC010;A\nC011;B\n", "clients.csv", known=())
    assert [r.code for r in table.rows] == ["C010", "C011"]


def test_every_column_alias_is_normalised_and_every_required_field_has_a_label() -> None:
    for kind, fields in COLUMNS.items():
        for fld, aliases in fields.items():
            assert fld in LABELS
            assert all(normalise_header(a) == a for a in aliases), (kind, fld)
        assert set(REQUIRED[kind]) <= set(fields)


def test_normalise_header() -> None:
    assert normalise_header("  Date d’Échéance ") == "date d echeance"
    assert normalise_header("N° TVA") == "n tva"
    assert normalise_header("E-mail") == "e mail"
    assert normalise_header("code_client") == "code client"


# --- XLSX --------------------------------------------------------------------------------


def build_workbook() -> bytes:
    book = openpyxl.Workbook()
    clients = book.active
    clients.title = "Clients"
    clients.append(["Code client", "Raison sociale", "Type", "SIREN", "Email"])
    clients.append(["C001", "Boulangerie Lemoine SARL", "entreprise", int(VALID_SIREN), "compta@lemoine.example"])
    clients.append(["P001", "Martine Roussel", "particulier", None, None])
    factures = book.create_sheet("Factures")
    factures.append(["Numéro facture", "Code client", "Date", "Échéance", "Montant HT", "TVA", "Montant TTC"])
    factures.append(["F-001", "C001", date(2026, 10, 1), date(2026, 10, 31), 1028.8, 205.76, 1234.56])
    factures.append([])  # an empty row in the middle
    factures.append(["F-002", "P001", datetime(2026, 10, 2, 0, 0), datetime(2026, 11, 1), 750, 150, 900])
    paiements = book.create_sheet("Paiements")
    paiements.append(["Référence", "Code client", "Date", "Montant", "Facture"])
    paiements.append(["VIR-9", "C001", date(2026, 10, 20), 1234.56, "F-001"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_xlsx_with_several_sheets() -> None:
    sheets = read_xlsx(build_workbook(), "export.xlsx")
    assert [s.name for s in sheets] == ["Clients", "Factures", "Paiements"]
    assert [detect_kind(s) for s in sheets] == ["customers", "invoices", "payments"]
    customers = parse_table(sheets[0], "export.xlsx [Clients]")
    assert customers.problems == []
    assert customers.rows == [
        CustomerRow(line=2, code="C001", name="Boulangerie Lemoine SARL", siren=VALID_SIREN,
                    email="compta@lemoine.example", is_business=True),
        CustomerRow(line=3, code="P001", name="Martine Roussel", is_business=False),
    ]
    known = tuple(r.code for r in customers.rows)
    invoices_ = parse_table(sheets[1], "export.xlsx [Factures]", None, known)
    assert invoices_.problems == []
    assert invoices_.rows == [
        InvoiceRow(line=2, number="F-001", customer="C001", issue_date=date(2026, 10, 1),
                   due_date=date(2026, 10, 31), amount_incl_tax=Decimal("1234.56"),
                   amount_excl_tax=Decimal("1028.80"), tax_amount=Decimal("205.76")),
        InvoiceRow(line=4, number="F-002", customer="P001", issue_date=date(2026, 10, 2),
                   due_date=date(2026, 11, 1), amount_incl_tax=Decimal("900.00"),
                   amount_excl_tax=Decimal("750.00"), tax_amount=Decimal("150.00")),
    ]
    payments = parse_table(sheets[2], "export.xlsx [Paiements]", None, known)
    assert payments.rows == [PaymentRow(line=2, reference="VIR-9", customer="C001", date=date(2026, 10, 20),
                                        amount=Decimal("1234.56"), invoice="F-001")]


def test_xlsx_problem_lines_are_excel_rows() -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Factures"
    ws.append(INVOICE_HEADER)
    ws.append(["F-001", "C001", date(2026, 10, 1), date(2026, 10, 31), 10])
    ws.append(["F-002", "C001", date(2026, 10, 1), "bientôt", 10])
    out = io.BytesIO()
    book.save(out)
    [sheet] = read_xlsx(out.getvalue(), "export.xlsx")
    table = parse_table(sheet, "export.xlsx [Factures]", None, KNOWN)
    assert table.problems == [Problem(
        "export.xlsx [Factures]", 3, "échéance", "date illisible « bientôt » (attendu JJ/MM/AAAA ou AAAA-MM-JJ)")]


def test_read_table_file_dispatches_on_extension(tmp_path: Path) -> None:
    xlsx = tmp_path / "Export.XLSX"
    xlsx.write_bytes(build_workbook())
    assert [s.name for s in read_table_file(xlsx)] == ["Clients", "Factures", "Paiements"]
    csv_path = tmp_path / "factures.csv"
    csv_path.write_text(invoices("F-001;C001;01/10/2026;31/10/2026;1 234,56"), encoding="utf-8")
    [sheet] = read_table_file(csv_path)
    assert sheet.name == "factures"
    assert detect_kind(sheet) == "invoices"


def test_broken_xlsx_is_refused() -> None:
    with pytest.raises(TabularError) as exc:
        read_xlsx(b"PK\x03\x04 not really a workbook", "export.xlsx")
    assert exc.value.problem.file == "export.xlsx"
    assert exc.value.problem.line is None
    assert exc.value.problem.message.startswith("classeur XLSX illisible")


# --- detection of the kind -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind"),
    [("Clients", "customers"), ("customers", "customers"), ("Contacts", "contacts"), ("Factures", "invoices"),
     ("INVOICES", "invoices"), ("Avoirs", "credit_notes"), ("Credit notes", "credit_notes"),
     ("Paiements", "payments"), ("Règlements", "payments"), ("payments", "payments")],
)
def test_detect_kind_by_sheet_name(name: str, kind: str) -> None:
    assert detect_kind(Sheet(name, ["a", "b"])) == kind


@pytest.mark.parametrize(
    ("header", "kind"),
    [
        (["Code client", "Raison sociale", "SIREN", "Email"], "customers"),
        (["Code client", "Nom", "Type"], "customers"),
        (["Customer code", "Name", "VAT number"], "customers"),
        (["Code client", "Nom", "Prénom", "Email"], "contacts"),
        (["Customer", "Last name", "First name", "Email"], "contacts"),
        (["Numéro facture", "Code client", "Date", "Échéance", "Montant TTC"], "invoices"),
        (["Invoice number", "Customer code", "Issue date", "Due date", "Amount"], "invoices"),
        (["Numéro avoir", "Code client", "Date", "Montant TTC", "Facture d'origine"], "credit_notes"),
        (["Credit note number", "Customer code", "Issue date", "Amount", "Invoice number"], "credit_notes"),
        (["Référence", "Code client", "Date de paiement", "Montant", "Facture"], "payments"),
        (["Payment reference", "Customer code", "Payment date", "Amount paid"], "payments"),
        # an invoice table with a "Référence" or an "Avoir" column is still an invoice table
        (["Numéro", "Client", "Date", "Échéance", "Montant", "Référence"], "invoices"),
        (["Invoice number", "Customer", "Date", "Due date", "Amount", "Reference"], "invoices"),
        (["Numéro", "Client", "Date", "Échéance", "Montant TTC", "Avoir"], "invoices"),
        (["Produit", "Prix", "Quantité"], None),
        ([], None),
    ],
)
def test_detect_kind_by_headers(header: list[str], kind: str | None) -> None:
    assert detect_kind(Sheet("Feuil1", header)) == kind


def test_unrecognised_table_is_one_problem() -> None:
    table = parse("Produit;Prix\nPomme;1,20\n", "stock.csv")
    assert table.kind == "unknown"
    assert table.rows == []
    assert len(table.problems) == 1
    assert (table.problems[0].file, table.problems[0].line, table.problems[0].field) == ("stock.csv", 1, None)
    assert "docs/imports-csv.md" in table.problems[0].message


def test_forced_kind_overrides_detection() -> None:
    table = parse("Code client;Nom\nC001;Martin\n", "export.csv", kind="contacts")
    assert table.kind == "contacts"
    assert table.rows == [ContactRow(line=2, customer="C001", last_name="Martin")]


# --- problems, each located by file, line and field ------------------------------------------


def test_missing_required_column() -> None:
    table = parse("Numéro facture;Code client;Date;Montant TTC\nF-001;C001;01/10/2026;10\n")
    assert table.rows == []
    assert table.problems == [Problem("factures.csv", 1, "échéance", "colonne obligatoire absente")]


def test_all_missing_required_columns_are_reported() -> None:
    table = parse("Numéro facture;Libellé\nF-001;x\n")
    assert table.problems == [
        Problem("factures.csv", 1, "code client", "colonne obligatoire absente"),
        Problem("factures.csv", 1, "date", "colonne obligatoire absente"),
        Problem("factures.csv", 1, "échéance", "colonne obligatoire absente"),
        Problem("factures.csv", 1, "montant TTC", "colonne obligatoire absente"),
    ]


def test_missing_required_value() -> None:
    table = parse(invoices("F-001;;01/10/2026;31/10/2026;10"))
    assert table.problems == [Problem("factures.csv", 2, "code client", "valeur obligatoire manquante")]


@pytest.mark.parametrize("bad", ["31/02/2026", "2026-13-01", "demain", "10/31/2026", "31 octobre 2026"])
def test_bad_date(bad: str) -> None:
    table = parse(invoices("F-001;C001;01/10/2026;31/10/2026;10", f"F-002;C001;01/10/2026;{bad};10"))
    assert table.rows == [InvoiceRow(line=2, number="F-001", customer="C001", issue_date=date(2026, 10, 1),
                                     due_date=date(2026, 10, 31), amount_incl_tax=Decimal("10.00"))]
    assert table.problems == [Problem(
        "factures.csv", 3, "échéance", f"date illisible « {bad} » (attendu JJ/MM/AAAA ou AAAA-MM-JJ)")]


def test_problem_as_text_and_dict() -> None:
    table = parse(invoices(*[f"F-{i:03d};C001;01/10/2026;31/10/2026;10" for i in range(1, 13)],
                           "F-013;C001;01/10/2026;31/02/2026;10"))
    [problem] = table.problems
    assert str(problem) == ("factures.csv, ligne 14, champ « échéance » : "
                            "date illisible « 31/02/2026 » (attendu JJ/MM/AAAA ou AAAA-MM-JJ)")
    assert problem.as_dict() == {"file": "factures.csv", "line": 14, "field": "échéance",
                                 "message": "date illisible « 31/02/2026 » (attendu JJ/MM/AAAA ou AAAA-MM-JJ)"}
    assert str(Problem("f.csv", None, None, "fichier vide")) == "f.csv : fichier vide"


@pytest.mark.parametrize("amount", ["-10,00", "0", "0,00"])
def test_negative_or_zero_amount(amount: str) -> None:
    table = parse(invoices(f"F-001;C001;01/10/2026;31/10/2026;{amount}"))
    assert table.rows == []
    assert table.problems == [Problem(
        "factures.csv", 2, "montant TTC", f"le montant doit être positif (lu : {amount})")]


def test_negative_payment() -> None:
    table = parse("Référence;Code client;Date;Montant\nR1;C001;01/10/2026;-5\n", "paiements.csv")
    assert table.problems == [Problem("paiements.csv", 2, "montant", "le montant doit être positif (lu : -5)")]


@pytest.mark.parametrize(
    ("amount", "message"),
    [("douze", "montant illisible : 'douze'"), ("12,345", "plus de deux décimales : '12,345'"),
     ("1,000", "plus de deux décimales : '1,000'"), ("12.34.56", "montant illisible : '12.34.56'")],
)
def test_non_numeric_amount(amount: str, message: str) -> None:
    table = parse(invoices(f"F-001;C001;01/10/2026;31/10/2026;{amount}"))
    assert table.problems == [Problem("factures.csv", 2, "montant TTC", message)]


def test_duplicate_invoice_number_mentions_the_first_line() -> None:
    table = parse(invoices(
        "F-001;C001;01/10/2026;31/10/2026;10",
        "F-002;C001;01/10/2026;31/10/2026;20",
        "F-001;C002;02/10/2026;01/11/2026;30",
    ))
    assert [r.number for r in table.rows] == ["F-001", "F-002"]
    assert table.problems == [Problem("factures.csv", 4, "numéro", "« F-001 » figure déjà ligne 2")]


@pytest.mark.parametrize(
    ("filename", "text", "field"),
    [
        ("clients.csv", "Code client;Nom\nC1;A\nC1;B\n", "code client"),
        ("avoirs.csv", "Numéro avoir;Code client;Date;Montant\nA1;C001;01/10/2026;1\nA1;C001;01/10/2026;1\n",
         "numéro"),
        ("paiements.csv", "Référence;Code client;Date;Montant\nR1;C001;01/10/2026;1\nR1;C001;01/10/2026;1\n",
         "référence"),
    ],
)
def test_duplicates_in_other_tables(filename: str, text: str, field: str) -> None:
    table = parse(text, filename)
    assert len(table.rows) == 1
    [problem] = table.problems
    assert (problem.file, problem.line, problem.field) == (filename, 3, field)
    assert problem.message.endswith("figure déjà ligne 2")


def test_unknown_customer() -> None:
    table = parse(invoices("F-001;C999;01/10/2026;31/10/2026;10"))
    assert table.rows == []
    assert table.problems == [Problem("factures.csv", 2, "code client", "client « C999 » inconnu")]


@pytest.mark.parametrize(
    ("filename", "text"),
    [
        ("contacts.csv", "Code client;Nom;Prénom\nC999;Martin;Claire\n"),
        ("avoirs.csv", "Numéro avoir;Code client;Date;Montant\nA1;C999;01/10/2026;1\n"),
        ("paiements.csv", "Référence;Code client;Date;Montant\nR1;C999;01/10/2026;1\n"),
    ],
)
def test_unknown_customer_in_other_tables(filename: str, text: str) -> None:
    table = parse(text, filename)
    assert table.problems == [Problem(filename, 2, "code client", "client « C999 » inconnu")]


def test_due_date_before_issue_date() -> None:
    table = parse(invoices("F-001;C001;15/10/2026;14/10/2026;10"))
    assert table.problems == [Problem("factures.csv", 2, "échéance", "l’échéance précède la date de la facture")]


def test_due_date_equal_to_issue_date_is_fine() -> None:
    assert parse(invoices("F-001;C001;15/10/2026;15/10/2026;10")).problems == []


def test_ht_plus_tva_must_equal_ttc() -> None:
    header = "Numéro facture;Code client;Date;Échéance;Montant HT;TVA;Montant TTC"
    table = parse(invoices("F-001;C001;01/10/2026;31/10/2026;1 000,00;200,00;1 200,00",
                           "F-002;C001;01/10/2026;31/10/2026;1 000,00;200,00;1 250,00", header=header))
    assert [r.number for r in table.rows] == ["F-001"]
    assert table.problems == [Problem(
        "factures.csv", 3, "montant TTC", "HT + TVA (1200.00) ne fait pas le TTC (1250.00)")]


def test_bad_currency() -> None:
    header = "Numéro facture;Code client;Date;Échéance;Montant TTC;Devise"
    table = parse(invoices("F-001;C001;01/10/2026;31/10/2026;10;€", header=header))
    assert table.problems == [Problem("factures.csv", 2, "devise", "code devise ISO 4217 attendu (EUR)")]


def test_valid_identifiers_built_with_stdnum() -> None:
    assert fr_siren.is_valid(VALID_SIREN)
    assert len(VALID_SIRET) == 14 and VALID_SIRET.startswith(VALID_SIREN)
    text = f"Code client;Nom;SIREN;SIRET;TVA intracommunautaire\nC010;X;{VALID_SIREN};{VALID_SIRET};{VALID_VAT}\n"
    assert parse(text, "clients.csv").problems == []


@pytest.mark.parametrize(
    ("column", "value", "field", "message"),
    [
        ("SIREN", "732829321", "siren", "SIREN invalide « 732829321 »"),
        ("SIREN", "73282932", "siren", "SIREN invalide « 73282932 »"),
        ("SIRET", "73282932000010", "siret", "SIRET invalide « 73282932000010 »"),
        ("SIRET", "732829320", "siret", "SIRET invalide « 732829320 »"),
        ("N° TVA", "FR00732829320", "numéro TVA", "numéro de TVA invalide « FR00732829320 »"),
        ("N° TVA", "732829320", "numéro TVA", "numéro de TVA invalide « 732829320 »"),
        ("Email", "claire.martin@", "email", "adresse email invalide « claire.martin@ »"),
        ("Email", "claire martin@example.org", "email", "adresse email invalide « claire martin@example.org »"),
        ("Email", "claire@localhost", "email", "adresse email invalide « claire@localhost »"),
        ("Type", "association", "type", "type « association » inconnu : attendu entreprise ou particulier"),
        ("Canal", "fax", "canal", "canal « fax » inconnu : attendu email ou courrier"),
        ("Langue", "de", "langue", "langue « de » non prise en charge : attendu fr ou en"),
        ("Délai de paiement", "fin de mois", "délai de paiement", "délai « fin de mois » : attendu un nombre de jours"),
        ("Délai de paiement", "400", "délai de paiement", "délai « 400 » : attendu un nombre de jours"),
    ],
)
def test_invalid_customer_values(column: str, value: str, field: str, message: str) -> None:
    table = parse(f"Code client;Nom;{column}\nC010;X;{value}\n", "clients.csv")
    assert table.rows == []
    assert table.problems == [Problem("clients.csv", 2, field, message)]


def test_invalid_yes_no() -> None:
    table = parse("Code client;Nom;Prénom;Facturation\nC001;Martin;Claire;peut-être\n", "contacts.csv")
    assert table.problems == [Problem("contacts.csv", 2, "facturation", "valeur « peut-être » : attendu oui ou non")]


def test_invalid_contact_email() -> None:
    table = parse("Code client;Nom;Prénom;Email\nC001;Martin;Claire;claire.martin(at)example.org\n", "contacts.csv")
    assert table.problems == [Problem(
        "contacts.csv", 2, "email", "adresse email invalide « claire.martin(at)example.org »")]


def test_all_problems_of_a_file_are_reported() -> None:
    header = "Numéro facture;Code client;Date;Échéance;Montant HT;TVA;Montant TTC"
    table = parse(invoices(
        "F-001;C001;01/10/2026;31/10/2026;100,00;20,00;120,00",  # fine
        "F-002;C001;01/10/2026;31/13/2026;100,00;20,00;120,00",  # bad date
        "F-003;C999;01/10/2026;31/10/2026;100,00;20,00;120,00",  # unknown customer
        "F-004;C001;01/10/2026;31/10/2026;100,00;20,00;-120,00",  # negative
        "F-001;C002;01/10/2026;31/10/2026;100,00;20,00;120,00",  # duplicate
        "F-006;C001;01/10/2026;30/09/2026;100,00;20,00;121,00",  # due < issue and HT+TVA != TTC
        "F-007;;hier;31/10/2026;cent;20,00;120,00",  # three problems on one line
        header=header,
    ))
    assert [r.number for r in table.rows] == ["F-001"]
    assert [(p.line, p.field) for p in table.problems] == [
        (3, "échéance"),
        (4, "code client"),
        (5, "montant TTC"),
        (6, "numéro"),
        (7, "échéance"),
        (7, "montant TTC"),
        (8, "code client"),
        (8, "date"),
        (8, "montant HT"),
    ]
    assert all(p.file == "factures.csv" for p in table.problems)
    assert table.problems[3].message == "« F-001 » figure déjà ligne 2"
    assert table.problems[5].message == "HT + TVA (120.00) ne fait pas le TTC (121.00)"


def test_file_over_max_bytes_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = invoices("F-001;C001;01/10/2026;31/10/2026;10").encode()
    monkeypatch.setattr(tabular, "MAX_BYTES", len(raw) - 1)
    with pytest.raises(TabularError) as exc:
        read_csv(raw, "factures.csv")
    problem = exc.value.problem
    assert (problem.file, problem.line, problem.field) == ("factures.csv", None, None)
    assert problem.message.startswith("fichier trop gros")
    monkeypatch.setattr(tabular, "MAX_BYTES", len(raw))
    assert len(read_csv(raw, "factures.csv").rows) == 1  # the limit itself is allowed


def test_xlsx_over_max_bytes_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = build_workbook()
    monkeypatch.setattr(tabular, "MAX_BYTES", 1024)
    with pytest.raises(TabularError) as exc:
        read_xlsx(raw, "export.xlsx")
    assert exc.value.problem == Problem("export.xlsx", None, None, "fichier trop gros (plus de 0 Mo)")


def test_too_many_rows_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tabular, "MAX_ROWS", 2)
    raw = invoices(*[f"F-{i:03d};C001;01/10/2026;31/10/2026;10" for i in range(3)]).encode()
    with pytest.raises(TabularError) as exc:
        read_csv(raw, "factures.csv")
    assert exc.value.problem == Problem("factures.csv", 4, None, "plus de 2 lignes")


def test_too_many_rows_in_a_sheet_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tabular, "MAX_ROWS", 1)
    with pytest.raises(TabularError) as exc:
        read_xlsx(build_workbook(), "export.xlsx")  # « Clients » has two data rows
    assert exc.value.problem == Problem("export.xlsx", 3, None, "plus de 1 lignes")


# --- the fixture files used by the documentation ----------------------------------------------


def test_fixture_files_parse_cleanly() -> None:
    [clients_sheet] = read_table_file(FIXTURES / "clients.csv")
    clients = parse_table(clients_sheet, "clients.csv")
    assert clients.kind == "customers"
    assert clients.problems == []
    assert [(r.code, r.is_business, r.siren) for r in clients.rows] == [
        ("C001", True, "412345670"), ("C002", True, "512987652"), ("C003", True, "823456785"), ("P001", False, "")]
    assert all(fr_siren.is_valid(r.siren) for r in clients.rows if r.is_business)
    known = tuple(r.code for r in clients.rows)

    [invoices_sheet] = read_table_file(FIXTURES / "factures.csv")
    invoices_ = parse_table(invoices_sheet, "factures.csv", None, known)
    assert invoices_.kind == "invoices"
    assert invoices_.problems == []
    assert len(invoices_.rows) == 6
    assert sum(r.amount_incl_tax for r in invoices_.rows) == Decimal("17849.10")
    assert {r.customer for r in invoices_.rows} == set(known)

    [payments_sheet] = read_table_file(FIXTURES / "paiements.csv")
    payments = parse_table(payments_sheet, "paiements.csv", None, known)
    assert payments.problems == []
    assert payments.rows == [PaymentRow(line=2, reference="VIR-20260930-0417", customer="C001",
                                        date=date(2026, 9, 30), amount=Decimal("1500.00"), invoice="F2026-0101",
                                        method="virement")]
    assert payments.rows[0].invoice in {r.number for r in invoices_.rows}


@pytest.mark.parametrize("name", ["clients.csv", "factures.csv", "paiements.csv"])
def test_fixture_files_are_detected_by_headers_too(name: str) -> None:
    [sheet] = read_table_file(FIXTURES / name)
    sheet.name = "Feuil1"
    expected = {"clients.csv": "customers", "factures.csv": "invoices", "paiements.csv": "payments"}[name]
    assert detect_kind(sheet) == expected


DOCS = Path(__file__).resolve().parents[2] / "docs" / "imports-csv.md"


def doc_examples() -> list[str]:
    blocks = DOCS.read_text(encoding="utf-8").split("```csv\n")[1:]
    return [b.split("```", 1)[0] for b in blocks]


def test_documentation_examples_parse_cleanly() -> None:
    examples = doc_examples()
    kinds = []
    known = ("C001", "C002", "C003", "P001")
    for text in examples:
        table = parse_table(read_csv(text.encode(), "exemple.csv"), "exemple.csv", None, known)
        assert table.problems == [], text
        assert table.rows, text
        kinds.append(table.kind)
    assert kinds == ["customers", "contacts", "invoices", "invoices", "credit_notes", "payments"]


@pytest.mark.parametrize("name", ["clients.csv", "factures.csv", "paiements.csv"])
def test_documentation_shows_the_fixture_files(name: str) -> None:
    assert (FIXTURES / name).read_text(encoding="utf-8") in doc_examples()


@pytest.mark.parametrize(("text", "code"), [("FR", "FR"), ("be", "BE"), ("Allemagne", "DE"), ("Suisse", "CH"),
                                            ("Royaume-Uni", "GB")])
def test_country_names_and_codes(text, code):
    from relance.core.formats.receivables import parse_country

    assert parse_country(text) == code


def test_unknown_country_is_a_problem_not_a_wrong_code():
    from relance.core.formats.receivables import parse_country

    with pytest.raises(ValueError, match="code ISO"):
        parse_country("Groland")


# --- limits of every field (issue 11) ------------------------------------------------------


def test_a_file_named_anyhow_missing_its_due_date_gets_the_precise_error() -> None:
    table = parse("Numéro facture;Code client;Date;Montant TTC\nF1;C001;01/10/2026;12,00\n", "export-2026.csv")
    assert table.kind == "invoices"
    assert [(p.line, p.field, p.message) for p in table.problems] == [(1, "échéance", "colonne obligatoire absente")]


def test_a_table_like_nothing_is_still_unrecognised() -> None:
    table = parse("Article;Quantité\nvis;3\n", "stock.csv")
    assert table.kind == "unknown"
    assert "impossible de reconnaître" in table.problems[0].message


@pytest.mark.parametrize("text", ["9" * 13, "1" * 400, "1e5", "99999999999999999999,00"])
def test_absurd_amounts_are_clean_problems(text: str) -> None:
    table = parse(f"Numéro facture;Code client;Date;Échéance;Montant TTC\nF1;C001;01/10/2026;31/10/2026;{text}\n")
    assert [(p.line, p.field) for p in table.problems] == [(2, "montant TTC")]
    assert len(table.problems[0].message) < 120


@pytest.mark.parametrize("text", ["31/12/9999", "0001-01-01", "01/01/2300"])
def test_dates_out_of_range_are_clean_problems(text: str) -> None:
    table = parse(f"Numéro facture;Code client;Date;Échéance;Montant TTC\nF1;C001;01/10/2026;{text};12,00\n")
    assert [(p.line, p.field) for p in table.problems] == [(2, "échéance")]
    assert "hors limites" in table.problems[0].message or "illisible" in table.problems[0].message


def test_values_longer_than_their_column_are_problems_of_their_row() -> None:
    sheet = read_csv(f"Code client;Raison sociale;Type\nC1;{'x' * 201};entreprise\n".encode(), "clients.csv")
    table = parse_table(sheet, "clients.csv", None, (), {"customers": {"name": 200}})
    assert [(p.line, p.field) for p in table.problems] == [(2, "raison sociale")]
    assert "au plus 200" in table.problems[0].message


@pytest.mark.parametrize("raw", [
    b"PK\x03\x04 not really a zip",
    b"",
])
def test_malformed_xlsx_is_a_clean_problem(raw: bytes) -> None:
    with pytest.raises(TabularError) as exc:
        read_xlsx(raw, "export.xlsx")
    assert "classeur XLSX illisible" in exc.value.problem.message
    assert "zip" not in exc.value.problem.message.lower()


def test_xlsx_with_a_malformed_sheet_is_a_clean_problem() -> None:
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(build_workbook()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b'r="A1"', b'r="ZZZZZZ99999999999"').replace(b"<sheetData>", b"<sheetData><row r=\"x\">")
            dst.writestr(info, data)
    with pytest.raises(TabularError) as exc:
        read_xlsx(out.getvalue(), "export.xlsx")
    assert "classeur XLSX illisible" in exc.value.problem.message


def test_a_nul_byte_inside_is_refused_with_its_line_and_trailing_padding_is_ignored() -> None:
    """Found by bench/fuzz.py: a NUL in a cell reached PostgreSQL, which refuses it (DataError)."""
    with pytest.raises(TabularError) as caught:
        read_csv("Numéro facture;Montant TTC\nF-1;10,00\nF-\x002;20,00\n".encode(), "factures.csv")
    assert caught.value.problems[0].line == 3 and "caractère nul" in caught.value.problems[0].message
    sheet = read_csv(b"Num\xc3\xa9ro facture;Montant TTC\nF-1;10,00\n\x00\x00\x00", "factures.csv")
    assert [cells for _, cells in sheet.rows] == [["F-1", "10,00"]]


def test_a_header_of_more_than_200_columns_is_refused_and_an_xlsx_declared_width_is_not_walked() -> None:
    """Found by bench/fuzz.py: a header of hundreds of thousands of cells took 2.7 s/MB."""
    wide = ";".join(f"c{i}" for i in range(50_000))
    with pytest.raises(TabularError) as caught:
        read_csv(f"{wide}\n1;2\n".encode(), "factures.csv")
    assert caught.value.problems[0].line == 1 and "plus de 200 colonnes" in caught.value.problems[0].message
    assert read_csv(("Numéro facture;Montant TTC" + ";" * 5000 + "\nF-1;10,00\n").encode(), "f.csv").rows
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Numéro facture", "Montant TTC"])
    sheet.append(["F-1", "10,00"])
    sheet.cell(row=5, column=16_000, value=None)  # a padded, declared width
    sheet.cell(row=3, column=201, value="x")  # a value in the 201st column
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(TabularError) as caught:
        read_xlsx(buffer.getvalue(), "factures.xlsx")
    assert "plus de 200 colonnes" in caught.value.problems[0].message
