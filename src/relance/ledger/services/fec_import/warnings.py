"""The warnings of an import report (what a FEC does not say, what relance guessed)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from relance.core.formatting import money

from .report import MAX_LISTED, _n
from .state import ImportRun


def _more(items: Sequence[object]) -> str:
    return f" et {len(items) - MAX_LISTED} autre(s)" if len(items) > MAX_LISTED else ""


class Warnings(ImportRun):
    """The warnings of an import report (what a FEC does not say, what relance guessed)."""

    def _siren_warning(self) -> None:
        found = re.search(r"(\d{9})FEC\d{8}", self.filename, re.IGNORECASE)
        siren = self.org.siren
        if found and siren and found.group(1) != siren:
            self.report.warnings.append(
                f"le nom du fichier indique le SIREN {found.group(1)}, celui de l’organisation est {siren} : "
                "vérifiez qu’il s’agit bien du FEC de cette société")

    def _warnings(self) -> None:
        rec, warnings, org = self.rec, self.report.warnings, self.org
        if self.report.defaulted and self.report.default_kind == "entreprise":
            warnings.append(
                f"{_n(self.report.defaulted)} nouveau(x) client(s) créé(s) comme entreprises sans SIREN ni SIRET (un "
                "FEC n’en donne pas) : à compléter, ils identifient le débiteur dans une mise en demeure")
        if self.report.open_invoices:
            warnings.append(
                "le FEC ne contient pas d’échéances : chaque facture échoit à sa date de pièce plus le délai de "
                f"paiement du client, à défaut celui de l’organisation ({org.default_terms_days} jours)")
        for acc in rec.collective:
            warnings.append(
                f"compte {acc.account} « {acc.label or 'sans libellé'} » lu comme un compte collectif ({acc.reason}) : "
                f"ses {_n(acc.lines)} ligne(s) sont réparties entre {_n(acc.names)} client(s) déduit(s) du libellé "
                "des écritures")
        guessed = sorted((c for c in rec.customers if c.source == "label" and c.open_items), key=lambda c: -c.balance)
        if guessed:
            listed = ", ".join(f"« {c.code} » ({money(c.balance)})" for c in guessed[:MAX_LISTED])
            warnings.append(
                f"{len(guessed)} client(s) deviné(s) d’après le libellé des écritures (compte collectif sans compte "
                f"auxiliaire), à vérifier : {listed}{_more(guessed)} ; un regroupement erroné se corrige en "
                "associant le libellé au bon client")
        if rec.one_sided_groups:
            side = "débiteur" if rec.one_sided_amount > 0 else "créditeur"
            warnings.append(
                f"{rec.one_sided_groups} lettrage(s) sans contrepartie dans le fichier (solde {side} de "
                f"{money(abs(rec.one_sided_amount))}) : lettrés avec des écritures absentes de ce FEC, considérés "
                "comme soldés")
        if rec.partial_groups:
            warnings.append(f"{rec.partial_groups} lettrage(s) partiel(s) : la partie non lettrée "
                            f"({money(rec.partial_open)}) reste due")
        credit = sorted((c for c in rec.open_customers if c.balance < 0), key=lambda c: c.balance)
        if credit:
            listed = ", ".join(f"« {c.name} » ({c.code}) : {money(-c.balance)}" for c in credit[:MAX_LISTED])
            warnings.append(f"{len(credit)} client(s) au solde créditeur (avoirs ou règlements non imputés), "
                            f"rien à relancer : {listed}{_more(credit)}")
        if self.fallback_numbers:
            warnings.append(f"{self.fallback_numbers} facture(s) numérotée(s) d’après le journal et le numéro "
                            "d’écriture (PieceRef vide, générique, en double ou déjà pris)")
        if self.absent:
            listed = ", ".join(i.number for i in self.absent[:MAX_LISTED])
            warnings.append(f"{len(self.absent)} facture(s) d’un FEC précédent ni ouverte(s), ni lettrée(s), ni "
                            f"reportée(s) à nouveau dans celui-ci, considérée(s) comme soldée(s) : "
                            f"{listed}{_more(self.absent)}")
