"""XLSX empty rows count against the row limit (issue #11): a sheet of a million ``<row/>`` elements is a
few kilobytes once zipped, and was walked row by row whatever the limit said."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import Workbook

from relance.core.formats import tabular


def _sheet_with_empty_rows(empty: int, data_after: bool = False) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws["A1"], ws["B1"] = "numero", "client"
    buf = io.BytesIO()
    wb.save(buf)
    rows = ['<row r="1"><c r="A1" t="inlineStr"><is><t>numero</t></is></c>'
            '<c r="B1" t="inlineStr"><is><t>client</t></is></c></row>']
    rows += [f'<row r="{n}"/>' for n in range(2, empty + 2)]
    if data_after:
        n = empty + 2
        rows.append(f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>FA-1</t></is></c>'
                    f'<c r="B{n}" t="inlineStr"><is><t>C001</t></is></c></row>')
    sheet = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
             'spreadsheetml/2006/main"><sheetData>' + "".join(rows) + "</sheetData></worksheet>")
    out = io.BytesIO()
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, sheet if item.filename == "xl/worksheets/sheet1.xml" else src.read(item.filename))
    return out.getvalue()


def test_empty_rows_count_against_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tabular, "MAX_ROWS", 1000)
    raw = _sheet_with_empty_rows(5000)
    assert len(raw) < 100_000
    with pytest.raises(tabular.TabularError) as err:
        tabular.read_xlsx(raw, "vide.xlsx")
    assert "plus de 1000 lignes" in err.value.problem.message


def test_a_few_empty_rows_are_still_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tabular, "MAX_ROWS", 1000)
    sheets = tabular.read_xlsx(_sheet_with_empty_rows(500, data_after=True), "ok.xlsx")
    assert [cells for _, cells in sheets[0].rows] == [["FA-1", "C001"]]

