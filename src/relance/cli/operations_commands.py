"""``relance doctor`` (pre-flight checks) and ``relance digest`` (the day's summary email)."""

from __future__ import annotations

import argparse
from typing import Any

from relance.errors import DoctorProblems

from .output import emit, parse_date

COMMANDS = ("doctor", "digest")


def add_parsers(sub: Any) -> None:
    doctor = sub.add_parser("doctor", help="vérifie que tout est prêt : base, SMTP, organisations, taux, workers, disque")
    doctor.add_argument("--org", help="n’examiner que cette organisation")
    doctor.add_argument("--json", action="store_true")

    digest = sub.add_parser("digest", help="envoie aux chargés de recouvrement le bilan de la journée (une fois par jour)")
    digest.add_argument("--org", help="cette organisation seulement (défaut : toutes)")
    digest.add_argument("--date", help="journée (AAAA-MM-JJ), défaut aujourd’hui")
    digest.add_argument("--json", action="store_true")


def cmd_doctor(args: argparse.Namespace) -> int:
    import sys

    from relance.operations.doctor import run_checks

    orgs = None
    if args.org:
        from relance.ledger.services.organisations import resolve_organisation
        from relance.operations.doctor import database_initialised

        if database_initialised():
            orgs = [resolve_organisation(args.org)]
    report = run_checks(orgs)
    emit(args, report.as_dict(), report.text())
    if not report.ok:
        n = len(report.problems)
        print(f"relance : {n} problème{'s' if n > 1 else ''} à corriger (lignes « PROBLÈME »)", file=sys.stderr)
        return DoctorProblems.exit_code
    return 0


def cmd_digest(args: argparse.Namespace) -> int:
    from relance.ledger.models import Organisation
    from relance.ledger.services.organisations import resolve_organisation
    from relance.operations.digest import DigestNotSent, send_digest

    orgs = [resolve_organisation(args.org)] if args.org else list(Organisation.objects.order_by("slug"))
    day = parse_date(args.date) if args.date else None
    results = []
    for org in orgs:
        try:
            results.append(send_digest(org, day))
        except DigestNotSent as exc:
            results.append(exc.result)
    emit(args, {"digests": [r.as_dict() for r in results]}, "\n".join(r.text() for r in results) or "aucune organisation")
    failed = [r for r in results if r.outcome == "failed"]
    if failed:
        import sys

        from relance.errors import NotDelivered

        error = NotDelivered("bilan non envoyé : " + " ; ".join(f"{r.organisation} ({r.error})" for r in failed))
        print(f"relance : {error.message}", file=sys.stderr)
        return error.exit_code
    return 0
