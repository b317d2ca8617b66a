"""What an import says: its report (counts, warnings, the unattributed credits of collective accounts)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from relance.core.formats.fec import NO_LABEL
from relance.core.formatting import long_date, money, number
from relance.core.money import ZERO, to_cents

MAX_LISTED = 10


COUNT_NAMES = (
    "customers_created", "customers_updated", "customers_unchanged", "aliases_created",
    "invoices_created", "invoices_updated", "invoices_unchanged", "invoices_adopted", "invoices_carried_forward",
    "invoices_closed", "invoices_reopened",
    "payments_created", "payments_updated", "payments_removed",
    "credit_notes_created", "credit_notes_updated", "credit_notes_removed",
    "credits_applied",
)


@dataclass
class Unattributed:
    """The credits (payments, credit notes) of one collective account that settle no invoice of the
    customer their entry label names (:func:`unattributed_credits`)."""

    account: str  # "" when the account cannot be read back (a credit whose key was too long)
    amount: Decimal = ZERO  # what is left unapplied of them
    count: int = 0
    labels: dict[str, Decimal] = field(default_factory=dict)  # label name -> amount left unapplied
    lines: list[int] = field(default_factory=list)  # their FEC line numbers (known during an import)
    customers: int = 0  # customers of the account paused until the credits are assigned
    idents: list[str] = field(default_factory=list, repr=False)  # their references (payments) or reasons

    @property
    def where(self) -> str:
        return f"le compte collectif {self.account}" if self.account else "un compte collectif"

    @property
    def example(self) -> str:
        """The label holding the largest amount, to show how to assign it."""
        return self.ranked[0][0] if self.labels else NO_LABEL

    @property
    def ranked(self) -> list[tuple[str, Decimal]]:
        return sorted(self.labels.items(), key=lambda item: (-item[1], item[0]))

    def as_dict(self) -> dict[str, Any]:
        return {"account": self.account, "amount": f"{to_cents(self.amount):.2f}", "count": self.count,
                "lines": list(self.lines), "customers_paused": self.customers,
                "labels": [{"label": name, "amount": f"{to_cents(amount):.2f}"}
                           for name, amount in self.ranked]}

    def as_text(self) -> str:
        labels = ", ".join(f"« {name} » {money(amount)}" for name, amount in self.ranked[:MAX_LISTED])
        more = f" et {len(self.labels) - MAX_LISTED} autre(s)" if len(self.labels) > MAX_LISTED else ""
        lines = ""
        if self.lines:
            shown = ", ".join(str(n) for n in self.lines[:MAX_LISTED])
            lines = f" (ligne{'s' if len(self.lines) > 1 else ''} {shown}{'…' if len(self.lines) > MAX_LISTED else ''})"
        example = self.example
        return (f"Règlements non attribués sur {self.where} : {money(self.amount)} en {_n(self.count)} écriture(s)"
                f"{lines} ne soldent aucune facture du client que nomme leur libellé ({labels}{more}) ; ils ont pu "
                f"payer des factures d’autres clients de ce compte. Ses {_n(self.customers)} client(s) avec des "
                "factures ouvertes sont en pause, sans relance automatique, jusqu’à l’affectation de ces règlements : "
                f"rattachez chaque libellé au bon client (relance alias fec-label \"{example}\" CODE_CLIENT) ou "
                "corrigez la comptabilité puis réimportez le FEC ; la pause est alors levée d’elle-même.")


@dataclass
class FecImportReport:
    file: str
    customer_prefix: str = "411"
    already_imported: bool = False
    lines: int = 0
    entries: int = 0
    first_date: date | None = None
    last_date: date | None = None
    customers: int = 0  # customer accounts with open items in the file
    open_invoices: int = 0
    open_credits: int = 0
    open_amount: Decimal = ZERO  # Σ debit − credit of the open customer lines (residuals of partial letterings)
    applied_amount: Decimal = ZERO  # of the unapplied credits, the part applied to invoices
    warnings: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    default_kind: str | None = None  # « entreprise » or « particulier », given for this import
    defaulted: int = 0  # new customers that took it
    unattributed: list[Unattributed] = field(default_factory=list)  # by collective account

    def as_dict(self) -> dict[str, Any]:
        return {
            "default_kind": self.default_kind,
            "defaulted": self.defaulted,
            "file": self.file,
            "already_imported": self.already_imported,
            "customer_prefix": self.customer_prefix,
            "lines": self.lines,
            "entries": self.entries,
            "period": [self.first_date.isoformat(), self.last_date.isoformat()]
            if self.first_date and self.last_date else None,
            "customers": self.customers,
            "open_invoices": self.open_invoices,
            "open_credits": self.open_credits,
            "open_amount": f"{to_cents(self.open_amount):.2f}",
            "applied_amount": f"{to_cents(self.applied_amount):.2f}",
            **{name: self.counts.get(name, 0) for name in COUNT_NAMES},
            "unattributed": [u.as_dict() for u in self.unattributed],
            "warnings": list(self.warnings),
        }

    def as_text(self) -> str:
        if self.already_imported:
            return f"FEC « {self.file} » : déjà importé, rien n’a changé."
        c = self.counts
        period = ""
        if self.first_date and self.last_date:
            period = f", du {long_date(self.first_date)} au {long_date(self.last_date)}"
        out = [
            f"FEC « {self.file} » : {_n(self.lines)} lignes, {_n(self.entries)} écritures{period}.",
            f"Créances ouvertes (comptes {self.customer_prefix}…) : {money(self.open_amount)} — "
            f"{_n(self.open_invoices)} facture(s), {_n(self.open_credits)} règlement(s) ou avoir(s) non lettré(s), "
            f"{_n(self.customers)} client(s).",
            f"Clients : {_n(c['customers_created'])} créé(s), {_n(c['customers_updated'])} mis à jour"
            + (f" ; type par défaut donné pour cet import : {self.default_kind} ({_n(self.defaulted)} nouveau(x) "
               "client(s))." if self.default_kind else "."),
            f"Factures : {_n(c['invoices_created'])} créée(s), {_n(c['invoices_updated'])} modifiée(s), "
            f"{_n(c['invoices_closed'])} soldée(s) par lettrage, {_n(c['invoices_reopened'])} rouverte(s).",
            f"Règlements et avoirs : {_n(c['payments_created'] + c['credit_notes_created'])} enregistré(s), "
            f"{_n(c['payments_removed'] + c['credit_notes_removed'])} retiré(s) (lettrés depuis), "
            f"{money(self.applied_amount)} imputés sur les factures.",
        ]
        out += [u.as_text() for u in self.unattributed]
        if self.warnings:
            out.append("Avertissements :")
            out += [f"  – {w}" for w in self.warnings]
        return "\n".join(out)


def _n(value: int) -> str:
    return number(Decimal(value), digits=0)
