"""The OFX reader is linear in its input (issue #11): hostile SGML that was quadratic (a 4 MB file took
minutes) is read in time proportional to its size. Measured without the clock's noise: the lines the
reader executes are counted (``sys.settrace`` on ofx.py only) for a file and one four times larger; the
one case that lives inside the regular-expression engine (a ``<`` followed by a megabyte without ``>``)
has a bound of seconds where the old pattern needed hours. docs/performance.md records the timings."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

import pytest

from relance.core.formats.bank import ofx

HEAD = "OFXHEADER:100\nDATA:OFXSGML\nCHARSET:1252\n\n<OFX>"

SHAPES: dict[str, Callable[[int], str]] = {
    "unclosed nested tags, then unmatched closings": lambda n: HEAD + "<STMTRS>" + "<A>" * (n // 8) + "</B>" * (n // 8),
    "unclosed nested tags closed from the inside": lambda n: HEAD + "<A><B>" * (n // 12) + "</B>" * (n // 8),
    "nested statements": lambda n: HEAD + "<STMTRS><BANKTRANLIST><STMTTRN><TRNAMT>1" * (n // 40),
    "text on one element": lambda n: HEAD + "<A><B>t</B>" + "x</C>" * (n // 5),
    "statement of many lines": lambda n: HEAD + "<BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>EUR<BANKTRANLIST>" + (
        "<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20261102<TRNAMT>120.50<FITID>F1<NAME>DURAND<MEMO>FA-1</STMTTRN>"
        * (n // 100)),
}


def _lines_executed(data: bytes) -> int:
    count = 0
    target = ofx.__file__

    def local(frame: FrameType, event: str, arg: Any) -> Callable[..., Any] | None:
        nonlocal count
        count += 1
        return local

    def global_trace(frame: FrameType, event: str, arg: Any) -> Callable[..., Any] | None:
        return local if frame.f_code.co_filename == target else None

    previous = sys.gettrace()
    sys.settrace(global_trace)
    try:
        ofx.parse(data, "hostile.ofx")
    except ofx.BankFormatError:
        pass
    finally:
        sys.settrace(previous)
    return count


@pytest.mark.parametrize("shape", list(SHAPES))
def test_work_grows_linearly(shape: str) -> None:
    small = _lines_executed(SHAPES[shape](50_000).encode())
    large = _lines_executed(SHAPES[shape](200_000).encode())
    assert large <= 4.5 * small, (small, large)  # quadratic would be 16 times


def test_a_tag_never_closed_costs_one_scan() -> None:
    data = (HEAD + "<STMTRS><A" + "x" * 1_000_000).encode()
    started = time.process_time()
    result = ofx.parse(data, "hostile.ofx")
    assert time.process_time() - started < 2.0  # the backtracking pattern took hours on this megabyte
    assert result.statements and not result.statements[0].lines


def test_unmatched_closing_tags_are_reported_once_summarised() -> None:
    result = ofx.parse((HEAD + "<STMTRS><CURDEF>EUR" + "</NOPE>" * 5000).encode(), "x.ofx")
    messages = [p.message for p in result.problems]
    assert len(messages) <= ofx.MAX_TAG_PROBLEMS + 3
    assert any("4900 autres balises fermantes" in m for m in messages)


def test_nested_statements_count_each_transaction_once() -> None:
    trn = "<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20261102<TRNAMT>10.00<FITID>{0}<NAME>N{0}</STMTTRN>"
    text = HEAD + "<STMTRS><CURDEF>EUR<BANKTRANLIST>" + trn.format(1) + "<STMTRS><CURDEF>EUR<BANKTRANLIST>" + \
        trn.format(2) + "</BANKTRANLIST></STMTRS></BANKTRANLIST></STMTRS></OFX>"
    result = ofx.parse(text.encode(), "x.ofx")
    refs = sorted(line.bank_reference for s in result.statements for line in s.lines)
    assert refs == ["1", "2"]
