"""French law of late payment, as pure functions over ``Decimal`` (no Django).

* ``rates``: the taux de l’intérêt légal (C. mon. fin. L313-2) and ECB tables, shipped as CSV;
* ``penalties``: late-payment penalties between professionals (C. com. L441-10 II);
* ``indemnity``: the 40 € recovery indemnity (C. com. D441-5, CJUE C-78/22);
* ``interest``: interest at the legal rate (C. civ. 1231-6, 1344-1; C. mon. fin. L313-3) and the
  no-cumulation rule (Cass. com. 24 April 2024, n° 22-24.275);
* ``terms``: maximum payment terms (C. com. L441-10 I);
* ``prescription``: prescription of the claim (C. com. L110-4, C. conso L218-2, C. civ. 2231-2244);
* ``allocation``: allocation of a payment across debts (C. civ. 1342-10).

The rules, formulas and choices are documented in French in ``docs/law.md``.
"""

from __future__ import annotations

from ._accrual import Period, simple_interest
from .allocation import Allocation, AllocationResult, Debt, allocate_payment, allocation_order
from .errors import LawInputError, MissingRate
from .indemnity import FLAT_INDEMNITY, IndemnityResult, recovery_indemnity, total_flat_indemnities
from .interest import (
    ChargesRegime,
    LegalInterestResult,
    charges_regime,
    compute_legal_interest,
    creditor_category,
    ensure_not_cumulated,
    majoration_start,
)
from .penalties import PenaltyResult, compute_penalties, describe
from .prescription import Interruption, PrescriptionResult, prescription
from .rates import EcbRateRow, LegalRateRow, RateTables, Semester, legal_rate_row, parse_rate, semester_of
from .terms import TermsCheck, check_terms, default_due_date, max_45_days_end_of_month, max_60_days

__all__ = [
    "FLAT_INDEMNITY",
    "Allocation",
    "AllocationResult",
    "ChargesRegime",
    "Debt",
    "EcbRateRow",
    "IndemnityResult",
    "Interruption",
    "LawInputError",
    "LegalInterestResult",
    "LegalRateRow",
    "MissingRate",
    "PenaltyResult",
    "Period",
    "PrescriptionResult",
    "RateTables",
    "Semester",
    "TermsCheck",
    "allocate_payment",
    "allocation_order",
    "charges_regime",
    "check_terms",
    "compute_legal_interest",
    "compute_penalties",
    "creditor_category",
    "default_due_date",
    "describe",
    "ensure_not_cumulated",
    "legal_rate_row",
    "majoration_start",
    "max_45_days_end_of_month",
    "max_60_days",
    "parse_rate",
    "prescription",
    "recovery_indemnity",
    "semester_of",
    "simple_interest",
    "total_flat_indemnities",
]
