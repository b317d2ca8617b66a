"""The rate tables shipped in ``relance/core/law/data`` against the shared reference tables.

Every shipped rate must equal the value of ``/work/shared/reference/*.csv`` (and of
``realdata/interest/french_reference_rates.csv`` where it has it), and every reference rate must be
shipped. Skipped, with a message, when the shared folder is absent.
"""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path

import pytest

from relance.core.law import MissingRate, RateTables, Semester
from relance.core.law.rates import read_ecb_rows, read_legal_rows

D = Decimal
SHARED = Path(__file__).resolve().parents[3] / "shared"
REFERENCE = SHARED / "reference"
REALDATA = SHARED / "realdata" / "interest"
TABLES = RateTables.shipped()


def _reference(name: str) -> list[list[str]]:
    path = REFERENCE / name
    if not path.exists():
        pytest.skip(f"shared reference table absent: {path} (the shipped tables cannot be compared)")
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    return rows[1:]  # the header line documents the columns


def _realdata() -> list[dict[str, str]]:
    path = REALDATA / "french_reference_rates.csv"
    if not path.exists():
        pytest.skip(f"shared realdata table absent: {path}")
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_legal_rates_equal_the_reference_table() -> None:
    reference: dict[Semester, tuple[str, ...]] = {}
    for label, start, end, ind, oth, maj_ind, maj_oth, floor, _arrete, status, _sources in _reference(
            "taux_interet_legal.csv"):
        reference[Semester.parse(label)] = (start, end, ind, oth, maj_ind, maj_oth, floor, status)
    shipped = {row.semester: row for row in TABLES.legal_rows}
    known = {s for s, v in reference.items() if v[2]}
    assert set(shipped) == known  # nothing missing, nothing added
    assert len(known) == 23  # 2015-S1 to 2026-S1
    for semester, row in shipped.items():
        start, end, ind, oth, maj_ind, maj_oth, floor, status = reference[semester]
        assert (semester.start.isoformat(), semester.end.isoformat()) == (start, end)
        assert (row.individual, row.other) == (D(ind), D(oth)), semester
        assert (row.individual + 5, row.other + 5) == (D(maj_ind), D(maj_oth)), semester
        assert TABLES.penalty_floor(semester) == D(floor), semester
        assert row.status == status == "CONFIRMED"
        assert row.sources, f"{semester} has no source"
    for semester in set(reference) - known:
        assert reference[semester][7] == "UNCONFIRMED"
        with pytest.raises(MissingRate):
            TABLES.legal_rate(semester, "other")


def test_ecb_rows_equal_the_reference_table() -> None:
    reference = [(r[0].removeprefix("mro_"), date.fromisoformat(r[1]), D(r[4]), r[7])
                 for r in _reference("ecb_mro_rates.csv") if r[0] in ("mro_change", "mro_hold")]
    shipped = [(r.kind, r.effective_date, r.rate, r.status) for r in TABLES.ecb_rows]
    assert shipped == reference
    assert all(r.sources for r in TABLES.ecb_rows)


def test_default_penalty_rates_and_floors_equal_the_reference_semesters() -> None:
    checked = 0
    for row in _reference("ecb_mro_rates.csv"):
        if row[0] != "l441_10_semester":
            continue
        start = date.fromisoformat(row[2])
        semester = Semester(start.year, 1 if start.month == 1 else 2)
        assert semester.start == start and semester.end == date.fromisoformat(row[3])
        if row[7] == "UNCONFIRMED":
            with pytest.raises(MissingRate) as caught:
                TABLES.default_penalty_rate(semester)
            assert caught.value.table == "ecb"
            continue
        assert TABLES.ecb_rate_on(start) == D(row[4]), semester
        assert TABLES.default_penalty_rate(semester) == D(row[5]), semester
        assert TABLES.penalty_floor(semester) == D(row[6]), semester
        checked += 1
    assert checked == 21  # 2016-S1 to 2026-S1


def test_realdata_rates_agree_where_both_have_them() -> None:
    series = {"taux_interet_legal_particuliers": "individual", "taux_interet_legal_autres_cas": "other"}
    compared = 0
    for row in _realdata():
        start = date.fromisoformat(row["period_start"])
        if row["series"] in series and start >= date(2015, 1, 1):
            semester = Semester(start.year, 1 if start.month == 1 else 2)
            assert TABLES.legal_rate(semester, series[row["series"]]) == D(row["rate_pct"]), row  # type: ignore[arg-type]
            compared += 1
        elif row["series"] == "penalites_BCE_plus_10_default":
            semester = Semester(start.year, 1 if start.month == 1 else 2)
            assert TABLES.default_penalty_rate(semester) == D(row["rate_pct"]) == D("14.25")
            compared += 1
    assert compared == 45  # 22 semesters × 2 categories + the 2024-S2 default penalty rate


def test_shipped_files_are_clean_and_self_describing() -> None:
    data = resources.files("relance.core.law.data")
    legal_text = data.joinpath("legal_interest_rates.csv").read_text(encoding="utf-8")
    ecb_text = data.joinpath("ecb_mro_rates.csv").read_text(encoding="utf-8")
    assert legal_text.startswith("# ") and ecb_text.startswith("# ")
    assert len(read_legal_rows(legal_text)) == 23
    assert len(read_ecb_rows(ecb_text)) == 24
    assert "2026-S2,2026-07-01,2026-12-31,,,,UNCONFIRMED" in legal_text
