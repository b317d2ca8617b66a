"""The computation of the late charges, article by article (business: C. com. L441-10 II and
D441-5; consumer: C. civ. 1231-6 and 1344-1, or the contract's clause pénale, 1231-5), from the
figures of ``claim.claim_for``: the evidence file shows the periods it summed, never figures of
its own. A consumer's computation never names a business-only article (CPCE L111-8)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from relance.core.formatting import long_date, money
from relance.core.money import ZERO

from ..claim import CLAUSE_BASIS, COSTS_BASIS, INDEMNITY_BASIS, INTEREST_BASIS, PENALTIES_BASIS, Claim


@dataclass
class InvoiceBlock:
    number: str
    due_date: date
    periods: list[Any]
    total: Decimal
    start_note: str = ""


@dataclass
class Row:
    number: str
    detail: str
    amount: Decimal


@dataclass
class Article:
    title: str
    text: str = ""
    invoices: list[InvoiceBlock] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((r.amount for r in self.rows), ZERO)


@dataclass
class Computation:
    articles: list[Article]
    nothing: str = ""


def computation(claim: Claim) -> Computation:
    if claim.business:
        return _business(claim)
    return _consumer(claim)


def _business(claim: Claim) -> Computation:
    penalties = Article(f"Pénalités de retard — {PENALTIES_BASIS}",
                        "Dues de plein droit dès le lendemain de l’échéance, sans rappel, au taux des conditions "
                        "de paiement (à défaut, le taux de refinancement de la BCE majoré de 10 points), sans "
                        "pouvoir être inférieur à trois fois le taux de l’intérêt légal.")
    indemnity = Article(f"Indemnité forfaitaire pour frais de recouvrement — {INDEMNITY_BASIS}",
                        "40 euros par facture payée en retard, due de plein droit.")
    costs = Article(f"Frais de recouvrement justifiés — {COSTS_BASIS}")
    for line in claim.lines:
        found = line.charges
        i = line.invoice
        if found is not None and found.penalties is not None and found.penalties.periods:
            penalties.invoices.append(InvoiceBlock(i.number, i.due_date, list(found.penalties.periods),
                                                   found.penalties.total))
        if line.indemnity:
            days = found.days_late if found is not None else 0
            indemnity.rows.append(Row(i.number, f"{days} jours de retard", line.indemnity))
        if line.complement:
            justified = found.justified_costs if found is not None else ZERO
            costs.rows.append(Row(i.number, f"frais justifiés de {money(justified)}, au-delà de l’indemnité forfaitaire",
                                  line.complement))
    articles = [a for a in (penalties, indemnity, costs) if a.invoices or a.rows]
    return Computation(articles, "" if articles else "Aucun retard à la date du décompte.")


def _consumer(claim: Claim) -> Computation:
    legal = Article(f"Intérêts au taux légal à compter de la mise en demeure — {INTEREST_BASIS}",
                    "Les dommages et intérêts dus à raison du retard dans le paiement d’une somme d’argent "
                    "consistent dans l’intérêt au taux légal, à compter de la mise en demeure (art. 1231-6), "
                    "sans que le créancier ait à justifier d’un préjudice (art. 1344-1).")
    clause = Article(f"Intérêts de retard prévus au contrat — {CLAUSE_BASIS}")
    without: list[str] = []
    for line in claim.lines:
        found = line.charges
        i = line.invoice
        if found is None or (found.interest is None and found.clause is None):
            without.append(i.number)
            continue
        note = (f"mise en demeure du {long_date(found.formal_notice_on)}, intérêts à compter du lendemain"
                if found.formal_notice_on else "")
        if found.clause is not None:
            clause.invoices.append(InvoiceBlock(i.number, i.due_date, list(found.clause.periods),
                                                found.clause.total, note))
        elif found.interest is not None:
            legal.invoices.append(InvoiceBlock(i.number, i.due_date, list(found.interest.periods),
                                               found.interest.total, note))
    articles = [a for a in (legal, clause) if a.invoices]
    nothing = ""
    if without:
        nothing = ("Aucun intérêt n’est calculé pour la facture n° " if len(without) == 1 else
                   "Aucun intérêt n’est calculé pour les factures n° ") + ", ".join(without) + \
            " : les intérêts ne courent qu’à compter de la mise en demeure."
    return Computation(articles, nothing)
