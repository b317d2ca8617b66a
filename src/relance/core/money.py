"""Money as Decimal: parsing user input, rounding at the edges."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

_SPACES = re.compile(r"[\s\u00a0\u202f']")


def to_cents(value: Decimal) -> Decimal:
    """Round half-up to the cent (used only when a figure leaves the computation)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_amount(text: str) -> Decimal:
    """Parse an amount written the French or the English way.

    Accepts ``1 234,56``, ``1234.56``, ``1.234,56``, ``1,234.56``, ``-12,5``,
    an optional trailing ``€`` or ``EUR``. Raises ``ValueError`` on anything else.
    """
    s = _SPACES.sub("", text.strip())
    s = s.removesuffix("€").removesuffix("EUR").removesuffix("eur")
    if not s:
        raise ValueError("montant vide")
    if "," in s and "." in s:
        # the last separator is the decimal one; the other one groups the digits by three
        decimal_sep, group_sep = (",", ".") if s.rfind(",") > s.rfind(".") else (".", ",")
        if not re.fullmatch(rf"[+-]?\d{{1,3}}(\{group_sep}\d{{3}})+\{decimal_sep}\d+", s):
            raise ValueError(f"montant illisible : {text!r}")
        s = s.replace(group_sep, "").replace(decimal_sep, ".")
    elif "," in s:
        if s.count(",") > 1:
            raise ValueError(f"montant illisible : {text!r}")
        s = s.replace(",", ".")
    if not re.fullmatch(r"[+-]?\d+(\.\d+)?", s):
        raise ValueError(f"montant illisible : {text!r}")
    try:
        value = Decimal(s)
    except InvalidOperation as exc:  # pragma: no cover - guarded by the regex
        raise ValueError(f"montant illisible : {text!r}") from exc
    decimals = len(s.rsplit(".", 1)[1]) if "." in s else 0
    if value.adjusted() > 20:  # quantize needs the digits within the context's precision (28)
        raise ValueError(f"montant trop grand : {text[:40]!r}")
    if value != value.quantize(CENT) or decimals == 3:
        # exactly three decimals is ambiguous: "1,000" or "1.500" are thousands, not 1.00 or 1.50
        raise ValueError(f"plus de deux décimales : {text!r}")
    return value.quantize(CENT)
