"""Interest at the legal rate (C. civ. 1231-6, 1344-1; C. mon. fin. L313-2, L313-3).

* C. civ. 1231-6: « Les dommages et intérêts dus à raison du retard dans le paiement d’une
  obligation de somme d’argent consistent dans l’intérêt au taux légal, à compter de la mise en
  demeure. » 1344-1: the formal notice « fait courir l’intérêt moratoire, au taux légal, sans que
  le créancier soit tenu de justifier d’un préjudice ».
* C. mon. fin. L313-2: the legal rate is fixed per semester, one rate for a creditor who is a
  natural person not acting for professional needs, one for all other cases. The category is
  that of the **creditor**: a company uses « autres cas », even against a consumer.
* C. mon. fin. L313-3: « En cas de condamnation pécuniaire par décision de justice, le taux de
  l’intérêt légal est majoré de cinq points à l’expiration d’un délai de deux mois à compter du
  jour où la décision de justice est devenue exécutoire, fût-ce par provision. » The juge de
  l’exécution may waive or reduce it.
* No cumulation with the L441-10 penalties for the same days (Cass. com. 24 April 2024,
  n° 22-24.275): see ``charges_regime`` and ``ensure_not_cumulated``.

Same conventions as the penalties (``_accrual``): days after the formal notice up to the end date
inclusive, split by semester (the rate changes per semester, service-public.fr fiche F783) and on
the first day of the majoration, actual days / 365, only the total rounded half up to the cent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from ..formatting import money, short_date
from ._accrual import ONE_DAY, Period, accrue, amount_of, check_date, normalise_payments, rounded_total
from ._dates import add_months
from .errors import LawInputError
from .rates import Category, RateTables, semester_of

Creditor = Literal["business", "individual"]

MAJORATION_POINTS = Decimal("5")
"""C. mon. fin. L313-3: + 5 points two months after the decision became enforceable."""

LEGAL_BASIS = ("C. civ. 1231-6", "C. civ. 1344-1", "C. mon. fin. L313-2")


@dataclass(frozen=True)
class LegalInterestResult:
    """Interest at the legal rate on ``amount`` from ``from_date`` (excluded) to ``to_date`` (included).

    ``category`` is the legal-rate category used (``"other"`` or ``"individual"``);
    ``majoration_from`` the first day at the rate + 5 points (L313-3), if any.
    """

    amount: Decimal
    days: int
    periods: tuple[Period, ...]
    total: Decimal
    warnings: tuple[str, ...]
    legal_basis: tuple[str, ...]
    total_exact: Decimal
    from_date: date
    to_date: date
    category: Category
    majoration_from: date | None = None


def creditor_category(creditor: str) -> Category:
    """C. mon. fin. L313-2: ``"individual"`` for a natural person not acting for professional needs,
    ``"other"`` for every other creditor (a business creditor, whoever the debtor is)."""
    if creditor == "business":
        return "other"
    if creditor == "individual":
        return "individual"
    raise LawInputError(f"type de créancier inconnu : {creditor!r} (« business » ou « individual »)")


def majoration_start(judgment_enforceable: date) -> date:
    """First day at the legal rate + 5 points (C. mon. fin. L313-3).

    The two-month delay runs from the day the decision became enforceable and expires on the day
    of the second month bearing the same number (or the month’s last day; C. pr. civ. 641); the
    majoration applies from the next day. Example: enforceable on 1 January 2000 -> delay expires
    1 March 2000 -> majorated from 2 March 2000 (60 days at the simple rate, as in the published
    FR-TIL-01 example). *Choice*: no extension to the next working day (C. pr. civ. 642).
    """
    return add_months(judgment_enforceable, 2) + ONE_DAY


def compute_legal_interest(
    amount: object,
    from_date: date,
    to_date: date,
    creditor: Creditor = "business",
    judgment_enforceable: date | None = None,
    tables: RateTables | None = None,
    payments: Iterable[tuple[date, object]] = (),
) -> LegalInterestResult:
    """Interest at the legal rate (C. civ. 1231-6, 1344-1) on ``amount``.

    ``from_date``: the date of the formal notice (mise en demeure) or, after a judgment, the
    starting date it sets (C. civ. 1231-7). ``to_date``: payment or as-of date. ``creditor``:
    ``"business"`` (rate « autres cas ») or ``"individual"`` (rate « particuliers »).
    ``judgment_enforceable``: the day a judgment ordering payment became enforceable; the rate is
    then increased by 5 points from two months later (L313-3). ``payments``: partial payments
    ``(date, amount)``, each lowering the base from the next day. Raises ``LawInputError`` and
    ``MissingRate``.
    """
    tables = tables or RateTables.shipped()
    principal = amount_of(amount, "montant dû")
    if principal <= 0:
        raise LawInputError(f"le montant dû doit être strictement positif ({money(principal)})")
    start = check_date(from_date, "date de la mise en demeure")
    end = check_date(to_date, "date de fin du calcul")
    category = creditor_category(creditor)
    if end < start:
        raise LawInputError(
            f"la date de fin du calcul ({short_date(end)}) est antérieure à la mise en demeure ({short_date(start)})"
        )
    paid = normalise_payments(payments, principal, end, None, money, short_date)
    warnings: list[str] = []
    majorated = None
    basis: tuple[str, ...] = LEGAL_BASIS
    if judgment_enforceable is not None:
        enforceable = check_date(judgment_enforceable, "date à laquelle la décision est devenue exécutoire")
        majorated = majoration_start(enforceable)
        basis = (*LEGAL_BASIS, "C. mon. fin. L313-3")
        if majorated <= end:
            warnings.append(
                f"Taux majoré de 5 points à compter du {short_date(max(majorated, start + ONE_DAY))} (deux mois après "
                f"que la décision est devenue exécutoire le {short_date(enforceable)}, C. mon. fin. L313-3) ; le juge "
                f"de l’exécution peut en dispenser le débiteur ou en réduire le montant."
            )
    label = "particuliers" if category == "individual" else "autres cas"

    def rate_for(day: date) -> tuple[Decimal, str]:
        semester = semester_of(day)
        rate = tables.legal_rate(semester, category)
        if majorated is not None and day >= majorated:
            return rate + MAJORATION_POINTS, f"taux légal {semester} ({label}) + 5 points (L313-3)"
        return rate, f"taux légal {semester} ({label})"

    breaks = [majorated] if majorated is not None else []
    periods = accrue(principal, paid, start, end, rate_for, breaks)
    exact, total = rounded_total(periods)
    return LegalInterestResult(principal, (end - start).days, tuple(periods), total, tuple(warnings), basis, exact,
                               start, end, category, majorated if majorated is not None and majorated <= end else None)


# --- no cumulation ------------------------------------------------------------------------------

LateCharge = Literal["penalties", "legal_interest", "contractual_interest"]


@dataclass(frozen=True)
class ChargesRegime:
    """Which late charge applies to a debtor, from when, and whether the 40 € indemnity is owed."""

    debtor: str
    late_charge: LateCharge
    runs_from: Literal["due_date", "formal_notice"]
    indemnity: bool
    explanation: str
    legal_basis: tuple[str, ...]


def charges_regime(debtor: str, contract_clause: bool = False) -> ChargesRegime:
    """Penalties and legal interest are never both charged for the same days.

    * business debtor: L441-10 penalties from the day after the due date, and the 40 € indemnity;
      no legal interest for those days (Cass. com. 24 April 2024, n° 22-24.275);
    * consumer: interest at the legal rate from the formal notice only (C. civ. 1231-6, 1344-1), no
      L441-10 penalties and no indemnity — unless the contract stipulates late interest
      (``contract_clause=True``), which then replaces the legal interest from the formal notice
      (C. civ. 1231-5 al. 5: a clause pénale is incurred only once the debtor is put on notice); even then
      no indemnity nor collection costs (CPCE L111-8 al. 2: a contrary clause is deemed unwritten).
    """
    if debtor == "business":
        return ChargesRegime(
            debtor, "penalties", "due_date", True,
            "Débiteur professionnel : pénalités de retard de l’article L441-10 du code de commerce dès le lendemain "
            "de l’échéance, sans rappel, et indemnité forfaitaire de 40 € par facture ; pas d’intérêts au taux légal "
            "en plus pour les mêmes jours (Cass. com. 24 avril 2024, n° 22-24.275).",
            ("C. com. L441-10 II", "C. com. D441-5", "Cass. com. 24 avril 2024, n° 22-24.275"),
        )
    if debtor == "consumer":
        if contract_clause:
            return ChargesRegime(
                debtor, "contractual_interest", "formal_notice", False,
                "Débiteur consommateur avec clause d’intérêts de retard : le taux du contrat (clause pénale, "
                "modérable par le juge) court à compter de la mise en demeure (C. civ. 1231-5 al. 5), à la place des "
                "intérêts au taux légal ; ni pénalités L441-10 ni indemnité forfaitaire (CPCE L111-8).",
                ("C. civ. 1231-5", "C. civ. 1231-6", "CPCE L111-8"),
            )
        return ChargesRegime(
            debtor, "legal_interest", "formal_notice", False,
            "Débiteur consommateur : intérêts au taux légal à compter de la mise en demeure seulement ; ni pénalités "
            "de l’article L441-10 ni indemnité forfaitaire de 40 €.",
            ("C. civ. 1231-6", "C. civ. 1344-1", "C. mon. fin. L313-2"),
        )
    raise LawInputError(f"type de débiteur inconnu : {debtor!r} (« business » ou « consumer »)")


def _days(periods: Iterable[Period]) -> set[date]:
    days: set[date] = set()
    for p in periods:
        if p.amount_exact > 0:
            day = p.start
            while day <= p.end:
                days.add(day)
                day += ONE_DAY
    return days


def ensure_not_cumulated(first: Iterable[Period], second: Iterable[Period]) -> None:
    """Raise ``LawInputError`` if two computations charge interest for the same days.

    Pass the ``periods`` of a ``PenaltyResult`` and of a ``LegalInterestResult`` for the same
    invoice: the L441-10 penalty is an intérêt moratoire that does not cumulate with the 1231-6
    interest (Cass. com. 24 April 2024, n° 22-24.275).
    """
    common = _days(first) & _days(second)
    if common:
        raise LawInputError(
            f"pénalités de retard et intérêts au taux légal facturés pour les mêmes jours ({len(common)} jours, du "
            f"{short_date(min(common))} au {short_date(max(common))}) : ils ne se cumulent pas "
            f"(Cass. com. 24 avril 2024, n° 22-24.275)"
        )
