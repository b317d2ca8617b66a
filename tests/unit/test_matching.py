"""The pure matcher (``relance.core.matching``): the rules in their order, and the arithmetic
of allocations checked with Hypothesis (never more than the receipt, never more than an
invoice owes, the sum conserved, C. civ. 1342-10 order)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from relance.core.matching import (
    Matcher,
    OpenItem,
    Outcome,
    Payer,
    Receipt,
    allocate,
    compact,
    exact_subsets,
    name_key,
    name_similarity,
    name_tokens,
)
from relance.core.references import make_rf, make_rf_lenient

ON = date(2025, 3, 10)
D = Decimal


def item(id_: int, number: str, customer: int, amount: str, due: date = date(2025, 2, 1), rf: bool = True,
         currency: str = "EUR") -> OpenItem:
    return OpenItem(id_, number, customer, due, due - timedelta(days=30), D(amount), currency,
                    make_rf_lenient(number) if rf else "")


def payers() -> list[Payer]:
    return [
        Payer(1, "C001", "Boulangerie Martin SARL", make_rf("C001"), ibans=("FR7630006000011234567890189",)),
        Payer(2, "C002", "Garage du Centre", make_rf("C002"), names=("GARAGE CENTRE LYON",)),
        Payer(3, "C003", "Jean Petit", make_rf("C003")),
    ]


def book() -> list[OpenItem]:
    return [
        item(10, "F-2025-0040", 1, "300.00", date(2025, 1, 31)),
        item(11, "F-2025-0041", 1, "450.00", date(2025, 2, 15)),
        item(12, "F-2025-0042", 1, "1200.50", date(2025, 2, 28)),
        item(20, "F-12", 2, "80.00", date(2025, 2, 10)),
        item(21, "F-123", 2, "95.00", date(2025, 2, 20)),
        item(30, "F-2025-0050", 3, "640.00", date(2025, 2, 1)),
        item(31, "4711", 3, "55.00", date(2025, 2, 2)),
    ]


def matcher() -> Matcher:
    return Matcher(book(), payers())


def receipt(amount: str, **kwargs: str) -> Receipt:
    return Receipt("r", D(amount), ON, **kwargs)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- text helpers


def test_text_helpers() -> None:
    assert compact("F-2025/0042 ") == "F20250042"
    assert compact("Fàçture n° 12") == "FACTUREN12"
    assert name_key("SARL Boulangerie  Martin") == "BOULANGERIE MARTIN"
    assert name_key("M. et Mme DUPONT") == "DUPONT"
    assert name_similarity(name_tokens("Boulangerie Martin SARL"), name_tokens("BOULANGERIE MARTIN")) == 1.0
    assert name_similarity(frozenset(), name_tokens("X")) == 0.0


# --------------------------------------------------------------------------- rule 1: RF


def test_rf_structured_reference_of_an_invoice() -> None:
    d = matcher().decide(receipt("1200.50", structured_reference=make_rf_lenient("F-2025-0042")))
    assert d.outcome == Outcome.MATCHED and d.method == "rf" and d.customer_id == 1
    assert [(p.invoice_id, p.amount) for p in d.allocations] == [(12, D("1200.50"))]
    assert d.unallocated == 0


def test_rf_in_the_text_grouped_by_four() -> None:
    rf = make_rf_lenient("F-2025-0041")
    grouped = " ".join(rf[i:i + 4] for i in range(0, len(rf), 4))
    d = matcher().decide(receipt("450.00", remittance=f"virement {grouped} merci"))
    assert d.outcome == Outcome.MATCHED and d.designated == (11,)


def test_rf_wins_over_a_number_in_the_text() -> None:
    d = matcher().decide(receipt("300.00", structured_reference=make_rf_lenient("F-2025-0040"),
                                 remittance="F-2025-0050"))
    assert d.designated == (10,) and d.method == "rf"


def test_foreign_rf_is_ignored() -> None:
    d = matcher().decide(receipt("640.00", structured_reference="RF18539007547034", remittance="F-2025-0050"))
    assert d.method == "number" and d.designated == (30,)


def test_rf_of_a_customer() -> None:
    m = matcher()
    exact = m.decide(receipt("450.00", structured_reference=make_rf("C001")))
    assert exact.outcome == Outcome.MATCHED and exact.designated == (11,)
    partial = m.decide(receipt("500.00", structured_reference=make_rf("C001")))
    assert partial.outcome == Outcome.MATCHED and partial.designated == ()
    assert [(p.invoice_id, p.amount) for p in partial.allocations] == [(10, D("300.00")), (11, D("200.00"))]
    over = m.decide(receipt("9999.00", structured_reference=make_rf("C001")))
    assert over.outcome == Outcome.REVIEW and "trop-perçu" in over.reason


# --------------------------------------------------------------------------- rule 2: numbers


def test_numbers_longest_match_and_word_boundaries() -> None:
    m = matcher()
    assert m.numbers_in_text(receipt("1", remittance="Facture F-123")) == [21]
    assert m.numbers_in_text(receipt("1", remittance="F 12 et F-123")) == [20, 21]
    assert m.numbers_in_text(receipt("1", remittance="F1234")) == []  # not F-123 nor F-12
    assert m.numbers_in_text(receipt("1", remittance="REF F-2025-00421")) == []  # not F-2025-0042
    assert m.numbers_in_text(receipt("1", remittance="fact. f-2025-0042/f-2025-0040")) == [12, 10]
    assert m.numbers_in_text(receipt("1", end_to_end_id="F-2025-0041")) == [11]


def test_numbers_of_one_customer_exact_partial_and_over() -> None:
    m = matcher()
    both = m.decide(receipt("750.00", remittance="F-2025-0040 F-2025-0041"))
    assert both.outcome == Outcome.MATCHED and both.designated == (10, 11)
    partial = m.decide(receipt("100.00", remittance="F-2025-0042"))
    assert partial.outcome == Outcome.MATCHED
    assert [(p.invoice_id, p.amount) for p in partial.allocations] == [(12, D("100.00"))]
    over = m.decide(receipt("1500.50", remittance="F-2025-0042"))
    assert over.outcome == Outcome.REVIEW
    # candidates: the named invoice, and the named one with the oldest one that make the amount
    assert {c.invoice_ids for c in over.candidates} >= {(12,), (12, 10)}


def test_short_numeric_number_with_another_amount_waits() -> None:
    m = matcher()
    assert m.decide(receipt("55.00", remittance="FACTURE 4711")).outcome == Outcome.MATCHED
    assert m.decide(receipt("20.00", remittance="CB 4711 1203")).outcome == Outcome.REVIEW


def test_numbers_of_two_customers_wait() -> None:
    d = matcher().decide(receipt("720.00", remittance="F-2025-0050 F-12"))
    assert d.outcome == Outcome.REVIEW and {c.customer_id for c in d.candidates} == {2, 3}


def test_partial_payment_from_a_payer_known_as_another_customer_waits() -> None:
    d = matcher().decide(receipt("10.00", remittance="F-2025-0050", counterparty_iban="FR7630006000011234567890189"))
    assert d.outcome == Outcome.REVIEW and "autre client" in d.reason


# --------------------------------------------------------------------------- rule 3: amount and payer


def test_known_iban_exact_invoice_sum_partial_over() -> None:
    m = matcher()
    iban = "FR76 3000 6000 0112 3456 7890 189"
    one = m.decide(receipt("450.00", counterparty_iban=iban))
    assert one.outcome == Outcome.MATCHED and one.designated == (11,) and one.method == "iban"
    oldest_two = m.decide(receipt("750.00", counterparty_iban=iban))
    assert oldest_two.outcome == Outcome.MATCHED and oldest_two.designated == (10, 11)
    subset = m.decide(receipt("1500.50", counterparty_iban=iban))
    assert subset.outcome == Outcome.MATCHED and set(subset.designated) == {10, 12}
    partial = m.decide(receipt("100.00", counterparty_iban=iban))
    assert partial.outcome == Outcome.MATCHED and [p.invoice_id for p in partial.allocations] == [10]
    over = m.decide(receipt("5000.00", counterparty_iban=iban))
    assert over.outcome == Outcome.REVIEW



def test_an_iban_written_with_hyphens_is_the_payers() -> None:
    """The counterparty IBAN is compacted as everywhere else (``core.iban``): hyphens and tabs too."""
    for written in ("FR76-3000-6000-0112-3456-7890-189", "FR76 3000\t6000 0112 3456 7890 189"):
        one = matcher().decide(receipt("450.00", counterparty_iban=written))
        assert one.outcome == Outcome.MATCHED and one.designated == (11,) and one.method == "iban"

def test_learnt_payer_name() -> None:
    m = matcher()
    exact = m.decide(receipt("95.00", counterparty_name="Garage Centre Lyon"))
    assert exact.outcome == Outcome.MATCHED and exact.method == "payer_name" and exact.designated == (21,)
    # a name only suggests the payer: a partial payment waits
    assert m.decide(receipt("10.00", counterparty_name="GARAGE CENTRE LYON")).outcome == Outcome.REVIEW


def test_several_subsets_wait() -> None:
    m = Matcher([item(1, "A", 1, "10.00", date(2025, 1, 1)), item(2, "B", 1, "20.00", date(2025, 1, 2)),
                 item(3, "C", 1, "30.00", date(2025, 1, 3)), item(4, "D", 1, "25.00", date(2025, 1, 4)),
                 item(5, "E", 1, "15.00", date(2025, 1, 5))],
                [Payer(1, "C1", "Client", ibans=("DE89370400440532013000",))])
    d = m.decide(receipt("45.00", counterparty_iban="DE89370400440532013000"))  # 20+25, 30+15, 10+20+15
    assert d.outcome == Outcome.REVIEW and len(d.candidates) >= 2


def test_same_amount_twice_takes_the_oldest() -> None:
    m = Matcher([item(1, "A", 1, "10.00", date(2025, 1, 5)), item(2, "B", 1, "10.00", date(2025, 1, 1))],
                [Payer(1, "C1", "Client", ibans=("DE89370400440532013000",))])
    d = m.decide(receipt("10.00", counterparty_iban="DE89370400440532013000"))
    assert d.designated == (2,)


def test_name_similarity_and_amount_only_wait() -> None:
    m = matcher()
    by_name = m.decide(receipt("640.00", counterparty_name="MR JEAN PETIT"))
    assert by_name.outcome == Outcome.REVIEW
    assert by_name.candidates[0].customer_id == 3 and by_name.candidates[0].invoice_ids == (30,)
    by_amount = m.decide(receipt("80.00", counterparty_name="INCONNU"))
    assert by_amount.outcome == Outcome.REVIEW and by_amount.candidates[0].invoice_ids == (20,)
    assert by_amount.candidates[0].score == 30
    assert m.decide(receipt("1.23", counterparty_name="INCONNU")).outcome == Outcome.UNMATCHED


def test_currency_must_agree() -> None:
    m = Matcher([item(1, "F-1", 1, "10.00", currency="CHF")], payers())
    assert m.decide(receipt("10.00", remittance="F-1")).outcome == Outcome.UNMATCHED


def test_consumption_across_receipts() -> None:
    m = matcher()
    first, second = m.decide_all([receipt("300.00", remittance="F-2025-0040"),
                                  receipt("300.00", remittance="F-2025-0040")])
    assert first.outcome == Outcome.MATCHED and second.outcome == Outcome.REVIEW
    assert m.remaining[10] == 0
    # without consuming (the review list), nothing changes
    m2 = matcher()
    m2.decide(receipt("300.00", remittance="F-2025-0040"))
    assert m2.remaining[10] == D("300.00")


def test_decide_all_follows_the_dates_and_keeps_the_order() -> None:
    m = matcher()
    late = Receipt("late", D("300.00"), date(2025, 3, 20), remittance="F-2025-0040")
    early = Receipt("early", D("300.00"), date(2025, 3, 1), remittance="F-2025-0040")
    decisions = m.decide_all([late, early])
    assert [d.receipt.key for d in decisions] == ["late", "early"]
    assert [d.outcome for d in decisions] == [Outcome.REVIEW, Outcome.MATCHED]


def test_zero_amount() -> None:
    assert matcher().decide(receipt("0.00")).outcome == Outcome.UNMATCHED


# --------------------------------------------------------------------------- subsets


def test_exact_subsets() -> None:
    found, complete = exact_subsets([10, 20, 30], 30)
    assert complete and sorted(found) == [(0, 1), (2,)]
    assert exact_subsets([10, 20], 100) == ([], True)
    assert exact_subsets([], 10) == ([], True)
    _, complete = exact_subsets([1] * 40, 20, limit=10**9, budget=100)
    assert not complete


# --------------------------------------------------------------------------- properties

amounts = st.decimals(min_value=D("0.01"), max_value=D("5000.00"), places=2)
dues = st.dates(min_value=date(2024, 1, 1), max_value=date(2025, 12, 31))


@st.composite
def ledgers(draw: st.DrawFn) -> list[OpenItem]:
    n = draw(st.integers(min_value=1, max_value=8))
    return [OpenItem(i, f"F-{i}", 1 + i % 2, draw(dues), date(2023, 12, 1), draw(amounts), "EUR", make_rf(f"F{i}"))
            for i in range(1, n + 1)]


@settings(max_examples=200, deadline=None)
@given(ledgers(), amounts, st.lists(st.integers(min_value=1, max_value=8), max_size=4, unique=True), dues)
def test_allocation_is_conserved_and_bounded(items: list[OpenItem], amount: Decimal, designated: list[int],
                                             on: date) -> None:
    mine = [i for i in items if i.customer_id == 1] or items[:1]
    wanted = [d for d in designated if d in {i.id for i in mine}]
    parts, left = allocate(mine, amount, on, wanted)
    assert sum((p.amount for p in parts), D(0)) + left == amount
    assert left >= 0 and all(p.amount > 0 for p in parts)
    due = {i.id: i.amount_due for i in mine}
    for p in parts:
        assert p.amount <= due[p.invoice_id]
    assert len({p.invoice_id for p in parts}) == len(parts)
    # designated invoices are served first, in the order given
    served = [p.invoice_id for p in parts]
    assert served[: len(wanted)] == wanted[: len(served)]
    # something is left only when every invoice is paid
    if left > 0:
        assert sum(p.amount for p in parts) == sum(due.values())
    # every invoice but the last one served is paid in full
    for p in parts[:-1]:
        assert p.amount == due[p.invoice_id]


@settings(max_examples=150, deadline=None)
@given(ledgers(), st.lists(st.tuples(amounts, st.integers(min_value=0, max_value=9), st.booleans()), min_size=1,
                           max_size=8))
def test_matching_never_overpays_an_invoice(items: list[OpenItem], lines: list[tuple[Decimal, int, bool]]) -> None:
    m = Matcher(items, [Payer(1, "C1", "Alpha Un", make_rf("C1"), ibans=("DE89370400440532013000",)),
                        Payer(2, "C2", "Beta Deux", make_rf("C2"))])
    receipts = []
    for n, (amount, pick, by_iban) in enumerate(lines):
        target = items[pick % len(items)]
        receipts.append(Receipt(n, amount, ON, remittance="" if by_iban else f"facture {target.number}",
                                counterparty_iban="DE89370400440532013000" if by_iban else ""))
    decisions = m.decide_all(receipts)
    paid: dict[int, Decimal] = {}
    for d in decisions:
        if d.outcome == Outcome.MATCHED:
            assert d.allocated + d.unallocated == d.receipt.amount
            assert d.allocated <= d.receipt.amount and d.unallocated >= 0
            assert all(p.amount > 0 for p in d.allocations)
            assert {m.items[p.invoice_id].customer_id for p in d.allocations} <= {d.customer_id}
            for p in d.allocations:
                paid[p.invoice_id] = paid.get(p.invoice_id, D(0)) + p.amount
        else:
            assert d.allocations == ()
        assert [c.score for c in d.candidates] == sorted((c.score for c in d.candidates), reverse=True)
    original = {i.id: i.amount_due for i in items}
    for invoice_id, total in paid.items():
        assert total <= original[invoice_id]
        assert m.remaining[invoice_id] == original[invoice_id] - total


@settings(max_examples=200, deadline=None)
@given(ledgers(), amounts, st.lists(st.integers(min_value=1, max_value=8), max_size=4, unique=True), dues)
def test_the_matcher_allocates_as_the_law_module(items: list[OpenItem], amount: Decimal, designated: list[int],
                                                  on: date) -> None:
    """``Matcher.allocate`` (sort keys cached) gives exactly ``allocate`` (law.allocation_order)."""
    m = Matcher(items, [])
    mine = [i for i in items if i.customer_id == 1]
    wanted = [d for d in designated if d in {i.id for i in mine}]
    assert m.allocate(1, amount, on, wanted) == (allocate(mine, amount, on, wanted) if mine else ((), amount))
