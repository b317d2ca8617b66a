"""Late-payment penalties between professionals (C. com. L441-10 II).

The text (ordonnance 2019-359): the conditions de règlement state « le taux d’intérêt des
pénalités de retard exigibles le jour suivant la date de règlement figurant sur la facture […].
Sauf disposition contraire qui ne peut toutefois fixer un taux inférieur à trois fois le taux
d’intérêt légal, ce taux est égal au taux d’intérêt appliqué par la Banque centrale européenne à
son opération de refinancement la plus récente majoré de 10 points de pourcentage. […] le taux
applicable pendant le premier semestre de l’année concernée est le taux en vigueur au 1er janvier
de l’année en question. Pour le second semestre de l’année concernée, il est le taux en vigueur au
1er juillet de l’année en question. Les pénalités de retard sont exigibles sans qu’un rappel soit
nécessaire. » They are owed even when the invoice does not state them (Cass. com. 3 March 2009,
n° 07-16.527).

Rules implemented (choices where the law is silent are marked *choice*, see ``docs/law.md``):

* rate: the contractual rate if any, else the ECB rate of the semester + 10 points;
* *choice*: a contractual rate below 3 × the legal rate « autres cas » is raised to that floor,
  semester by semester (the floor of the semester of each day), with a warning naming the semester;
* penalties run from the day after the due date to the payment date inclusive (days = payment
  date − due date): simple interest, actual days / 365 (*choice*: 365 also in a leap year), on
  the amount due (TTC in practice, *choice*);
* *choice*: the delay is split at each semester boundary (the rate changes per semester) and at
  each partial payment (which lowers the base from the next day);
* each piece exact, only the total rounded half up to the cent;
* paid on or before the due date: nothing;
* against a consumer: no L441-10 penalties (C. civ. 1231-6 legal interest instead, from the
  formal notice, see ``interest.py``), unless a contract clause stipulates late interest, which is
  then applied as written (C. civ. 1231-5), without the L441-10 floor and without indemnity.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from ..formatting import long_date, money, short_date
from ._accrual import Period, accrue, amount_of, check_date, fr_pct, normalise_payments, rounded_total, settled_on
from .errors import LawInputError, MissingRate
from .indemnity import recovery_indemnity
from .rates import RateTables, Semester, parse_rate, semester_of

Debtor = Literal["business", "consumer"]

LEGAL_BASIS_BUSINESS = ("C. com. L441-10 II", "C. com. D441-5")
LEGAL_BASIS_CONSUMER = ("C. civ. 1231-6", "C. civ. 1344-1")
LEGAL_BASIS_CONSUMER_CLAUSE = ("C. civ. 1231-5", "C. civ. 1231-6")


@dataclass(frozen=True)
class PenaltyResult:
    """Penalties of one invoice.

    ``total`` is the exact sum of the periods rounded half up to the cent; ``indemnity`` the 40 €
    recovery indemnity (0 for a consumer or without delay). ``floor_semesters`` lists the
    semesters whose 3 × legal-rate floor replaced the contractual rate.
    """

    principal: Decimal
    days_late: int
    periods: tuple[Period, ...]
    total: Decimal
    indemnity: Decimal
    warnings: tuple[str, ...]
    legal_basis: tuple[str, ...]
    total_exact: Decimal = Decimal(0)
    due_date: date | None = None
    paid_date: date | None = None
    debtor: str = "business"
    contractual_rate: Decimal | None = None
    floor_semesters: tuple[Semester, ...] = ()

    @property
    def total_with_indemnity(self) -> Decimal:
        return self.total + self.indemnity


def compute_penalties(
    principal: object,
    due_date: date,
    paid_date: date,
    payments: Iterable[tuple[date, object]] = (),
    contractual_rate: object = None,
    tables: RateTables | None = None,
    debtor: Debtor = "business",
    *,
    issue_date: date | None = None,
    formal_notice_on: date | None = None,
) -> PenaltyResult:
    """Late-payment penalties of one invoice under C. com. L441-10 II.

    ``principal``: the amount due (TTC). ``paid_date``: the day the balance was paid or, for an
    invoice still unpaid, the as-of date. ``payments``: partial payments ``(date, amount)`` before
    that; one made before the due date lowers the base from the start. ``contractual_rate``:
    percent per year (``Decimal``, ``int`` or text such as ``"12,5"``), ``None`` for the default
    rate (ECB + 10 points per semester). ``issue_date``, when given, is checked against the other
    dates. Raises ``LawInputError`` on invalid input and ``MissingRate`` when a rate is unknown.

    A consumer debtor (``debtor="consumer"``) never owes L441-10 penalties; a contractual rate is
    then a clause pénale (C. civ. 1231-5), incurred only once the debtor is put on notice (al. 5):
    it runs from the day after ``formal_notice_on`` (nothing without it), and a rate above the
    L441-10 default rate between businesses (ECB + 10 points) of that semester is flagged as
    likely excessive (:func:`clause_rate_warning`).
    """
    tables = tables or RateTables.shipped()
    amount = amount_of(principal, "montant de la facture")
    if amount <= 0:
        raise LawInputError(f"le montant de la facture doit être strictement positif ({money(amount)})")
    due = check_date(due_date, "date d’échéance")
    end = check_date(paid_date, "date de paiement")
    if debtor not in ("business", "consumer"):
        raise LawInputError(f"type de débiteur inconnu : {debtor!r} (« business » ou « consumer »)")
    if issue_date is not None:
        issued = check_date(issue_date, "date de la facture")
        if due < issued:
            raise LawInputError(
                f"la date d’échéance ({short_date(due)}) est antérieure à la date de la facture ({short_date(issued)})"
            )
        if end < issued:
            raise LawInputError(
                f"la date de paiement ({short_date(end)}) est antérieure à la date de la facture ({short_date(issued)})"
            )
    rate = None if contractual_rate is None else parse_rate(contractual_rate, "taux des pénalités")
    paid = normalise_payments(payments, amount, end, issue_date, money, short_date)
    warnings: list[str] = []
    settled = settled_on(paid, amount)
    if settled is not None and settled < end:
        warnings.append(f"La facture est soldée par les paiements partiels le {short_date(settled)}.")
        end = settled
    days_late = max(0, (end - due).days)

    def result(periods: list[Period], basis: tuple[str, ...], indemnity: Decimal,
               floors: tuple[Semester, ...] = ()) -> PenaltyResult:
        exact, total = rounded_total(periods)
        return PenaltyResult(amount, days_late, tuple(periods), total, indemnity, tuple(warnings), basis, exact,
                             due, end, debtor, rate, floors)

    zero = Decimal("0.00")
    if debtor == "consumer":
        if rate is None:
            warnings.append(
                "Débiteur consommateur : pas de pénalités de retard de l’article L441-10 du code de commerce ni "
                "d’indemnité forfaitaire de 40 € ; seuls les intérêts au taux légal sont dus, à compter de la mise "
                "en demeure (C. civ. 1231-6 et 1344-1)."
            )
            return result([], LEGAL_BASIS_CONSUMER, zero)
        if formal_notice_on is None:
            warnings.append(
                "Débiteur consommateur : la clause d’intérêts de retard du contrat (clause pénale, C. civ. 1231-5) "
                "ne court qu’à compter de la mise en demeure ; aucune mise en demeure n’est indiquée."
            )
            return result([], LEGAL_BASIS_CONSUMER_CLAUSE, zero)
        notice = check_date(formal_notice_on, "date de la mise en demeure")
        excessive = clause_rate_warning(rate, notice, tables)
        if excessive:
            warnings.append(excessive)
        if days_late == 0 or notice >= end:
            return result([], LEGAL_BASIS_CONSUMER_CLAUSE, zero)
        warnings.append(
            "Débiteur consommateur : intérêts de retard au taux stipulé au contrat (clause pénale, C. civ. 1231-5), "
            f"à compter de la mise en demeure du {short_date(notice)}, que le juge peut modérer et qui restent soumis "
            "au contrôle des clauses abusives ; pas d’indemnité forfaitaire de 40 € (CPCE L111-8)."
        )
        periods = accrue(amount, paid, max(due, notice), end, lambda day: (rate, "taux contractuel (clause pénale)"))
        return result(periods, LEGAL_BASIS_CONSUMER_CLAUSE, zero)

    if days_late == 0:
        return result([], LEGAL_BASIS_BUSINESS, zero)

    floors: list[Semester] = []

    def rate_for(day: date) -> tuple[Decimal, str]:
        semester = semester_of(day)
        if rate is None:
            default = tables.default_penalty_rate(semester)
            ecb = tables.ecb_rate_on(semester.start)
            return default, f"taux BCE au {long_date(semester.start)} ({fr_pct(ecb)}) + 10 points"
        floor = tables.penalty_floor(semester)
        if rate < floor:
            if semester not in floors:
                floors.append(semester)
                legal = tables.legal_rate(semester, "other")
                warnings.append(
                    f"Le taux contractuel de {fr_pct(rate)} est inférieur au plancher légal du semestre {semester} "
                    f"(3 × {fr_pct(legal)} = {fr_pct(floor)}) : le plancher est appliqué pour ce semestre "
                    f"(C. com. L441-10 II)."
                )
            return floor, f"plancher : 3 × taux de l’intérêt légal {semester} (autres cas)"
        return rate, "taux contractuel"

    periods = accrue(amount, paid, due, end, rate_for)
    indemnity = recovery_indemnity(days_late, "business").flat_amount
    return result(periods, LEGAL_BASIS_BUSINESS, indemnity, tuple(floors))


def clause_rate_warning(rate: Decimal, on: date, tables: RateTables) -> str:
    """The warning for a consumer's contractual late-interest rate that looks excessive, or ``""``.

    **Choice** (docs/law.md): the judge may reduce a clause pénale « manifestement excessive »
    (C. civ. 1231-5) and the law gives no figure; relance flags a rate above the rate the law itself
    sets between businesses by default (ECB + 10 points, C. com. L441-10 II) for the semester of ``on``.
    When that rate is not known yet, the last known semester's is used."""
    semester = semester_of(on)
    while True:
        try:
            threshold = tables.default_penalty_rate(semester)
            break
        except MissingRate:
            if semester.start.year < 2015:
                return ""
            semester = Semester(semester.year - 1, 2) if semester.half == 1 else Semester(semester.year, 1)
    if rate <= threshold:
        return ""
    return (f"Le taux de la clause pénale ({fr_pct(rate)}) dépasse le taux BCE majoré de 10 points ({fr_pct(threshold)}, "
            f"{semester}) que la loi applique entre professionnels : le juge peut réduire une pénalité manifestement "
            "excessive (C. civ. 1231-5).")


def describe(result: PenaltyResult) -> list[str]:
    """The computation in French, one line per period, then the total (for letters and logs)."""
    lines = [
        f"Du {short_date(p.start)} au {short_date(p.end)} : {money(p.base)} × {fr_pct(p.rate)} × {p.days} / 365 = "
        f"{money(p.amount)} ({p.rate_basis})"
        for p in result.periods
    ]
    lines.append(f"Total des pénalités : {money(result.total)} ({result.days_late} jours de retard)")
    if result.indemnity:
        lines.append(f"Indemnité forfaitaire pour frais de recouvrement : {money(result.indemnity)}")
    return lines
