"""Worked examples of the French late-payment law, checked to the cent.

Published examples come from ``../shared/realdata/interest/french_late_payment_examples.csv``
(each row names its source); the other figures are computed by hand in the docstrings.
Rates used (shipped tables, see ``docs/law.md``): default L441-10 rate 14.50 % in 2024-S1 (ECB 4.50
on 1 Jan 2024), 14.25 % in 2024-S2 (ECB 4.25 on 1 Jul 2024), 13.15 % in 2025-S1; legal rate
« autres cas » 5.07 (2024-S1), 4.92 (2024-S2), 3.71 (2025-S1), 2.76 (2025-S2); « particuliers »
7.21 (2025-S1), 6.65 (2025-S2).
"""

from __future__ import annotations

import csv
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from relance.core.law import (
    Interruption,
    LegalRateRow,
    MissingRate,
    RateTables,
    Semester,
    charges_regime,
    check_terms,
    compute_legal_interest,
    compute_penalties,
    default_due_date,
    legal_rate_row,
    max_45_days_end_of_month,
    prescription,
    recovery_indemnity,
    simple_interest,
    total_flat_indemnities,
)
from relance.core.law.rates import EcbRateRow
from relance.core.money import to_cents

D = Decimal
EXAMPLES_DIR = Path(__file__).resolve().parents[3] / "shared" / "realdata" / "interest"
EXAMPLES = EXAMPLES_DIR / "french_late_payment_examples.csv"
_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*% p\.a\.")


def _published_rows() -> list[dict[str, str]]:
    if not EXAMPLES.exists():
        return []
    with EXAMPLES.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _arithmetic_cases() -> list[Any]:
    """Rows published and re-checked (``matches_published == yes``) with one rate and one day count."""
    rows = _published_rows()
    if not rows:
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"published examples not found: {EXAMPLES} is absent"))]
    cases = []
    for row in rows:
        rate = _RATE.match(row["rates"])
        if row["matches_published"] != "yes" or not rate or not row["days"].strip().isdigit():
            continue  # not applicable: not re-checked, several periods, or a rate not stated as a number
        cases.append(pytest.param(row, id=row["case_id"]))
    return cases


@pytest.mark.parametrize("row", _arithmetic_cases())
def test_published_single_period_examples(row: dict[str, str]) -> None:
    """amount × rate × days / 365, rounded half up to the cent = the published figure."""
    rate = D(_RATE.match(row["rates"]).group(1))  # type: ignore[union-attr]
    exact = simple_interest(D(row["amount_eur"]), rate, int(row["days"]))
    assert to_cents(exact) == D(row["expected_interest_eur"])


def test_the_arithmetic_cases_cover_the_applicable_rows() -> None:
    rows = _published_rows()
    if not rows:
        pytest.skip(f"published examples not found: {EXAMPLES} is absent")
    ids = {p.id for p in _arithmetic_cases()}
    assert ids == {"FR-PEN-01", "FR-PEN-02", "FR-PEN-03", "FR-TIL-02", "GEN-DUN-01", "GEN-DUN-02"}


def _row(case_id: str) -> dict[str, str]:
    rows = {r["case_id"]: r for r in _published_rows()}
    if case_id not in rows:
        pytest.skip(f"published example {case_id} not found in {EXAMPLES}")
    return rows[case_id]


def test_fr_pen_01_with_its_dates_through_compute_penalties() -> None:
    """15 000 € TTC due 15/04/2018, paid 15/05/2018 at the invoice’s 15 %: 30 days -> 184,93 €.

    15 % is above the 2018-S1 floor (3 × 0,89 = 2,67 %), so it applies as is.
    """
    row = _row("FR-PEN-01")
    result = compute_penalties(D(row["amount_eur"]), date(2018, 4, 15), date(2018, 5, 15), contractual_rate="15",
                               issue_date=date(2018, 2, 15))
    assert result.days_late == int(row["days"]) == 30
    assert (result.periods[0].start, result.periods[-1].end) == (date.fromisoformat(row["start_date"]),
                                                                 date.fromisoformat(row["end_date"]))
    assert result.total == D(row["expected_interest_eur"]) == D("184.93")
    assert result.warnings == ()
    assert result.indemnity == D("40.00")


def test_fr_til_01_judgment_interest_simple_then_majorated() -> None:
    """2 000 € from 01/01/2000 (decision enforceable that day) to 10/04/2001, pre-2015 annual rates
    2,74 % (2000) and 4,26 % (2001), + 5 points two months after the decision (L313-3):

    * 02/01/2000 to 01/03/2000, 60 days at 2,74 %:   2000 × 2,74 % × 60 / 365  =   9,0082 ->   9,01
    * 02/03/2000 to 31/12/2000, 305 days at 7,74 %:  2000 × 7,74 % × 305 / 365 = 129,3534 -> 129,35
    * 01/01/2001 to 10/04/2001, 100 days at 9,26 %:  2000 × 9,26 % × 100 / 365 =  50,7397 ->  50,74
    * total 189,1014 -> 189,10 (365 days in 2000 although it is a leap year, as the source does).

    The pre-2015 rates are not shipped: they are given as extra rows, as the application does.
    """
    row = _row("FR-TIL-01")
    source = row["source_url"]
    tables = RateTables.load(extra_legal=[
        LegalRateRow(Semester(2000, 1), D("2.74"), D("2.74"), sources=(source,)),
        LegalRateRow(Semester(2000, 2), D("2.74"), D("2.74"), sources=(source,)),
        LegalRateRow(Semester(2001, 1), D("4.26"), D("4.26"), sources=(source,)),
    ])
    result = compute_legal_interest(D(row["amount_eur"]), date(2000, 1, 1), date(2001, 4, 10),
                                    judgment_enforceable=date(2000, 1, 1), tables=tables)
    assert result.days == 60 + 305 + 100
    assert result.majoration_from == date(2000, 3, 2)
    by_rate: dict[Decimal, tuple[int, Decimal]] = {}
    for p in result.periods:
        days, exact = by_rate.get(p.rate, (0, D(0)))
        by_rate[p.rate] = (days + p.days, exact + p.amount_exact)
    assert {rate: (days, to_cents(exact)) for rate, (days, exact) in by_rate.items()} == {
        D("2.74"): (60, D("9.01")), D("7.74"): (305, D("129.35")), D("9.26"): (100, D("50.74")),
    }
    assert result.total == D(row["expected_interest_eur"]) == D("189.10")
    assert "C. mon. fin. L313-3" in result.legal_basis


def test_fr_pen_04_is_not_a_truth_oracle_we_compute_the_exact_rounding() -> None:
    """The forum’s 18,87 € is off by a cent: 6 216,16 × 0,88 % × 126 / 365 = 18,8835 -> 18,88."""
    assert to_cents(simple_interest(D("6216.16"), D("0.88"), 126)) == D("18.88")


# --- hand-checked penalty cases --------------------------------------------------------------------


def test_derived_case_split_by_semester_235_27() -> None:
    """10 000 € due 15/06/2024, paid 14/08/2024, default rate:

    * 16/06 to 30/06/2024, 15 days at 14,50 %: 10 000 × 14,50 % × 15 / 365 =  59,5890 ->  59,59
    * 01/07 to 14/08/2024, 45 days at 14,25 %: 10 000 × 14,25 % × 45 / 365 = 175,6849 -> 175,68
    * total 235,2740 -> 235,27 € (a single rate would give 238,36 € or 234,25 €).
    """
    result = compute_penalties(D("10000.00"), date(2024, 6, 15), date(2024, 8, 14))
    assert result.days_late == 60
    assert [(p.start, p.end, p.days, p.base, p.rate, p.amount) for p in result.periods] == [
        (date(2024, 6, 16), date(2024, 6, 30), 15, D("10000.00"), D("14.50"), D("59.59")),
        (date(2024, 7, 1), date(2024, 8, 14), 45, D("10000.00"), D("14.25"), D("175.68")),
    ]
    assert result.total == D("235.27")
    assert result.indemnity == D("40.00")
    assert result.total_with_indemnity == D("275.27")
    assert result.legal_basis == ("C. com. L441-10 II", "C. com. D441-5")
    assert "1er janvier 2024" in result.periods[0].rate_basis
    assert "1er juillet 2024" in result.periods[1].rate_basis


def test_partial_payment_lowers_the_base_from_the_next_day() -> None:
    """12 000 € due 31/05/2024, 3 000 € paid on 10/06/2024, the balance on 14/08/2024, default rate:

    * 01/06 to 10/06/2024, 10 days on 12 000 at 14,50 %: 12 000 × 14,50 % × 10 / 365 =  47,6712
    * 11/06 to 30/06/2024, 20 days on  9 000 at 14,50 %:  9 000 × 14,50 % × 20 / 365 =  71,5068
    * 01/07 to 14/08/2024, 45 days on  9 000 at 14,25 %:  9 000 × 14,25 % × 45 / 365 = 158,1164
    * exact sum = (1 740 000 + 2 610 000 + 5 771 250) / 36 500 = 277,2945 -> 277,29 €; 75 days late;
      one indemnity of 40 €.
    """
    result = compute_penalties(D("12000"), date(2024, 5, 31), date(2024, 8, 14),
                               payments=[(date(2024, 6, 10), D("3000"))])
    assert result.days_late == 75
    assert [(p.start, p.end, p.days, p.base, p.rate) for p in result.periods] == [
        (date(2024, 6, 1), date(2024, 6, 10), 10, D("12000"), D("14.50")),
        (date(2024, 6, 11), date(2024, 6, 30), 20, D("9000"), D("14.50")),
        (date(2024, 7, 1), date(2024, 8, 14), 45, D("9000"), D("14.25")),
    ]
    assert [p.amount for p in result.periods] == [D("47.67"), D("71.51"), D("158.12")]
    assert result.total == D("277.29")
    assert result.indemnity == D("40.00")


def test_payment_before_the_due_date_lowers_the_base_from_the_start() -> None:
    """2 000 € due 31/05/2024, 500 € paid 20/05, the rest 30/06: 30 days on 1 500 at 14,50 %
    = 1 500 × 14,50 % × 30 / 365 = 17,8767 -> 17,88 €."""
    result = compute_penalties(D("2000"), date(2024, 5, 31), date(2024, 6, 30), payments=[(date(2024, 5, 20), "500")])
    assert [(p.base, p.days) for p in result.periods] == [(D("1500"), 30)]
    assert result.total == D("17.88")


def test_across_a_year_boundary() -> None:
    """5 000 € due 15/12/2024, paid 20/01/2025, default rate:

    * 16/12 to 31/12/2024, 16 days at 14,25 %: 5 000 × 14,25 % × 16 / 365 = 31,2329
    * 01/01 to 20/01/2025, 20 days at 13,15 % (ECB 3,15 on 1 Jan 2025): 5 000 × 13,15 % × 20 / 365 = 36,0274
    * total 67,2603 -> 67,26 €.
    """
    result = compute_penalties(D("5000"), date(2024, 12, 15), date(2025, 1, 20))
    assert [(p.days, p.rate) for p in result.periods] == [(16, D("14.25")), (20, D("13.15"))]
    assert result.total == D("67.26")


def test_leap_year_still_divides_by_365() -> None:
    """10 000 € due 01/02/2024, paid 01/03/2024: 29 days (29 February included) at 14,50 %:
    10 000 × 14,50 % × 29 / 365 = 115,2055 -> 115,21 € (with /366 it would be 114,89 €)."""
    result = compute_penalties(D("10000"), date(2024, 2, 1), date(2024, 3, 1))
    assert result.days_late == 29
    assert result.total == D("115.21")


def test_rounding_happens_once_on_the_exact_sum() -> None:
    """1 000 € due 25/06/2024, paid 20/07/2024: 5 days at 14,50 % = 1,9863 (shown 1,99) and 20 days at
    14,25 % = 7,8082 (shown 7,81); the shown pieces add up to 9,80 but the total is 9,7945 -> 9,79 €."""
    result = compute_penalties(D("1000"), date(2024, 6, 25), date(2024, 7, 20))
    assert [p.amount for p in result.periods] == [D("1.99"), D("7.81")]
    assert sum(p.amount for p in result.periods) == D("9.80")
    assert result.total == D("9.79")


def test_contractual_rate_under_the_floor_is_raised_with_a_warning() -> None:
    """5 % stipulated, 2024-S1: floor 3 × 5,07 = 15,21 %. 10 000 € due 01/03/2024, paid 30/04/2024:
    60 days × 15,21 % = 10 000 × 15,21 % × 60 / 365 = 250,0274 -> 250,03 €."""
    result = compute_penalties(D("10000"), date(2024, 3, 1), date(2024, 4, 30), contractual_rate=D("5"))
    assert [p.rate for p in result.periods] == [D("15.21")]
    assert result.total == D("250.03")
    assert result.floor_semesters == (Semester(2024, 1),)
    assert len(result.warnings) == 1
    assert "2024-S1" in result.warnings[0] and "15,21" in result.warnings[0] and "5\u00a0%" in result.warnings[0]
    assert result.contractual_rate == D("5")


def test_the_floor_is_checked_semester_by_semester() -> None:
    """15 % stipulated, 10 000 € due 15/06/2024, paid 14/08/2024: under the 2024-S1 floor (15,21 %),
    above the 2024-S2 floor (14,76 %):
    10 000 × 15,21 % × 15 / 365 = 62,5068 ; 10 000 × 15 % × 45 / 365 = 184,9315 ; total 247,4384 -> 247,44 €."""
    result = compute_penalties(D("10000"), date(2024, 6, 15), date(2024, 8, 14), contractual_rate="15")
    assert [(p.rate, p.rate_basis.startswith("plancher")) for p in result.periods] == [
        (D("15.21"), True), (D("15"), False),
    ]
    assert result.floor_semesters == (Semester(2024, 1),)
    assert result.total == D("247.44")


def test_contractual_rate_above_the_floor_applies_without_warning() -> None:
    """20 % stipulated, 1 000 € due 31/01/2025, paid 02/03/2025: 30 days = 1 000 × 20 % × 30 / 365 = 16,4384."""
    result = compute_penalties(D("1000"), date(2025, 1, 31), date(2025, 3, 2), contractual_rate="20,0")
    assert result.total == D("16.44")
    assert result.warnings == ()
    assert result.floor_semesters == ()


def test_paid_on_the_due_date_costs_nothing() -> None:
    result = compute_penalties(D("10000"), date(2024, 6, 15), date(2024, 6, 15))
    assert (result.days_late, result.periods, result.total, result.indemnity) == (0, (), D("0.00"), D("0.00"))


# --- consumers -----------------------------------------------------------------------------------


def test_consumer_debtor_no_penalties_no_indemnity_legal_interest_from_the_formal_notice() -> None:
    """A company chases a consumer for 1 000 €, formal notice on 10/03/2025, paid 10/09/2025.

    No L441-10 penalty, no 40 € indemnity. Legal interest from the formal notice at the « autres cas »
    rate (the creditor is a company):
    * 11/03 to 30/06/2025, 112 days at 3,71 %: 1 000 × 3,71 % × 112 / 365 = 11,3841
    * 01/07 to 10/09/2025,  72 days at 2,76 %: 1 000 × 2,76 % ×  72 / 365 =  5,4444
    * total 16,8285 -> 16,83 €. An individual creditor (7,21 % and 6,65 %) would get
      (807 520 + 478 800) / 36 500 = 35,2416 -> 35,24 €.
    """
    penalties = compute_penalties(D("1000"), date(2025, 2, 1), date(2025, 9, 10), debtor="consumer")
    assert (penalties.total, penalties.indemnity, penalties.periods) == (D("0.00"), D("0.00"), ())
    assert "mise en demeure" in penalties.warnings[0]
    regime = charges_regime("consumer")
    assert (regime.late_charge, regime.runs_from, regime.indemnity) == ("legal_interest", "formal_notice", False)

    interest = compute_legal_interest(D("1000"), date(2025, 3, 10), date(2025, 9, 10), creditor="business")
    assert interest.category == "other"
    assert [(p.start, p.end, p.days, p.rate) for p in interest.periods] == [
        (date(2025, 3, 11), date(2025, 6, 30), 112, D("3.71")),
        (date(2025, 7, 1), date(2025, 9, 10), 72, D("2.76")),
    ]
    assert interest.total == D("16.83")
    individual = compute_legal_interest(D("1000"), date(2025, 3, 10), date(2025, 9, 10), creditor="individual")
    assert individual.total == D("35.24")
    assert recovery_indemnity(30, "consumer").claimed == D("0.00")


def test_business_debtor_regime_is_penalties_and_indemnity() -> None:
    regime = charges_regime("business")
    assert (regime.late_charge, regime.runs_from, regime.indemnity) == ("penalties", "due_date", True)
    assert charges_regime("consumer", contract_clause=True).indemnity is False


# --- missing rates -------------------------------------------------------------------------------


def test_missing_2026_s2_legal_rate_names_the_semester_and_the_command() -> None:
    with pytest.raises(MissingRate) as caught:
        compute_legal_interest(D("1000"), date(2026, 6, 1), date(2026, 7, 15))
    error = caught.value
    assert error.semester == Semester(2026, 2)
    assert error.table == "legal"
    assert "2026-S2" in str(error)
    assert "relance rates add --semestre 2026-S2 --particuliers X --autres Y" in str(error)


def test_missing_2026_s2_ecb_rate_names_the_command_and_the_last_decision() -> None:
    with pytest.raises(MissingRate) as caught:
        compute_penalties(D("1000"), date(2026, 6, 1), date(2026, 7, 15))
    assert caught.value.table == "ecb"
    assert "relance rates add --semestre 2026-S2 --bce X" in str(caught.value)
    assert "1er juillet 2026" in str(caught.value) and "19 mars 2026" in str(caught.value)


def test_adding_the_missing_semester_makes_the_computation_possible() -> None:
    """With 2026-S2 added by the user (ECB 2,40 on 1 July -> 12,40 %), 1 000 € due 01/06/2026 paid
    15/07/2026: 29 days at 12,15 % + 15 days at 12,40 % = (352 350 + 186 000) / 36 500 = 14,7493 -> 14,75 €."""
    tables = RateTables.load(extra_legal=[legal_rate_row("2026-S2", "6.5", "2.5")],
                             extra_ecb=[EcbRateRow.fixing("2026-S2", "2.40")])
    result = compute_penalties(D("1000"), date(2026, 6, 1), date(2026, 7, 15), tables=tables)
    assert [(p.days, p.rate) for p in result.periods] == [(29, D("12.15")), (15, D("12.40"))]
    assert result.total == D("14.75")


# --- indemnity -----------------------------------------------------------------------------------


def test_one_indemnity_per_invoice_even_with_partial_payments() -> None:
    result = compute_penalties(D("9000"), date(2024, 3, 31), date(2024, 9, 30), payments=[
        (date(2024, 4, 30), D("3000")), (date(2024, 5, 31), D("3000")), (date(2024, 6, 30), D("2000")),
    ])
    assert result.indemnity == D("40.00")
    assert total_flat_indemnities([result.days_late, 0, 3, 120]) == D("120.00")  # three late invoices


def test_indemnity_and_justified_costs() -> None:
    flat = recovery_indemnity(1)
    assert (flat.flat_amount, flat.complement, flat.claimed) == (D("40.00"), D("0.00"), D("40.00"))
    assert "hors TVA" in flat.basis
    assert recovery_indemnity(0).claimed == D("0.00")
    higher = recovery_indemnity(10, justified_costs=D("150.00"))
    assert (higher.flat_amount, higher.complement, higher.claimed) == (D("40.00"), D("110.00"), D("150.00"))
    assert "sur justification" in higher.basis
    assert recovery_indemnity(10, justified_costs=D("25")).claimed == D("40.00")
    assert recovery_indemnity(10, insolvency_bars_payment=True).claimed == D("0.00")


# --- payment terms -------------------------------------------------------------------------------


def test_terms_worked_example_15_january() -> None:
    """Invoice of 15 January 2025: 45 days end of month = 31 March (15 Jan + 45 days = 1 March, then
    end of month) or 17 March (31 January + 45 days); in the leap year 2024, 31 January + 45 = 16 March.
    60 days after 15/01/2025 = 16/03/2025."""
    assert max_45_days_end_of_month(date(2025, 1, 15), "eom_after") == date(2025, 3, 31)
    assert max_45_days_end_of_month(date(2025, 1, 15), "eom_before") == date(2025, 3, 17)
    assert max_45_days_end_of_month(date(2025, 1, 15), "shortest") == date(2025, 3, 17)
    assert max_45_days_end_of_month(date(2024, 1, 15), "eom_before") == date(2024, 3, 16)
    # in 2024 (leap), 15 Jan + 45 days = 29 February: end of that month is 29 February
    assert max_45_days_end_of_month(date(2024, 1, 15), "eom_after") == date(2024, 2, 29)

    check = check_terms(date(2025, 1, 15), date(2025, 4, 15), convention="eom_after")
    assert (check.max_60_days, check.max_45_eom, check.legal_max) == (date(2025, 3, 16), date(2025, 3, 31),
                                                                      date(2025, 3, 31))
    assert (check.exceeds, check.days_over) == (True, 15)
    assert check.warning is not None and "L441-10 I" in check.warning and "15 jours" in check.warning

    strict = check_terms(date(2025, 1, 15), date(2025, 4, 15), convention="eom_before")
    assert (strict.legal_max, strict.days_over) == (date(2025, 3, 17), 29)


def test_terms_within_and_between_the_two_limits() -> None:
    ok = check_terms(date(2025, 1, 15), date(2025, 3, 16))
    assert (ok.exceeds, ok.days_over, ok.warning, ok.notes) == (False, 0, None, ())
    between = check_terms(date(2025, 1, 15), date(2025, 3, 17))  # day 61, within 45 days end of month
    assert between.exceeds is False
    assert "expressément stipulé" in between.notes[0]


def test_default_term_is_30_days_after_delivery() -> None:
    assert default_due_date(date(2025, 1, 10)) == date(2025, 2, 9)
    check = check_terms(date(2025, 1, 20), date(2025, 2, 19), delivery_date=date(2025, 1, 10), agreed=False)
    assert (check.legal_max, check.exceeds, check.days_over) == (date(2025, 2, 9), True, 10)


# --- prescription --------------------------------------------------------------------------------


def test_prescription_business_five_years_from_performance() -> None:
    result = prescription(date(2020, 4, 15), "business", performance_date=date(2020, 3, 15), as_of=date(2024, 1, 10))
    assert (result.start, result.years, result.deadline) == (date(2020, 3, 15), 5, date(2025, 3, 15))
    assert (result.days_left, result.expired, result.alert) == (430, False, None)
    assert (result.warn_6_months_from, result.warn_1_month_from) == (date(2024, 9, 15), date(2025, 2, 15))
    assert "C. com. L110-4" in result.legal_basis
    assert prescription(date(2020, 4, 15), "business", date(2020, 3, 15), as_of=date(2024, 9, 15)).alert == "6_months"
    assert prescription(date(2020, 4, 15), "business", date(2020, 3, 15), as_of=date(2025, 2, 15)).alert == "1_month"
    last_day = prescription(date(2020, 4, 15), "business", date(2020, 3, 15), as_of=date(2025, 3, 15))
    assert (last_day.expired, last_day.days_left) == (False, 0)
    late = prescription(date(2020, 4, 15), "business", date(2020, 3, 15), as_of=date(2025, 3, 16))
    assert (late.expired, late.alert, late.days_left) == (True, "expired", -1)


def test_prescription_consumer_two_years() -> None:
    result = prescription(date(2024, 3, 1), "consumer", performance_date=date(2024, 2, 1), as_of=date(2025, 9, 1))
    assert result.deadline == date(2026, 2, 1)
    assert result.alert == "6_months"
    assert "C. conso L218-2" in result.legal_basis
    assert prescription(date(2024, 2, 29), "consumer", date(2024, 2, 29), as_of=date(2024, 3, 1)).deadline == \
        date(2026, 2, 28)


def test_acknowledgment_restarts_a_full_period_but_a_formal_notice_does_not() -> None:
    base = prescription(date(2022, 6, 30), "business", date(2022, 6, 1), as_of=date(2026, 1, 1))
    assert base.deadline == date(2027, 6, 1)
    with_notice = prescription(date(2022, 6, 30), "business", date(2022, 6, 1),
                               interruptions=[Interruption(date(2025, 1, 10), "formal_notice")], as_of=date(2026, 1, 1))
    assert with_notice.deadline == date(2027, 6, 1)
    assert with_notice.restarted_on is None
    assert any("20-23.204" in w for w in with_notice.warnings)
    acknowledged = prescription(date(2022, 6, 30), "business", date(2022, 6, 1),
                                interruptions=[date(2024, 5, 2), Interruption(date(2025, 1, 10), "partial_payment")],
                                as_of=date(2026, 1, 1))
    assert acknowledged.deadline == date(2030, 1, 10)
    assert acknowledged.restarted_on == date(2025, 1, 10)


def test_an_act_after_expiry_does_not_revive_the_claim() -> None:
    result = prescription(date(2021, 1, 31), "consumer", date(2021, 1, 31),
                          interruptions=[date(2023, 3, 1)], as_of=date(2023, 4, 1))
    assert result.deadline == date(2023, 1, 31)
    assert result.expired is True
    assert any("déjà acquise" in w for w in result.warnings)
