"""One way to compact an IBAN, for statements, e-invoices and the organisation's own."""

from __future__ import annotations

import pytest

from relance.core.iban import compact_iban

FR = "FR7630006000011234567890189"


@pytest.mark.parametrize("written", [
    FR,
    "FR76 3000 6000 0112 3456 7890 189",  # as printed on a RIB
    "fr76 3000 6000 0112 3456 7890 189",
    "FR76-3000-6000-0112-3456-7890-189",  # hyphens: an e-invoice's PaymentMeans (the matcher's copy kept them)
    "FR76.3000.6000.0112.3456.7890.189",
    "FR76\u00a03000\u00a06000 0112 3456 7890 189",  # no-break spaces from a PDF or a spreadsheet
    "FR76 3000\t6000\n0112 3456 7890 189",  # a tab or a line break inside a statement's field (stdnum kept them)
    "  FR76 3000 6000 0112 3456 7890 189  ",
])
def test_every_way_of_writing_an_iban_compacts_to_the_same(written: str) -> None:
    assert compact_iban(written) == FR


def test_nothing_is_nothing() -> None:
    assert compact_iban("") == compact_iban(None) == ""


def test_an_invalid_iban_is_compacted_not_judged() -> None:
    assert compact_iban("xx12 34") == "XX1234"
