"""Every real bank file of the shared corpus parses without problem, with the values it holds."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from relance.core.formats.bank import BankLine, StatementResult, parse_statement

REALDATA = Path(__file__).resolve().parents[3] / "shared" / "realdata" / "bank"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bank"

needs_realdata = pytest.mark.skipif(not REALDATA.is_dir(), reason=f"corpus réel absent : {REALDATA}")


def _files() -> list[Path]:
    return sorted(p for p in REALDATA.iterdir() if p.suffix != ".yml") if REALDATA.is_dir() else []


def _parse(name: str) -> StatementResult:
    result = parse_statement(REALDATA / name, name)
    assert result.problems == [], [str(p) for p in result.problems]
    return result


def _lines(result: StatementResult) -> list[BankLine]:
    return [line for statement in result.statements for line in statement.lines]


@needs_realdata
@pytest.mark.parametrize("path", _files(), ids=lambda p: p.name)
def test_every_real_file_parses_without_problem(path: Path) -> None:
    result = parse_statement(path, path.name)
    assert result.problems == [], [str(p) for p in result.problems]
    assert result.statements
    for line in _lines(result):
        assert line.amount >= 0
        assert line.direction in ("credit", "debit")
        assert line.line_no_or_element != ""


@needs_realdata
def test_detected_formats() -> None:
    expected = {".xml": "camt", ".ofx": "ofx", ".sta": "mt940", ".txt": "cfonb120"}
    for path in _files():
        assert parse_statement(path, path.name).format == expected[path.suffix], path.name


# --- MT940 against the expected parse (.yml) published with the mt-940 library -----------------

yaml = pytest.importorskip("yaml")


class _ObjectsAsData(yaml.SafeLoader):
    """Reads the pickled python objects of the .yml files as plain dicts/lists, never executing anything."""


def _as_data(loader: Any, suffix: str, node: Any) -> Any:
    if isinstance(node, yaml.MappingNode):
        mapping: dict[Any, Any] = {}
        yield mapping
        mapping.update(loader.construct_mapping(node, deep=True))
    elif isinstance(node, yaml.SequenceNode):
        sequence: list[Any] = []
        yield sequence
        sequence.extend(loader.construct_sequence(node, deep=True))
    else:
        yield loader.construct_scalar(node)


_ObjectsAsData.add_multi_constructor("tag:yaml.org,2002:python/", _as_data)


def _yml_date(value: Any) -> date:
    raw = value[0]
    return date(raw[0] * 256 + raw[1], raw[2], raw[3])


@needs_realdata
@pytest.mark.parametrize(
    "stem", ["wolph-mt940_jejik_abnamro", "wolph-mt940_betterplace_sepa_snippet", "wolph-mt940_cmxl_mt940"]
)
def test_mt940_matches_expected_yml(stem: str) -> None:
    expected = yaml.load((REALDATA / f"{stem}.yml").read_text(encoding="utf-8"), Loader=_ObjectsAsData)
    result = _parse(f"{stem}.sta")
    lines = _lines(result)
    assert len(lines) == len(expected["transactions"]) > 0
    for line, tx in zip(lines, expected["transactions"], strict=True):
        data = tx["data"]
        assert line.signed_amount == Decimal(data["amount"]["amount"][0])
        assert line.currency == data["amount"]["currency"]
        assert line.value_date == _yml_date(data["date"])
        if data.get("entry_date"):
            assert line.booking_date == _yml_date(data["entry_date"])
    # the library merges statements: its final closing balance is the last :62F: one
    final = Decimal(expected["data"]["final_closing_balance"]["amount"]["amount"][0])
    assert final in [s.closing_balance for s in result.statements]
    assert result.statements[-1].account_id == expected["data"]["account_identification"]


@needs_realdata
def test_mt940_statements_are_kept_apart() -> None:
    result = _parse("wolph-mt940_cmxl_mt940.sta")
    assert [len(s.lines) for s in result.statements] == [11, 2, 3]
    assert [s.currency for s in result.statements] == ["DEM", "EUR", "PLN"]
    assert result.statements[1].opening_balance == Decimal("2187.95")
    sepa = _parse("wolph-mt940_betterplace_sepa_snippet.sta").statements[0].lines[0]
    assert sepa.end_to_end_id == "EndToEndId TFNR 22 004 00001"
    assert sepa.counterparty_iban == "DE14508800500194785000"
    assert sepa.counterparty_name == "KARL KAUFMANN"
    assert sepa.line_no_or_element == 5


# --- camt: values read from the files themselves --------------------------------------------------


@needs_realdata
def test_camt053_v2_minimal() -> None:
    (statement,) = _parse("genkgo_camt053.v2.minimal.xml").statements
    assert statement.account_iban == "NL26VAYB8060476890"
    assert statement.currency == "EUR"
    assert statement.opening_balance == Decimal("18.15")
    assert statement.closing_balance == Decimal("-27.00")  # CLBD is DBIT in this file
    (line,) = statement.lines
    assert (line.amount, line.direction) == (Decimal("8.85"), "credit")
    assert (line.booking_date, line.value_date) == (date(2014, 12, 31), date(2015, 1, 2))
    assert line.counterparty_iban == "NL56AGDH9619008421"
    assert line.structured_reference == "4654654654654654"


@needs_realdata
def test_camt053_v2_two_statements() -> None:
    statements = _parse("genkgo_camt053.v2.multi.statement.xml").statements
    assert [(s.opening_balance, s.closing_balance) for s in statements] == [
        (Decimal("18.15"), Decimal("27.00")),
        (Decimal("27.00"), Decimal("20.00")),
    ]
    first, second = statements[0].lines[0], statements[1].lines[0]
    assert (first.amount, first.direction, first.end_to_end_id) == (Decimal("8.85"), "credit", "000000001")
    assert first.remittance == "Transaction Description 1"
    assert (second.amount, second.direction, second.end_to_end_id) == (Decimal("7.00"), "debit", "000000002")
    assert (second.counterparty_name, second.counterparty_iban) == ("Company Name 2", "NL56AGDH9619008421")
    assert second.line_no_or_element == "BkToCstmrStmt/Stmt[2]/Ntry[1]"


@needs_realdata
def test_camt053_v8() -> None:
    (statement,) = _parse("genkgo_camt053.v8.xml").statements
    (line,) = statement.lines
    assert statement.account_iban == "NL26VAYB8060476890"
    assert (line.amount, line.direction) == (Decimal("8.85"), "credit")
    assert line.end_to_end_id == "MUELL/FINP/RA12345"
    assert line.bank_reference == "AAAASESS-FP-CN_98765/01"
    assert (line.counterparty_name, line.counterparty_iban) == ("NAME NAME", "NL56AGDH9619008421")


@needs_realdata
def test_camt054_v2_and_v8() -> None:
    (v2,) = _parse("genkgo_camt054.v2.xml").statements
    assert v2.account_iban == "CH2801234000123456789"
    assert len(v2.lines) == 3
    assert [line.structured_reference for line in v2.lines] == [
        "ISR ref number V1",
        "ISR ref number V2",
        "Ref number V3 block 1",
    ]
    (v8,) = _parse("genkgo_camt054.v8.xml").statements
    assert v8.account_iban == "CH2801234000123456789"
    assert [(line.amount, line.currency, line.direction) for line in v8.lines] == [
        (Decimal("3.1"), "CHF", "credit"),
        (Decimal("3.2"), "CHF", "credit"),
        (Decimal("3.2"), "CHF", "credit"),
    ]
    assert [line.end_to_end_id for line in v8.lines] == [
        "UXC06170000006PI00001EE00001",
        "UXC06170000006PI00001EE00002",
        "UXC06170000006PI00001EE00002",
    ]
    assert v8.lines[2].structured_reference == "Ref number V3 block 1"  # the SCOR one
    assert v8.lines[0].bank_reference == "ACSR160617103200001"
    assert v8.lines[1].line_no_or_element == "BkToCstmrDbtCdtNtfctn/Ntfctn[1]/Ntry[1]/TxDtls[2]"


def test_camt053_v04_french_fixture() -> None:
    result = parse_statement(FIXTURES / "camt053_v04_fr.xml", "camt053_v04_fr.xml")
    assert result.problems == []
    (statement,) = result.statements
    assert statement.account_iban == "FR1420041010050500013M02606"
    assert (statement.opening_balance, statement.closing_balance) == (Decimal("1000.00"), Decimal("2150.50"))
    payment, fees = statement.lines  # the pending (PDNG) entry is left out
    assert payment == BankLine(
        date(2025, 3, 4),
        date(2025, 3, 4),
        Decimal("1200.50"),
        "credit",
        "EUR",
        counterparty_name="Boulangerie Éclair SARL",
        counterparty_iban="FR7630006000011234567890189",
        remittance="Règlement facture F-2025-0042",
        structured_reference="RF18539007547034",
        end_to_end_id="FAC-2025-0042",
        bank_reference="BQ-778899",
        line_no_or_element="BkToCstmrStmt/Stmt[1]/Ntry[1]",
    )
    assert (fees.amount, fees.direction, fees.remittance) == (Decimal("50.00"), "debit", "FRAIS TENUE DE COMPTE")


# --- OFX ----------------------------------------------------------------------------------------


@needs_realdata
def test_ofx_sgml_french_bank() -> None:
    (statement,) = _parse("ekylibre_ofx_valid.ofx").statements
    assert (statement.account_id, statement.currency, statement.closing_balance) == (
        "12312312345",
        "EUR",
        Decimal("987.65"),
    )
    (line,) = statement.lines
    assert (line.amount, line.direction, line.booking_date) == (Decimal("34.56"), "debit", date(2016, 5, 9))
    assert line.counterparty_name == "PRLV SEPA MUTUELLE 123"
    assert line.remittance == "ECHEANCE MAI 2016 00100001122234A"
    assert line.bank_reference == "201600400001AB12"
    assert line.line_no_or_element == 41


@needs_realdata
def test_ofx_windows_1252_accents() -> None:
    (statement,) = _parse("ekylibre_ofx_non_utf8.ofx").statements
    assert statement.lines[0].counterparty_name == "PRLV SEPA MUTUELLE N°123"


@needs_realdata
def test_ofx_edge_cases() -> None:
    (no_ledger,) = _parse("ekylibre_ofx_without_ledgerbal.ofx").statements
    assert no_ledger.closing_balance is None and len(no_ledger.lines) == 1
    accounts = _parse("ekylibre_ofx_multiple_bank_accounts.ofx").statements
    assert [(s.account_id, len(s.lines), s.closing_balance) for s in accounts] == [
        ("12312312345", 1, Decimal("987.65")),
        ("12312312346", 2, Decimal("1234.56")),
    ]
    assert [(ln.amount, ln.direction) for ln in accounts[1].lines] == [
        (Decimal("297.00"), "debit"),
        (Decimal("123.00"), "credit"),
    ]
    xml = _parse("ofxparse_multiple_accounts.ofx").statements  # OFX 2.x XML
    assert [(s.account_id, s.currency, s.closing_balance) for s in xml] == [
        ("9100", "USD", Decimal("111")),
        ("9200", "USD", Decimal("222")),
    ]
    checking = _parse("ofxparse_checking.ofx").statements[0]
    assert [ln.signed_amount for ln in checking.lines] == [Decimal("0.01"), Decimal("-34.51"), Decimal("-25.00")]
    medium = _parse("ofxparse_bank_medium.ofx").statements[0]
    assert (medium.currency, len(medium.lines), medium.closing_balance) == ("CAD", 3, Decimal("382.34"))


# --- CFONB 120 ----------------------------------------------------------------------------------


@needs_realdata
def test_cfonb120_ekylibre() -> None:
    (statement,) = _parse("ekylibre_import_cfonb120.txt").statements
    assert statement.account_id == "9837485442I"
    assert statement.account_iban == "FR9613306009789837485442I16"  # derived from bank/branch/account + RIB key
    assert (statement.opening_balance, statement.closing_balance) == (Decimal("-3956576.31"), Decimal("-3926135.89"))
    loan, direct_debit, card = statement.lines
    assert (loan.booking_date, loan.signed_amount, loan.remittance) == (
        date(2020, 8, 3),
        Decimal("50000.00"),
        "VER.PRETAGILOR N.10002047556",
    )
    assert (direct_debit.booking_date, direct_debit.signed_amount, direct_debit.line_no_or_element) == (
        date(2020, 8, 5),
        Decimal("-54.96"),
        3,
    )
    assert "/INV/ FOU-62390 27.7.2020/R/" in direct_debit.remittance  # from the 05 complements
    assert "FR73ZZZ395135" in direct_debit.remittance
    assert (card.booking_date, card.signed_amount, card.line_no_or_element) == (date(2020, 8, 6), Decimal("200.00"), 13)
