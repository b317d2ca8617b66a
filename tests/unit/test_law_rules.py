"""Input validation (French messages), payment allocation (C. civ. 1342-10), no cumulation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from relance.core.law import (
    Debt,
    LawInputError,
    allocate_payment,
    compute_legal_interest,
    compute_penalties,
    describe,
    ensure_not_cumulated,
)

D = Decimal
DUE = date(2024, 6, 15)
PAID = date(2024, 8, 14)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"principal": D("0")}, "strictement positif"),
        ({"principal": D("-10")}, "strictement positif"),
        ({"principal": "abc"}, "montant illisible"),
        ({"contractual_rate": "douze"}, "n’est pas un nombre"),
        ({"contractual_rate": D("-1")}, "négatif"),
        ({"payments": [(date(2024, 7, 1), D("6000")), (date(2024, 7, 2), D("5000"))]}, "dépassent le montant dû"),
        ({"payments": [(date(2024, 7, 1), D("0"))]}, "strictement positif"),
        ({"payments": [(date(2024, 9, 1), D("10"))]}, "postérieur à la date de fin"),
        ({"payments": [(date(2024, 4, 1), D("10"))], "issue_date": date(2024, 5, 1)}, "antérieur à la date de la facture"),
        ({"issue_date": date(2024, 9, 1)}, "antérieure à la date de la facture"),
        ({"paid_date": date(2024, 4, 1), "issue_date": date(2024, 5, 1)}, r"date de paiement \(01/04/2024\) est antérieure"),
        ({"debtor": "state"}, "type de débiteur inconnu"),
    ],
)
def test_penalty_inputs_are_validated_in_french(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"principal": D("10000"), "due_date": DUE, "paid_date": PAID}
    args.update(kwargs)
    with pytest.raises(LawInputError, match=message):
        compute_penalties(**args)  # type: ignore[arg-type]


def test_law_input_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        compute_penalties(D("0"), DUE, PAID)


def test_amounts_may_be_typed_the_french_way() -> None:
    assert compute_penalties("10 000,00", DUE, PAID, payments=[(date(2024, 7, 1), "1 000,00")]).total == \
        compute_penalties(D("10000"), DUE, PAID, payments=[(date(2024, 7, 1), D("1000"))]).total


def test_payments_that_settle_the_invoice_end_the_delay() -> None:
    """The whole 1 000 € paid in two halves on 20/06 and 25/06/2024: 10 days late, not 60."""
    result = compute_penalties(D("1000"), DUE, PAID, payments=[(date(2024, 6, 20), D("500")),
                                                               (date(2024, 6, 25), D("500"))])
    assert result.days_late == 10
    assert result.paid_date == date(2024, 6, 25)
    assert [(p.base, p.days) for p in result.periods] == [(D("1000"), 5), (D("500"), 5)]


def test_paid_before_due_by_partial_payments_means_no_indemnity() -> None:
    result = compute_penalties(D("1000"), DUE, PAID, payments=[(date(2024, 6, 1), D("1000"))])
    assert (result.days_late, result.total, result.indemnity) == (0, D("0.00"), D("0.00"))


def test_consumer_with_a_contract_clause_gets_the_clause_rate_without_floor_nor_indemnity() -> None:
    """10 % stipulated, 1 000 € due 15/06/2024, formal notice the same day, paid 14/08/2024:
    1 000 × 10 % × 60 / 365 = 16,4384 -> 16,44 €."""
    result = compute_penalties(D("1000"), DUE, PAID, contractual_rate="10", debtor="consumer", formal_notice_on=DUE)
    assert result.total == D("16.44")
    assert result.indemnity == D("0.00")
    assert result.floor_semesters == ()
    assert "C. civ. 1231-5" in result.legal_basis


def test_legal_interest_validation() -> None:
    with pytest.raises(LawInputError, match="antérieure à la mise en demeure"):
        compute_legal_interest(D("100"), date(2025, 3, 1), date(2025, 2, 1))
    with pytest.raises(LawInputError, match="type de créancier"):
        compute_legal_interest(D("100"), date(2025, 3, 1), date(2025, 4, 1), creditor="consumer")  # type: ignore[arg-type]
    assert compute_legal_interest(D("100"), date(2025, 3, 1), date(2025, 3, 1)).total == D("0.00")


def test_penalties_and_legal_interest_are_never_charged_for_the_same_days() -> None:
    penalties = compute_penalties(D("1000"), date(2025, 1, 31), date(2025, 4, 30))
    interest = compute_legal_interest(D("1000"), date(2025, 3, 15), date(2025, 4, 30))
    with pytest.raises(LawInputError, match=r"22-24\.275"):
        ensure_not_cumulated(penalties.periods, interest.periods)
    before = compute_penalties(D("1000"), date(2025, 1, 31), date(2025, 3, 15))
    ensure_not_cumulated(before.periods, interest.periods)  # consecutive days: fine


def test_describe_lists_each_period_and_the_total() -> None:
    lines = describe(compute_penalties(D("10000"), DUE, PAID))
    assert lines[0].startswith("Du 16/06/2024 au 30/06/2024 : 10\u202f000,00\u00a0€ × 14,50\u00a0% × 15 / 365 = 59,59")
    assert lines[2] == "Total des pénalités : 235,27\u00a0€ (60 jours de retard)"
    assert lines[3].endswith("40,00\u00a0€")


# --- allocation (C. civ. 1342-10) ------------------------------------------------------------------

DEBTS = [
    ("F-10", date(2024, 3, 31), date(2024, 3, 1), D("300")),
    ("F-9", date(2024, 3, 31), date(2024, 3, 1), D("200")),
    ("F-2", date(2024, 2, 29), date(2024, 1, 30), D("100")),
    ("F-3", date(2024, 2, 29), date(2024, 1, 15), D("150")),
    ("F-20", date(2024, 7, 31), date(2024, 6, 1), D("500")),
]


def test_allocation_due_debts_oldest_first_then_issue_date_then_number() -> None:
    result = allocate_payment(D("700"), DEBTS, date(2024, 6, 15))
    assert [(a.debt_id, a.amount) for a in result.allocations] == [
        ("F-3", D("150")), ("F-2", D("100")), ("F-9", D("200")), ("F-10", D("250")),
    ]
    assert result.unallocated == D("0")


def test_allocation_designated_first_then_not_yet_due_last_and_the_rest_unallocated() -> None:
    result = allocate_payment(D("1500"), DEBTS, date(2024, 6, 15), designated=["F-20", "F-10"])
    assert [(a.debt_id, a.amount) for a in result.allocations] == [
        ("F-20", D("500")), ("F-10", D("300")), ("F-3", D("150")), ("F-2", D("100")), ("F-9", D("200")),
    ]
    assert result.allocations[0].reason == "dette désignée par le débiteur"
    assert result.unallocated == D("250")


def test_allocation_puts_the_not_yet_due_debt_after_the_due_ones() -> None:
    debts = [Debt("A", date(2024, 7, 1), date(2024, 1, 1), D("100")), Debt("B", date(2024, 6, 30), date(2024, 6, 1),
                                                                          D("100"))]
    result = allocate_payment(D("150"), debts, date(2024, 6, 30))
    assert [(a.debt_id, a.amount, a.reason) for a in result.allocations] == [
        ("B", D("100"), "dette échue, la plus ancienne d’abord"), ("A", D("50"), "dette non encore échue"),
    ]


def test_allocation_validation() -> None:
    with pytest.raises(LawInputError, match="strictement positif"):
        allocate_payment(D("0"), DEBTS, date(2024, 6, 15))
    with pytest.raises(LawInputError, match="inconnue"):
        allocate_payment(D("10"), DEBTS, date(2024, 6, 15), designated=["F-99"])
    with pytest.raises(LawInputError, match="double"):
        allocate_payment(D("10"), [*DEBTS, DEBTS[0]], date(2024, 6, 15))


def test_a_consumer_clause_runs_only_from_the_formal_notice() -> None:
    """C. civ. 1231-5 al. 5: the penalty is incurred only once the debtor is put on notice."""
    without = compute_penalties(D("1000"), DUE, PAID, contractual_rate="10", debtor="consumer")
    assert without.total == D("0.00") and without.periods == ()
    assert any("ne court qu’à compter de la mise en demeure" in w for w in without.warnings)
    notice = date(2024, 7, 15)  # 30 days before the payment: 1 000 × 10 % × 30 / 365 = 8,2192
    result = compute_penalties(D("1000"), DUE, PAID, contractual_rate="10", debtor="consumer", formal_notice_on=notice)
    assert result.total == D("8.22") and result.periods[0].start == date(2024, 7, 16)
    assert result.indemnity == D("0.00")
    assert not any("pénalités de retard" in w.lower() for w in result.warnings)


def test_an_excessive_consumer_clause_rate_is_flagged() -> None:
    """Threshold (docs/law.md): the L441-10 default rate between businesses, 14,50 % in 2024-S1…2024-S2."""
    high = compute_penalties(D("1000"), DUE, PAID, contractual_rate="18", debtor="consumer", formal_notice_on=DUE)
    assert any("dépasse le taux BCE majoré de 10 points" in w and "1231-5" in w for w in high.warnings)
    fair = compute_penalties(D("1000"), DUE, PAID, contractual_rate="10", debtor="consumer", formal_notice_on=DUE)
    assert not any("dépasse" in w for w in fair.warnings)
