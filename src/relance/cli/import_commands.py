"""``relance import [csv|fec|einvoice|bank] FILE…``, the bank review list and the FEC
label mapping: parse the arguments, call one service, print (text or --json)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from relance.errors import InvalidInput

from .output import emit

FORMATS = ("csv", "fec", "einvoice", "bank")


def split_format(items: list[str]) -> tuple[str, list[Path]]:
    """``["fec", "a.txt"]`` → ``("fec", [a.txt])``; without a format word, CSV/XLSX."""
    fmt = "csv"
    if items and items[0] in FORMATS:
        fmt, items = items[0], items[1:]
    if not items:
        raise InvalidInput(f"aucun fichier à importer (relance import {fmt} FICHIER)")
    return fmt, [Path(i) for i in items]


def cmd_import(args: argparse.Namespace) -> int:
    from relance.ledger.services.organisations import resolve_organisation

    fmt, paths = split_format(args.files)
    org = resolve_organisation(args.org)
    if fmt != "einvoice" and len(paths) > 1:
        raise InvalidInput(f"un seul fichier à la fois pour l’import {fmt}")
    if fmt == "csv":
        return _import_csv(args, org, paths[0])
    report: Any
    if fmt == "fec":
        from relance.ledger.services.fec_import import import_fec

        report = import_fec(org, paths[0], customer_prefix=args.prefix, default_kind=args.default_kind)
    elif fmt == "einvoice":
        from relance.ledger.services.einvoice_import import import_einvoices

        report = import_einvoices(org, paths, default_kind=args.default_kind)
    else:
        from relance.banking.services.statements import import_statement

        report = import_statement(org, paths[0])
    emit(args, report.as_dict(), report.as_text())
    return 0


def _import_csv(args: argparse.Namespace, org: Any, path: Path) -> int:
    from relance.ledger.services.imports import import_file

    report = import_file(org, path, args.kind, actor="cli", default_kind=args.default_kind)
    emit(args, report.as_dict(), report.as_text())
    return 0


def cmd_bank(args: argparse.Namespace) -> int:
    from relance.banking.services import review
    from relance.core.formatting import money
    from relance.ledger.services.organisations import resolve_organisation

    org = resolve_organisation(args.org)
    actor = f"cli:{args.user}" if args.user else "cli"
    if args.action == "review":
        items = review.review_list(org)
        lines = [f"{len(items)} virement(s) à vérifier :"] if items else ["Aucun virement à vérifier."]
        for item in items:
            d = item.as_dict()
            lines.append(f"  n° {d['line_id']:<6} {d['booking_date']}  {money(d['amount']):>14}  "
                         f"{d['counterparty'][:30]:<30}  {d['remittance'][:50]}")
            for c in d["candidates"]:
                lines.append(f"      → {c['customer']:<10} {', '.join(c['invoices'])}  {money(c['amount'])}"
                             f"  ({c['reason']})")
        emit(args, [i.as_dict() for i in items], "\n".join(lines))
        return 0
    if args.line is None:
        raise InvalidInput(f"relance bank {args.action} : numéro de ligne bancaire manquant")
    if args.action == "apply":
        payment = review.apply_match(org, args.line, args.invoices, customer_code=args.customer, actor=actor)
        data = {"line_id": args.line, "payment": payment.reference, "customer": payment.customer.code,
                "amount": f"{payment.amount:.2f}",
                "allocations": [{"invoice": a.invoice.number, "amount": f"{a.amount:.2f}"}
                                for a in payment.allocations.select_related("invoice")]}
        text = f"Virement n° {args.line} rapproché : paiement {payment.reference} de {money(payment.amount)} " \
               f"({payment.customer.legal_name})."
        emit(args, data, text)
        return 0
    review.dismiss_line(org, args.line, args.reason or "", actor=actor)
    emit(args, {"line_id": args.line, "dismissed": True}, f"Virement n° {args.line} écarté du rapprochement.")
    return 0


def cmd_alias(args: argparse.Namespace) -> int:
    from relance.core.formatting import money
    from relance.ledger.services.fec_import import map_fec_label, unattributed_credits
    from relance.ledger.services.organisations import resolve_organisation

    org = resolve_organisation(args.org)
    moved = map_fec_label(org, args.label, args.customer, actor="cli")
    left = [left for _account, left in sorted(unattributed_credits(org).items())]
    text = f"Libellé « {args.label} » rattaché au client {args.customer} ({moved} facture(s) déplacée(s))."
    text += "".join(f"\nReste à affecter sur {u.where} : {money(u.amount)} en {u.count} écriture(s) "
                    "(ses clients restent en pause)." for u in left) or (
        "\nPlus aucun règlement non attribué sur les comptes collectifs.")
    emit(args, {"label": args.label, "customer": args.customer, "invoices_moved": moved,
                  "unattributed": [u.as_dict() for u in left]}, text)
    return 0


def add_parsers(sub: Any) -> None:
    imp = sub.add_parser(
        "import", help="importe un fichier : csv (défaut), fec, einvoice (Factur-X, CII, UBL), bank (relevé)",
        description="relance import [csv|fec|einvoice|bank] FICHIER… — voir docs/imports.md",
    )
    imp.add_argument("files", nargs="+", metavar="[FORMAT] FICHIER")
    imp.add_argument("--type", dest="kind", choices=["clients", "contacts", "factures", "avoirs", "paiements"],
                     help="CSV/XLSX : type de contenu, si l’en-tête ne suffit pas")
    imp.add_argument("--type-par-defaut", dest="default_kind", choices=["entreprise", "particulier"],
                     help="CSV/XLSX, FEC, factures électroniques : type des nouveaux clients dont la ligne n’en "
                          "indique pas (sinon l’import est refusé) ; rappelé dans le compte rendu")
    imp.add_argument("--prefix", default="411", help="FEC : préfixe des comptes clients (défaut 411)")
    imp.add_argument("--org")
    imp.add_argument("--json", action="store_true")

    bank = sub.add_parser("bank", help="virements à vérifier : liste, rapprochement manuel, mise à l’écart")
    bank.add_argument("action", nargs="?", choices=["review", "apply", "dismiss"], default="review")
    bank.add_argument("line", nargs="?", type=int, help="numéro de la ligne bancaire (apply, dismiss)")
    bank.add_argument("invoices", nargs="*", help="numéros des factures réglées (apply)")
    bank.add_argument("--customer", help="code client (apply, quand aucune facture n’est désignée)")
    bank.add_argument("--reason", help="motif (dismiss)")
    bank.add_argument("--user", help="nom de l’utilisateur, pour le journal")
    bank.add_argument("--org")
    bank.add_argument("--json", action="store_true")

    alias = sub.add_parser("alias", help="rattache un libellé d’écriture FEC à un client")
    alias.add_argument("kind", choices=["fec-label"])
    alias.add_argument("label", help="libellé tel qu’il apparaît dans le FEC")
    alias.add_argument("customer", help="code client")
    alias.add_argument("--org")
    alias.add_argument("--json", action="store_true")
