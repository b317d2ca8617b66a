"""What a litigation case claims on a given day, element by element, with the basis of each:
the one computation the evidence file, the injonction de payer request (C. proc. civ. 1407:
« le décompte des différents éléments de la créance ainsi que le fondement de celle-ci ») and
the case page all show, so that they never disagree.

Per invoice still owed (``amount_due`` > 0): the principal (what remains due, TTC), and the late
charges computed by ``dunning.services.charges`` to ``as_of``:

* a business debtor: late-payment penalties (C. com. L441-10 II), the 40 € recovery indemnity
  (D441-5) and, on justification, the collection costs above it (L441-10 II);
* a consumer: interest at the legal rate from the formal notice (C. civ. 1231-6 and 1344-1,
  CMF L313-2) or the contract's rate (clause pénale, C. civ. 1231-5); never penalties, the
  indemnity nor collection costs (CPCE L111-8).

Pieces (:class:`Piece`) are the numbered supporting documents (bordereau de pièces) shared by
the evidence file and the request.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from relance.core.money import ZERO
from relance.dunning.services.charges import CIVIL_BASIS, L441_BASIS, InvoiceCharges, charges_of_invoices
from relance.ledger.models import Invoice, Organisation
from relance.rates.services import rate_tables

from .models import LitigationCase

PRINCIPAL_BASIS = "art. 1103 et 1353 du Code civil (force obligatoire du contrat, preuve de l’obligation)"
PENALTIES_BASIS = "art. L441-10 II du Code de commerce"
INDEMNITY_BASIS = "art. L441-10 II et D441-5 du Code de commerce"
COSTS_BASIS = "art. L441-10 II du Code de commerce (frais de recouvrement justifiés au-delà de 40 €)"
INTEREST_BASIS = "art. 1231-6 et 1344-1 du Code civil, L313-2 du Code monétaire et financier"
CLAUSE_BASIS = "art. 1231-5 du Code civil (clause pénale du contrat), à compter de la mise en demeure"


@dataclass(frozen=True)
class Piece:
    """One supporting document (« pièce ») of a case, numbered in the bordereau: the same number
    in the evidence file's table of contents, its ZIP and the request's list."""

    number: int
    title: str
    kind: str  # statement, invoice, reminder, formal_notice, receipt, reply, hold, computation, chain, other
    on: date | None = None
    filename: str = ""
    sha256: str = ""
    size: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"number": self.number, "title": self.title, "kind": self.kind, "on": self.on,
                "filename": self.filename, "sha256": self.sha256, "size": self.size}


@dataclass
class ClaimLine:
    invoice: Invoice
    principal: Decimal
    penalties: Decimal = ZERO
    interest: Decimal = ZERO
    indemnity: Decimal = ZERO
    complement: Decimal = ZERO
    charges: InvoiceCharges | None = None

    @property
    def total(self) -> Decimal:
        return self.principal + self.penalties + self.interest + self.indemnity + self.complement

    def as_dict(self) -> dict[str, Any]:
        i = self.invoice
        return {"invoice": i.pk, "number": i.number, "issue_date": i.issue_date, "due_date": i.due_date,
                "amount_incl_tax": i.amount_incl_tax, "principal": self.principal, "penalties": self.penalties,
                "interest": self.interest, "indemnity": self.indemnity, "complement": self.complement,
                "total": self.total, "days_late": self.charges.days_late if self.charges else 0}


@dataclass
class Claim:
    """The amounts a case claims on ``as_of``, with their bases (article by article)."""

    as_of: date
    business: bool
    currency: str
    lines: list[ClaimLine] = field(default_factory=list)
    #: a rate missing from the tables, or another reason a charge could not be computed
    warnings: list[str] = field(default_factory=list)

    def _sum(self, attr: str) -> Decimal:
        return sum((getattr(line, attr) for line in self.lines), ZERO)

    @property
    def principal(self) -> Decimal:
        return self._sum("principal")

    @property
    def penalties(self) -> Decimal:
        return self._sum("penalties")

    @property
    def interest(self) -> Decimal:
        return self._sum("interest")

    @property
    def indemnity(self) -> Decimal:
        return self._sum("indemnity")

    @property
    def complement(self) -> Decimal:
        return self._sum("complement")

    @property
    def total(self) -> Decimal:
        return self._sum("total")

    @property
    def uses_clause(self) -> bool:
        return any(line.charges is not None and line.charges.clause is not None for line in self.lines)

    def elements(self) -> list[tuple[str, Decimal, str]]:
        """(label, amount, basis) of each element claimed, principal first; an element at zero is
        left out, and a consumer's list never names a business-only article."""
        found: list[tuple[str, Decimal, str]] = [("Principal (factures restant dues)", self.principal, PRINCIPAL_BASIS)]
        if self.business:
            found += [("Pénalités de retard", self.penalties, PENALTIES_BASIS),
                      ("Indemnité forfaitaire pour frais de recouvrement", self.indemnity, INDEMNITY_BASIS),
                      ("Frais de recouvrement justifiés au-delà de l’indemnité", self.complement, COSTS_BASIS)]
        else:
            found.append(("Intérêts de retard", self.interest, CLAUSE_BASIS if self.uses_clause else INTEREST_BASIS))
        return [(label, amount, basis) for label, amount, basis in found if amount or label.startswith("Principal")]

    @property
    def basis(self) -> str:
        return L441_BASIS if self.business else CIVIL_BASIS

    def as_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of, "business": self.business, "currency": self.currency,
                "principal": self.principal, "penalties": self.penalties, "interest": self.interest,
                "indemnity": self.indemnity, "complement": self.complement, "total": self.total,
                "elements": [{"label": label, "amount": amount, "basis": basis}
                             for label, amount, basis in self.elements()],
                "lines": [line.as_dict() for line in self.lines], "warnings": self.warnings}


def claim_of_invoices(organisation: Organisation, invoices: Iterable[Invoice], as_of: date, *,
                      business: bool) -> Claim:
    """The claim on ``invoices`` (those still owing something) to ``as_of``."""
    owed = sorted((i for i in invoices if i.amount_due > ZERO), key=lambda i: (i.due_date, i.number))
    claim = Claim(as_of, business, owed[0].currency if owed else "EUR")
    charges = charges_of_invoices(organisation, owed, as_of, rate_tables()) if owed else {}
    for invoice in owed:
        found = charges[invoice.pk]
        line = ClaimLine(invoice, invoice.amount_due, charges=found)
        if found.missing is not None:
            claim.warnings.append(f"facture {invoice.number} : {found.missing}")
        elif business:
            line.penalties = found.penalties.total if found.penalties is not None else ZERO
            line.indemnity, line.complement = found.indemnity, found.complement
        else:
            line.interest = found.late_charge
        claim.warnings += [f"facture {invoice.number} : {w}" for w in found.warnings]
        claim.lines.append(line)
    return claim


def claim_for(organisation: Organisation, case: LitigationCase, as_of: date) -> Claim:
    """The claim of ``case`` on ``as_of``: its invoices still owed, to that day."""
    invoices = [line.invoice for line in case.lines.select_related("invoice", "invoice__customer")]
    return claim_of_invoices(organisation, invoices, as_of, business=case.customer.is_business)
