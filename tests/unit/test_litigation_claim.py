"""The claim's elements and their bases (what the evidence file and the request both print): the
total is the sum of its elements, nothing at zero is listed but the principal, and a consumer's
claim never names a business-only article nor the 40 € indemnity (C. com. L441-10, D441-5)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from relance.ledger.models import Invoice
from relance.litigation.claim import Claim, ClaimLine

CENTS = st.integers(min_value=0, max_value=5_000_000).map(lambda c: Decimal(c) / 100)
BUSINESS_ONLY = ("L441-10", "D441-5", "40 €", "forfaitaire")


@st.composite
def claims(draw: st.DrawFn) -> Claim:
    business = draw(st.booleans())
    claim = Claim(date(2026, 12, 7), business, "EUR")
    for n in range(draw(st.integers(min_value=1, max_value=6))):
        invoice = Invoice(number=f"F-{n}", issue_date=date(2026, 1, 1), due_date=date(2026, 2, 1),
                          amount_incl_tax=Decimal("100.00"))
        line = ClaimLine(invoice, draw(CENTS))
        if business:
            line.penalties, line.indemnity, line.complement = draw(CENTS), draw(st.sampled_from(
                [Decimal("0.00"), Decimal("40.00")])), draw(CENTS)
        else:
            line.interest = draw(CENTS)
        claim.lines.append(line)
    return claim


@given(claims())
def test_the_elements_add_up_and_a_consumer_never_reads_business_law(claim: Claim) -> None:
    elements = claim.elements()
    assert elements[0][0].startswith("Principal")
    assert sum((amount for _, amount, _ in elements), Decimal(0)) == claim.total
    assert all(amount > 0 for label, amount, _ in elements[1:])
    text = " ".join(f"{label} {basis}" for label, _, basis in elements) + " " + claim.basis
    if not claim.business:
        assert not any(word in text for word in BUSINESS_ONLY)
        assert claim.penalties == claim.indemnity == claim.complement == 0
    else:
        assert claim.interest == 0
