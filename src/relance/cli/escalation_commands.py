"""``relance audit`` (the escalation rules checked on the event log) and ``relance formal-notice``
(a second formal notice, only at a person's request)."""

from __future__ import annotations

import argparse
from typing import Any

from .output import emit

RULES = {1: "toujours plus ferme", 2: "une seule fois", 3: "à son heure", 4: "sans étape sautée",
         5: "phrases vraies"}


def add_parsers(sub: Any) -> None:
    audit = sub.add_parser("audit", help="vérifie dans le journal que chaque relance envoyée respecte les règles "
                                         "d’escalade (code de sortie 8 sinon)")
    audit.add_argument("--org", help="une organisation (défaut : toutes)")
    audit.add_argument("--json", action="store_true")

    notice = sub.add_parser("formal-notice", help="nouvelle mise en demeure d’une facture, à la demande d’une personne")
    notice.add_argument("action", choices=["reissue"])
    notice.add_argument("invoice", help="numéro de facture")
    notice.add_argument("--reason", required=True, help="pourquoi une nouvelle mise en demeure (enregistré)")
    notice.add_argument("--org")
    notice.add_argument("--json", action="store_true")


def cmd_audit(args: argparse.Namespace) -> int:
    from relance.dunning.services.audit import audit_organisation
    from relance.errors import RulesBroken
    from relance.ledger.models import Organisation
    from relance.ledger.services.organisations import resolve_organisation

    orgs = [resolve_organisation(args.org)] if args.org else list(Organisation.objects.order_by("slug"))
    reports = [audit_organisation(org) for org in orgs]
    total = sum(len(r.violations) for r in reports)
    lines = []
    for report in reports:
        lines.append(f"{report.organisation} : {report.messages} envois sur {report.invoices} factures, "
                     f"{len(report.violations)} infraction(s)")
        lines += [f"  {v.invoice:<20} {v.on.isoformat()}  règle {v.rule} ({RULES[v.rule]}) : {v.message} — "
                  f"{v.reference}" for v in report.violations]
    if not reports:
        lines.append("aucune organisation")
    emit(args, {"organisations": [r.as_dict() for r in reports], "violations": total}, "\n".join(lines))
    return RulesBroken.exit_code if total else 0


def cmd_formal_notice(args: argparse.Namespace) -> int:
    from relance.dunning.services.escalation import reissue_formal_notice
    from relance.errors import NotFound
    from relance.ledger.models import Invoice
    from relance.ledger.services.organisations import resolve_organisation

    org = resolve_organisation(args.org)
    invoice = Invoice.objects.filter(organisation=org, number=args.invoice).first()
    if invoice is None:
        raise NotFound(f"facture « {args.invoice} » introuvable")
    reminder = reissue_formal_notice(org, invoice, reason=args.reason, actor="cli")
    emit(args, {"reminder": reminder.pk, "invoice": invoice.number, "planned_for": reminder.planned_for},
           f"Nouvelle mise en demeure prévue le {reminder.planned_for.isoformat()} (relance n° {reminder.pk}) "
           f"pour la facture {invoice.number} : elle part avec « relance run ».")
    return 0
