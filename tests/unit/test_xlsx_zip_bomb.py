"""Hostile XLSX (issue #11): a « ZIP bomb » is refused from the sizes its central directory
declares, before anything is decompressed, as a Problem naming the file."""

from __future__ import annotations

import io
import struct
import tracemalloc
import zipfile

import pytest
from openpyxl import Workbook

from relance.core.formats import tabular


def _workbook() -> bytes:
    wb = Workbook()
    ws = wb.active
    ws["A1"], ws["B1"] = "numero", "client"
    ws["A2"], ws["B2"] = "FA-1", "C001"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _with_member(raw: bytes, name: str, content: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename))
        dst.writestr(name, content, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return out.getvalue()


def _declare_size(raw: bytes, name: str, size: int) -> bytes:
    """The central directory entry of ``name`` declares ``size`` bytes once decompressed."""
    data = bytearray(raw)
    at = 0
    while (at := data.find(b"PK\x01\x02", at)) >= 0:
        name_len = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46:at + 46 + name_len].decode() == name:
            struct.pack_into("<I", data, at + 24, size)
            return bytes(data)
        at += 4
    raise AssertionError(name)


def test_an_ordinary_workbook_is_read() -> None:
    (sheet,) = tabular.read_xlsx(_workbook(), "ok.xlsx")
    assert sheet.rows == [(2, ["FA-1", "C001"])]


def test_a_member_declaring_gigabytes_is_refused_before_reading() -> None:
    raw = _declare_size(_with_member(_workbook(), "xl/sharedStrings2.xml", b"<a/>" * 100), "xl/sharedStrings2.xml",
                        0xF0000000)
    assert len(raw) < 10_000  # a few kilobytes
    with pytest.raises(tabular.TabularError) as err:
        tabular.read_xlsx(raw, "bombe.xlsx")
    problem = err.value.problem
    assert problem.file == "bombe.xlsx"
    assert problem.message.startswith("classeur XLSX refusé avant lecture : 3\u202f840 Mo une fois décompressé "
                                      "(au plus 1\u202f024 Mo)")
    assert "bombe de décompression" in problem.message


def test_a_member_inflating_a_thousand_times_is_refused_without_being_inflated() -> None:
    raw = _with_member(_workbook(), "xl/worksheets/sheet2.xml", b"\0" * (20 * 1024 * 1024))
    assert len(raw) < 40_000
    tracemalloc.start()
    try:
        with pytest.raises(tabular.TabularError) as err:
            tabular.read_xlsx(raw, "bombe.xlsx")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * 1024 * 1024  # the 20 MB were never decompressed
    message = err.value.problem.message
    assert "« xl/worksheets/sheet2.xml »" in message and "(au plus 200)" in message
    assert err.value.problem.file == "bombe.xlsx"


def test_too_many_members(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tabular, "MAX_ZIP_MEMBERS", 5)
    with pytest.raises(tabular.TabularError) as err:
        tabular.read_xlsx(_workbook(), "membres.xlsx")
    assert "fichiers dedans (au plus 5)" in err.value.problem.message


def test_the_bound_is_on_the_decompressed_size_not_on_compressible_content() -> None:
    """A large member that compresses moderately (a real sheet) is accepted: the ratio rule
    only refuses what no spreadsheet does."""
    text = "".join(f'<row r="{n}"><c r="A{n}"><v>{n * 7919 % 100003}</v></c></row>' for n in range(60_000))
    raw = _with_member(_workbook(), "xl/worksheets/sheet9.xml", text.encode())
    info = zipfile.ZipFile(io.BytesIO(raw)).getinfo("xl/worksheets/sheet9.xml")
    assert info.file_size > tabular.ZIP_RATIO_FROM
    assert tabular.zip_bomb_problem(zipfile.ZipFile(io.BytesIO(raw)).infolist()) is None
