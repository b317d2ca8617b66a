"""FEC parsing and open customer items: real exports (when the shared corpus is
present) and small self-made fixtures."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from relance.core.formats.fec import (
    FecError,
    FecLine,
    account_label_names,
    parse_fec,
    parse_fec_amount,
    parse_fec_date,
    receivables,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "fec"
def _realdata(sub: str) -> Path:
    """``shared/realdata/<sub>`` next to one of the checkout's parent folders (``/work/shared`` for ``/work/main``)."""
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "realdata" / sub
        if candidate.is_dir():
            return candidate
    return Path(__file__).resolve().parents[2].parent / "shared" / "realdata" / sub


REALDATA = _realdata("fec")

needs_realdata = pytest.mark.skipif(
    not REALDATA.is_dir(), reason=f"corpus of real FEC files absent ({REALDATA}): real-data tests skipped"
)

# file, lines, entries, Σdebit = Σcredit (figures from realdata/MANIFEST.md)
SAMPLES = [
    ("ekylibre_quadra_123456789FEC20190731.txt", 12_605, 4_716, Decimal("13738285.95")),
    ("ekylibre_sage_coala_2020.txt", 47, 20, Decimal("28094.49")),
    ("ekylibre_agrigest_123456789FEC20230331.txt", 1_480, 177, Decimal("1416795.98")),
    ("ekylibre_bordeaux_sciences_agro_istea_123456789FEC20201231.txt", 1_982, None, Decimal("241578.42")),
    ("tryton_account_fr_FEC.csv", 4, 2, Decimal("15.00")),
]


@needs_realdata
@pytest.mark.parametrize(("name", "n_lines", "n_entries", "total"), SAMPLES)
def test_real_fec_parses_without_problem_and_balances(
    name: str, n_lines: int, n_entries: int | None, total: Decimal
) -> None:
    result = parse_fec(REALDATA / name)
    assert result.problems == []
    assert isinstance(result.lines, list)
    assert len(result.lines) == n_lines
    if n_entries is not None:
        assert result.stats.entries == n_entries
    assert result.stats.total_debit == result.stats.total_credit == total
    assert sum(line.debit for line in result.lines) == total


@needs_realdata
def test_quadra_open_customer_balance() -> None:
    result = parse_fec(REALDATA / "ekylibre_quadra_123456789FEC20190731.txt")
    rec = receivables(result.lines)
    assert rec.problems == []
    assert rec.customer_lines == 3_310
    assert rec.open_lines == 310
    assert rec.open_amount == Decimal("283113.83")
    assert all(c.source == "aux" for c in rec.customers)
    acso = next(c for c in rec.customers if c.code == "01ACSO00")
    assert acso.name == "ACSO"
    assert sum(len(c.open_items) for c in rec.customers) == len(rec.open_invoices) + len(rec.open_credits)
    assert rec.partial_groups == rec.one_sided_groups == 0  # every letter group of Quadra nets to zero


@needs_realdata
def test_quadra_streaming_gives_same_figures() -> None:
    result = parse_fec(REALDATA / "ekylibre_quadra_123456789FEC20190731.txt", stream=True)
    assert not isinstance(result.lines, list)
    rec = receivables(result.lines)
    assert rec.open_amount == Decimal("283113.83")
    assert result.stats.lines == 12_605
    assert result.problems == []


@needs_realdata
def test_quadra_header_and_first_line() -> None:
    result = parse_fec(REALDATA / "ekylibre_quadra_123456789FEC20190731.txt")
    first = result.lines[0]
    assert first == FecLine(
        line_no=2,
        journal="AN",
        journal_label="A NOUVEAUX",
        entry_num="AN000001",
        entry_date=date(2018, 8, 1),
        account="41100000",
        account_label="COLLECTIF CLIENTS",
        aux_num="01ACSO00",
        aux_label="ACSO",
        piece_ref="x",
        piece_date=date(2017, 8, 1),
        label="Report exercice précédent",
        debit=Decimal("777.18"),
        credit=Decimal("0"),
        letter="AA",
        letter_date=None,
    )
    assert result.stats.separator == "\t"
    assert result.stats.encodings == {"utf-8"}


@needs_realdata
def test_agrigest_padded_fields_and_individual_accounts() -> None:
    result = parse_fec(REALDATA / "ekylibre_agrigest_123456789FEC20230331.txt")
    first = result.lines[0]
    assert (first.journal, first.entry_num, first.account, first.debit) == ("A", "1", "60170000", Decimal("69.40"))
    assert first.account_label == "ACHA EMBALLAGES"
    # entries numbered across journals (A n° 1 against OD n° 1, same date and PieceRef): accepted, counted —
    # 36 halves of 18 numbers
    assert result.stats.cross_journal_entries == 36
    assert result.stats.unbalanced_entries == 0
    rec = receivables(result.lines)
    assert rec.customer_lines == 282
    assert rec.open_lines == 279  # no lettering at all in this export; 3 of the 282 lines are for 0,00
    # three collective accounts (« CLIENTS », « CLIENTS Divers Prof ») are split by entry label
    assert {c.source for c in rec.customers} == {"account", "label"}
    assert rec.customer_count == 86


@needs_realdata
def test_istea_pipe_21_columns_and_coala_lettering() -> None:
    istea = parse_fec(REALDATA / "ekylibre_bordeaux_sciences_agro_istea_123456789FEC20201231.txt")
    assert istea.stats.separator == "|"
    assert len(istea.stats.columns) == 21
    coala = parse_fec(REALDATA / "ekylibre_sage_coala_2020.txt")
    rec = receivables(coala.lines)
    assert rec.customer_lines == 8
    assert rec.open_lines == 0
    lettered = [line for line in coala.lines if line.account.startswith("411")]
    assert all(line.letter and line.letter_date for line in lettered)


# ---------------------------------------------------------------- self-made fixtures


def test_unbalanced_entry_is_listed() -> None:
    result = parse_fec(FIXTURES / "unbalanced.txt")
    assert len(result.lines) == 5
    assert result.stats.unbalanced_entries == 1
    [problem] = result.problems
    assert problem.line == 2
    assert problem.field == "EcritureNum"
    assert "VE" in problem.message and "VE1" in problem.message
    assert "écart 10.00" in problem.message


def test_comma_separated_file_is_refused_at_line_1() -> None:
    result = parse_fec(FIXTURES / "comma_separated.csv")
    assert result.lines == []
    [problem] = result.problems
    assert problem.line == 1
    assert "séparateur" in problem.message and "« , »" in problem.message


def test_truncated_last_line() -> None:
    result = parse_fec(FIXTURES / "truncated.txt")
    assert len(result.lines) == 2
    [problem] = result.problems
    assert problem.line == 4
    assert "tronqué" in problem.message
    assert "14 champs au lieu de 18" in problem.message


def test_montant_sens_pipe_cp1252_crlf_lowercase_header() -> None:
    result = parse_fec(FIXTURES / "montant_sens.txt")
    assert result.problems == []
    assert result.stats.separator == "|"
    assert result.stats.encodings == {"cp1252"}
    assert [(line.debit, line.credit) for line in result.lines] == [
        (Decimal("240.00"), Decimal("0")),
        (Decimal("0"), Decimal("200.00")),
        (Decimal("0"), Decimal("40.00")),
        (Decimal("100.00"), Decimal("0")),
        (Decimal("0"), Decimal("100.00")),
    ]
    assert result.lines[0].account_label == "Léfèvre € Cie"
    rec = receivables(result.lines)
    assert rec.problems == []
    [customer] = rec.customers
    assert (customer.code, customer.source, customer.balance) == ("411LEFEVRE", "account", Decimal("140.00"))
    assert len(rec.open_invoices) == 1 and len(rec.open_credits) == 1


HEADER = (
    "JournalCode\tJournalLib\tEcritureNum\tEcritureDate\tCompteNum\tCompteLib\tCompAuxNum\tCompAuxLib\tPieceRef\t"
    "PieceDate\tEcritureLib\tDebit\tCredit\tEcritureLet\tDateLet\tValidDate\tMontantdevise\tIdevise"
)


def _row(cells: str) -> str:
    """A FEC line written with ``|`` for readability, returned TAB-separated."""
    return cells.replace("|", "\t")


def test_utf8_bom_and_lettered_lines_and_label_grouping() -> None:
    rows = [
        _row("VE|Ventes|1|20240105|411|Clients|||F1|20240105|Facture 101 DUPONT|120,00|0,00|||20240105||"),
        _row("VE|Ventes|1|20240105|706|Ventes|||F1|20240105|Facture 101 DUPONT|0,00|120,00|||20240105||"),
        _row("VE|Ventes|2|20240106|411|Clients|||F2|20240106|Facture 102 Martin|50,00|0,00|A|20240201|20240106||"),
        _row("VE|Ventes|2|20240106|706|Ventes|||F2|20240106|Facture 102 Martin|0,00|50,00|||20240106||"),
        _row("BQ|Banque|3|20240110|411|Clients|||V1|20240110|Virement Dupont|0,00|20,00|||20240110||"),
        _row("BQ|Banque|3|20240110|512|Banque|||V1|20240110|Virement Dupont|20,00|0,00|||20240110||"),
    ]
    raw = ("\ufeff" + HEADER + "\r\n" + "\r\n".join(rows) + "\r\n").encode("utf-8")
    result = parse_fec(raw, "bom.txt")
    assert result.problems == []
    assert len(result.lines) == 6
    rec = receivables(result.lines, filename="bom.txt")
    assert {c.code for c in rec.customers} == {"DUPONT", "MARTIN"}
    assert {c.source for c in rec.customers} == {"label"}
    warning, one_sided = rec.problems
    assert warning.field == "CompAuxNum" and "libellé" in warning.message
    # Martin's invoice is lettered, but its payment is not in the file: trusted as settled
    assert one_sided.field == "EcritureLet" and "sans contrepartie" in one_sided.message
    assert (rec.one_sided_groups, rec.one_sided_amount) == (1, Decimal("50.00"))
    assert rec.open_lines == 2
    assert rec.open_amount == Decimal("100.00")


def test_bad_fields_become_problems_and_lines_are_skipped() -> None:
    rows = [
        _row("VE|Ventes|1|2024-13-45|411|C|A1|Alpha|F||x|10,00|0|||||"),
        _row("VE|Ventes|1|20240105|706|V|||F||x|0|1O,00|||||"),
        _row("VE|Ventes||20240105|706|V|||F||x|0|10|||||"),
    ]
    result = parse_fec((HEADER + "\n" + "\n".join(rows) + "\n").encode(), "bad.txt")
    assert result.lines == []
    fields = [(p.line, p.field) for p in result.problems]
    assert (2, "EcritureDate") in fields
    assert (3, "Credit") in fields
    assert (4, "EcritureNum") in fields


def test_missing_columns_and_empty_file() -> None:
    result = parse_fec(b"JournalCode\tEcritureNum\tEcritureDate\n", "short.txt")
    assert result.lines == []
    [problem] = result.problems
    assert problem.line == 1 and "CompteNum" in problem.message and "Debit/Credit" in problem.message
    empty = parse_fec(b"", "empty.txt")
    assert [p.message for p in empty.problems] == ["fichier vide"]


def test_size_limits() -> None:
    raw = (FIXTURES / "unbalanced.txt").read_bytes()
    with pytest.raises(FecError):
        parse_fec(raw, "x.txt", max_bytes=100)
    with pytest.raises(FecError):
        parse_fec(FIXTURES / "unbalanced.txt", max_bytes=100)
    # a non-seekable stream is cut while reading
    result = parse_fec(io.BytesIO(raw), "x.txt", max_bytes=len(raw) - 10)
    assert any("trop gros" in p.message for p in result.problems)
    limited = parse_fec(raw, "x.txt", max_lines=2)
    assert len(limited.lines) == 2
    assert any("plus de 2 lignes" in p.message for p in limited.problems)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+000000069,40", Decimal("69.40")),
        ("-000000001,5", Decimal("-1.5")),
        ("8957", Decimal("8957")),
        ("  12.30 ", Decimal("12.30")),
        ("", Decimal("0")),
        ("0", Decimal("0")),
    ],
)
def test_amounts(text: str, expected: Decimal) -> None:
    assert parse_fec_amount(text) == expected


@pytest.mark.parametrize("text", ["1 234,56,7", "12a", "1.234,56", "+-1"])
def test_bad_amounts(text: str) -> None:
    with pytest.raises(ValueError):
        parse_fec_amount(text)


def test_dates() -> None:
    assert parse_fec_date("20190731") == date(2019, 7, 31)
    assert parse_fec_date(" 2019-07-31 ") == date(2019, 7, 31)
    assert parse_fec_date("31/07/2019") == date(2019, 7, 31)
    assert parse_fec_date("") is None
    for bad in ("20190231", "2019731", "31.07.2019"):
        with pytest.raises(ValueError):
            parse_fec_date(bad)


@needs_realdata
@pytest.mark.parametrize("name", ["ekylibre_quadra_123456789FEC20190731.txt", "ekylibre_agrigest_123456789FEC20230331.txt"])
def test_only_prefix_gives_the_same_receivables(name: str) -> None:
    full = parse_fec(REALDATA / name)
    light = parse_fec(REALDATA / name, stream=True, only_prefix="411")
    rec_full = receivables(full.lines)
    rec_light = receivables(light.lines, stats=light.stats)
    assert light.problems == []
    assert (light.stats.lines, light.stats.entries, light.stats.total_debit, light.stats.cross_journal_entries) == (
        full.stats.lines, full.stats.entries, full.stats.total_debit, full.stats.cross_journal_entries)
    assert (rec_light.customer_lines, rec_light.open_lines, rec_light.open_amount) == (
        rec_full.customer_lines, rec_full.open_lines, rec_full.open_amount)
    assert rec_light.sales_journals == rec_full.sales_journals and rec_light.opening_journals == rec_full.opening_journals
    assert [i.key for c in rec_light.customers for i in c.open_items] == [
        i.key for c in rec_full.customers for i in c.open_items]


def test_only_prefix_still_checks_the_balance_and_the_dates() -> None:
    rows = [
        _row("VE|Ventes|1|20240105|411|Clients|A1|Alpha|F1|20240105|Facture|120,00|0,00|||20240105||"),
        _row("VE|Ventes|1|20240105|706|Ventes|||F1|20240105|Facture|0,00|100,00|||20240105||"),
        _row("HA|Achats|2|20241305|601|Achats|||X|20240105|Achat|10,00|0,00|||20240105||"),
        _row("HA|Achats|2|20240105|401|Fourn|||X|20240105|Achat|0,00|1O,00|||20240105||"),
    ]
    result = parse_fec((HEADER + "\n" + "\n".join(rows) + "\n").encode(), "x.txt", only_prefix="411")
    assert [line.account for line in result.lines] == ["411"]
    fields = [(p.line, p.field) for p in result.problems]
    assert (4, "EcritureDate") in fields and (5, "Credit") in fields and (2, "EcritureNum") in fields
    assert result.stats.journals == {"VE": "Ventes"} and result.stats.sales_journals == {"VE"}  # HA lines unreadable


def test_cross_journal_halves_must_share_their_date() -> None:
    rows = [
        _row("A|Achats|7|20240105|601|Achats|||P1|20240105|Achat|10,00|0,00|||20240105||"),
        _row("OD|Divers|7|20240106|401|Fourn|||P1|20240105|Achat|0,00|10,00|||20240105||"),
    ]
    result = parse_fec((HEADER + "\n" + "\n".join(rows) + "\n").encode(), "x.txt")
    assert result.stats.cross_journal_entries == 0
    assert [p.line for p in result.problems] == [2, 3]


def test_partial_lettering_residuals_and_marks() -> None:
    rows = [
        # Ekylibre marks a partial lettering « AA* »: the mark is dropped, the group summed
        _row("VE|Ventes|1|20240105|411|Clients|A1|Alpha|F1|20240105|Facture|100,00|0,00|AA*||20240105||"),
        _row("VE|Ventes|1|20240105|706|Ventes|||F1|20240105|Facture|0,00|100,00|||20240105||"),
        _row("BQ|Banque|2|20240110|512|Banque|||V1|20240110|Virement|60,00|0,00|||20240110||"),
        _row("BQ|Banque|2|20240110|411|Clients|A1|Alpha|V1|20240110|Virement|0,00|60,00|AA||20240110||"),
        # two invoices and one payment: the oldest is settled, the newest keeps the residual
        _row("VE|Ventes|3|20240201|411|Clients|B1|Beta|F2|20240201|Facture|50,00|0,00|b||20240201||"),
        _row("VE|Ventes|3|20240201|706|Ventes|||F2|20240201|Facture|0,00|50,00|||20240201||"),
        _row("VE|Ventes|4|20240202|411|Clients|B1|Beta|F3|20240202|Facture|30,00|0,00|b||20240202||"),
        _row("VE|Ventes|4|20240202|706|Ventes|||F3|20240202|Facture|0,00|30,00|||20240202||"),
        _row("BQ|Banque|5|20240210|512|Banque|||V2|20240210|Virement|70,00|0,00|||20240210||"),
        _row("BQ|Banque|5|20240210|411|Clients|B1|Beta|V2|20240210|Virement|0,00|70,00|b||20240210||"),
    ]
    result = parse_fec((HEADER + "\n" + "\n".join(rows) + "\n").encode(), "x.txt")
    rec = receivables(result.lines, filename="x.txt", watch={"VE|3|411|B1|F2"})
    assert rec.problems == []
    assert (rec.partial_groups, rec.partial_open, rec.open_amount) == (2, Decimal("50.00"), Decimal("50.00"))
    [alpha] = [c.open_items for c in rec.customers if c.code == "A1"]
    assert [(i.key, i.amount, i.open) for i in alpha] == [("VE|1|411|A1|F1", Decimal("100.00"), Decimal("40.00"))]
    [beta] = [c.open_items for c in rec.customers if c.code == "B1"]
    assert [(i.line.piece_ref, i.open) for i in beta] == [("F3", Decimal("10.00"))]
    assert rec.partial[beta[0].group].credit_journals == {"BQ"}
    # F2, watched, is fully lettered within the partial group
    assert rec.lettered["VE|3|411|B1|F2"].letter == "b" and rec.lettered["VE|3|411|B1|F2"].complete


# ---------------------------------------------------------------- collective customer accounts (issue 11)


def test_collective_accounts_are_recognised_by_label_and_by_variety() -> None:
    rec = receivables(parse_fec(FIXTURES / "comptes_collectifs.txt").lines)
    assert [(c.account, c.reason) for c in rec.collective] == [
        ("41120000", "libellé générique"),  # CLIENTS DIVERS
        ("41130000", "libellé générique"),  # CLIENTS 31,03,2020
        ("41140000", "libellé générique"),  # CLIENTS INTRA COMM
        ("41160000", "noms variés dans les écritures"),  # COMPTOIR NORD, six names in six lines
    ]
    by_source = {(c.source, c.code): c.balance for c in rec.customers}
    # the account named for one customer stays that customer, whatever its lines say
    assert by_source[("account", "41150000")] == Decimal("60.00")
    # names normalised: « Facture F101 Boulangerie Martin » and « Fact F103 boulangerie martin » are one customer
    assert by_source[("label", "BOULANGERIE MARTIN")] == Decimal("160.00")
    assert by_source[("label", "PHARMACIE LEROY")] == Decimal("55.00")
    assert not any(c.name.upper() in ("CLIENTS DIVERS", "CLIENTS INTRA COMM", "COMPTOIR NORD") for c in rec.customers)
    assert rec.open_amount == Decimal("685.00")


@pytest.mark.parametrize(("label", "names"), [
    ("CLIENTS", []), ("CLIENTS DIVERS", []), ("CLIENTS 31,03,2020", []), ("CLIENTS INTRA COMM", []),
    ("COLLECTIF CLIENTS", []), ("CLIENTS Divers Prof", []), ("CLIENTS  Bigot", ["bigot"]),
    ("CLts Grenier Guillau", ["grenier", "guillau"]),
])
def test_account_label_names(label: str, names: list[str]) -> None:
    assert account_label_names(label) == names


@needs_realdata
def test_agrigest_collective_accounts_become_customers_from_labels() -> None:
    rec = receivables(parse_fec(REALDATA / "ekylibre_agrigest_123456789FEC20230331.txt").lines)
    assert {c.account for c in rec.collective} == {"41110900", "41115000", "41115300"}
    accounts = {c.code: c.name for c in rec.customers if c.source == "account"}
    assert set(accounts) == {"41110100", "41115100", "41115200", "41153000"}  # COOP, coop bio, Bigot, Grenier
    assert not any(c.name.strip().upper() in ("CLIENTS", "CLIENTS DIVERS PROF") for c in rec.customers)
    assert "AMANDINE RABIER" in {c.code for c in rec.customers if c.source == "label"}


@pytest.mark.parametrize("text", ["1" * 60, "9999999999999,00", "-1000000000000"])
def test_absurd_fec_amounts_are_clean_errors(text: str) -> None:
    with pytest.raises(ValueError, match="montant"):
        parse_fec_amount(text)


@pytest.mark.parametrize("text", ["99991231", "0001-01-01", "31/12/2300"])
def test_fec_dates_out_of_range_are_clean_errors(text: str) -> None:
    with pytest.raises(ValueError, match="hors limites"):
        parse_fec_date(text)
