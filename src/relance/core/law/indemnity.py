"""The indemnité forfaitaire pour frais de recouvrement (C. com. L441-10 II and D441-5).

* L441-10 II: « Tout professionnel en situation de retard de paiement est de plein droit débiteur,
  à l’égard du créancier, d’une indemnité forfaitaire pour frais de recouvrement, dont le montant
  est fixé par décret. Lorsque les frais de recouvrement exposés sont supérieurs au montant de
  cette indemnité forfaitaire, le créancier peut demander une indemnisation complémentaire, sur
  justification. »
* D441-5 (décret 2012-1115): « Le montant de l’indemnité forfaitaire […] est fixé à 40 euros. »
* CJUE 4 May 2023, C-78/22 *ALD Automotive*: owed **for each** invoice paid late, from the first
  day of delay (see also C-419/21 and C-279/23: it cannot be refused for a small or short delay).
* DGCCRF FAQ (via AFDCC): not split on partial payments; not subject to VAT; not owed by a
  consumer. For a consumer, collection costs without a titre exécutoire stay with the creditor
  and any clause to the contrary is deemed unwritten (CPCE L111-8 al. 2).
* Not claimable when an insolvency procedure forbids paying the debt at maturity (L441-10 II).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from ..formatting import money
from ._accrual import amount_of
from .errors import LawInputError

FLAT_INDEMNITY = Decimal("40.00")
"""C. com. D441-5: 40 euros, per invoice paid late, outside the scope of VAT."""

LEGAL_BASIS = ("C. com. L441-10 II", "C. com. D441-5", "CJUE 4 mai 2023, C-78/22")


@dataclass(frozen=True)
class IndemnityResult:
    """The recovery indemnity for one invoice.

    ``flat_amount`` is 40 € or 0; ``complement`` the justified costs above it; ``claimed`` what
    may be claimed (``flat_amount + complement``). No VAT on any of them.
    """

    flat_amount: Decimal
    complement: Decimal
    claimed: Decimal
    basis: str
    legal_basis: tuple[str, ...]
    warnings: tuple[str, ...] = ()


def recovery_indemnity(days_late: int, debtor: str = "business", justified_costs: object = None,
                       insolvency_bars_payment: bool = False) -> IndemnityResult:
    """The indemnity owed for **one** invoice paid ``days_late`` days after its due date.

    40 € as soon as the delay is at least one day (C. com. D441-5, CJUE C-78/22), whatever the
    partial payments; only against a business debtor (``debtor="business"``). ``justified_costs``
    (the collection costs actually incurred, with proof) above 40 € are returned as the claimed
    amount (L441-10 II « indemnisation complémentaire, sur justification »).
    """
    if isinstance(days_late, bool) or not isinstance(days_late, int):
        raise LawInputError(f"nombre de jours de retard invalide : {days_late!r}")
    if debtor not in ("business", "consumer"):
        raise LawInputError(f"type de débiteur inconnu : {debtor!r} (« business » ou « consumer »)")
    costs = None if justified_costs is None else amount_of(justified_costs, "frais de recouvrement justifiés")
    if costs is not None and costs < 0:
        raise LawInputError(f"frais de recouvrement justifiés négatifs : {money(costs)}")
    zero = Decimal("0.00")
    if debtor == "consumer":
        warnings = ["Débiteur consommateur : pas d’indemnité forfaitaire de 40 € (réservée aux professionnels, "
                    "C. com. L441-10 II)."]
        if costs:
            warnings.append("Les frais de recouvrement engagés sans titre exécutoire restent à la charge du créancier "
                            "(CPCE L111-8 al. 2) : ils ne peuvent pas être réclamés au consommateur.")
        return IndemnityResult(zero, zero, zero, "aucune (débiteur consommateur)",
                               ("C. com. L441-10 II", "CPCE L111-8"), tuple(warnings))
    if days_late <= 0:
        return IndemnityResult(zero, zero, zero, "aucune (facture payée à l’échéance)", LEGAL_BASIS)
    if insolvency_bars_payment:
        return IndemnityResult(
            zero, zero, zero, "aucune (procédure collective interdisant le paiement à l’échéance)", LEGAL_BASIS,
            ("L’indemnité forfaitaire et l’indemnisation complémentaire ne sont pas dues lorsque l’ouverture d’une "
             "procédure collective interdit le paiement à l’échéance (C. com. L441-10 II).",),
        )
    if costs is not None and costs > FLAT_INDEMNITY:
        complement = costs - FLAT_INDEMNITY
        return IndemnityResult(
            FLAT_INDEMNITY, complement, costs,
            f"frais de recouvrement justifiés de {money(costs)} : indemnité forfaitaire de 40 € et indemnisation "
            f"complémentaire de {money(complement)}, sur justification (C. com. L441-10 II)",
            LEGAL_BASIS,
            ("L’indemnisation complémentaire n’est due que sur justification des frais exposés (factures, "
             "honoraires) ; conservez les pièces.",),
        )
    return IndemnityResult(FLAT_INDEMNITY, zero, FLAT_INDEMNITY,
                           "indemnité forfaitaire pour frais de recouvrement (C. com. D441-5), hors TVA", LEGAL_BASIS)


def total_flat_indemnities(days_late_per_invoice: Iterable[int], debtor: str = "business") -> Decimal:
    """40 € for **each** invoice paid late (CJUE C-78/22), e.g. successive invoices of one contract."""
    return sum((recovery_indemnity(d, debtor).flat_amount for d in days_late_per_invoice), Decimal("0.00"))
