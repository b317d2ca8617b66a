"""Semesters, rate look-ups, extra rows supplied by the caller, missing rates."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from relance.core.law import (
    EcbRateRow,
    LawInputError,
    LegalRateRow,
    MissingRate,
    RateTables,
    Semester,
    legal_rate_row,
    parse_rate,
    semester_of,
)

D = Decimal
TABLES = RateTables.shipped()


def test_semester_basics() -> None:
    s1 = Semester(2026, 1)
    assert str(s1) == "2026-S1"
    assert (s1.start, s1.end) == (date(2026, 1, 1), date(2026, 6, 30))
    assert (Semester(2026, 2).start, Semester(2026, 2).end) == (date(2026, 7, 1), date(2026, 12, 31))
    assert s1.next() == Semester(2026, 2) and Semester(2026, 2).next() == Semester(2027, 1)
    assert Semester.parse("2026-S2") == Semester.parse("2026s2") == Semester(2026, 2)
    assert semester_of(date(2024, 6, 30)) == Semester(2024, 1)
    assert semester_of(date(2024, 7, 1)) == Semester(2024, 2)
    assert Semester(2024, 1).label_fr == "1er semestre 2024"
    with pytest.raises(LawInputError):
        Semester.parse("2026-S3")
    with pytest.raises(LawInputError):
        Semester(2026, 0)


def test_legal_rate_by_creditor_category() -> None:
    assert TABLES.legal_rate("2024-S1", "individual") == D("8.01")
    assert TABLES.legal_rate(Semester(2024, 1), "other") == D("5.07")
    assert TABLES.legal_rate("2026-S1", "other") == D("2.62")
    assert TABLES.penalty_floor("2024-S1") == D("15.21")
    with pytest.raises(LawInputError):
        TABLES.legal_rate("2024-S1", "consumer")  # type: ignore[arg-type]


def test_ecb_rate_from_change_and_hold_rows_never_extrapolated() -> None:
    assert TABLES.ecb_rate_on(date(2016, 1, 1)) == D("0.05")
    assert TABLES.ecb_rate_on(date(2016, 3, 15)) == D("0.05")
    assert TABLES.ecb_rate_on(date(2016, 3, 16)) == D("0.00")
    assert TABLES.ecb_rate_on(date(2022, 7, 1)) == D("0.00")  # the 27 July 2022 hike came after 1 July
    assert TABLES.ecb_rate_on(date(2024, 7, 1)) == D("4.25")
    assert TABLES.ecb_rate_on(date(2026, 3, 19)) == D("2.15")  # last hold: still in force that day
    with pytest.raises(MissingRate) as caught:
        TABLES.ecb_rate_on(date(2026, 3, 20))
    assert caught.value.semester == Semester(2026, 1)
    with pytest.raises(MissingRate):
        TABLES.ecb_rate_on(date(2014, 9, 9))  # before the first known decision


def test_default_penalty_rate_per_semester() -> None:
    assert TABLES.default_penalty_rate("2022-S2") == D("10.00")
    assert TABLES.default_penalty_rate("2023-S1") == D("12.50")
    assert TABLES.default_penalty_rate("2024-S1") == D("14.50")
    assert TABLES.default_penalty_rate("2024-S2") == D("14.25")  # not 13.65: the 18 Sep 2024 cut came later
    assert TABLES.default_penalty_rate("2026-S1") == D("12.15")
    with pytest.raises(MissingRate) as caught:
        TABLES.default_penalty_rate("2026-S2")
    assert caught.value.semester == Semester(2026, 2)
    assert "--semestre 2026-S2 --bce X" in caught.value.hint


def test_missing_legal_rate_message_in_french() -> None:
    with pytest.raises(MissingRate) as caught:
        TABLES.legal_rate("2026-S2", "other")
    assert str(caught.value) == (
        "Taux manquant pour le semestre 2026-S2 : taux de l’intérêt légal (C. mon. fin. L313-2). Ajoutez-le dès sa "
        "publication par arrêté (Journal officiel, Banque de France) avec : "
        "relance rates add --semestre 2026-S2 --particuliers X --autres Y"
    )


def test_extra_rows_from_the_caller() -> None:
    tables = RateTables.load(extra_legal=[legal_rate_row("2026-S2", "6,50", "2.40")],
                             extra_ecb=[EcbRateRow.fixing("2026-S2", "2.40")])
    assert tables.legal_rate("2026-S2", "individual") == D("6.50")
    assert tables.penalty_floor("2026-S2") == D("7.20")
    assert tables.ecb_rate_on(date(2026, 7, 1)) == D("2.40")
    assert tables.default_penalty_rate("2026-S2") == D("12.40")
    with pytest.raises(MissingRate):
        tables.ecb_rate_on(date(2026, 6, 1))  # the fixing row tells one day only
    assert tables.conflicts == ()
    assert TABLES.legal_rows == RateTables.shipped().legal_rows  # the shipped tables are unchanged
    with pytest.raises(MissingRate):
        TABLES.legal_rate("2026-S2", "other")


def test_a_conflicting_extra_row_keeps_the_shipped_value_and_says_so() -> None:
    tables = TABLES.with_extra([LegalRateRow(Semester(2024, 1), D("8.00"), D("5.00"))],
                               [EcbRateRow.fixing("2024-S2", "3.65")])
    assert tables.legal_rate("2024-S1", "other") == D("5.07")
    assert tables.default_penalty_rate("2024-S2") == D("14.25")
    assert len(tables.conflicts) == 2
    assert "2024-S1" in tables.conflicts[0]
    same = TABLES.with_extra([LegalRateRow(Semester(2024, 1), D("8.01"), D("5.07"))])
    assert same.conflicts == ()


def test_parse_rate() -> None:
    assert parse_rate("12,5") == D("12.5")
    assert parse_rate("12.5 %") == D("12.5")
    assert parse_rate(10) == D("10")
    assert parse_rate(0.1) == D("0.1")
    for bad in ("douze", "-1", -0.5, None, True, "NaN", "Infinity", [1]):
        with pytest.raises(LawInputError):
            parse_rate(bad)
