"""``relance profiles``: the payer profiles of an organisation (list, install the defaults
in an organisation created before they existed, assign them now)."""

from __future__ import annotations

import argparse
from typing import Any

from .output import emit, parse_date


def add_parsers(sub: Any) -> None:
    profiles = sub.add_parser("profiles", help="profils de payeurs : liste, installation, affectation")
    profiles.add_argument("action", nargs="?", choices=["list", "install", "assign"], default="list",
                          help="list (défaut) ; install : profils par défaut ; assign : affecte les clients")
    profiles.add_argument("--date", help="assign : date de calcul (AAAA-MM-JJ), défaut aujourd’hui")
    profiles.add_argument("--org")
    profiles.add_argument("--json", action="store_true")


def _listing(organisation: Any) -> dict[str, Any]:
    from django.db.models import Count

    from relance.profiles.models import PayerProfile

    rows = (PayerProfile.objects.filter(organisation=organisation).select_related("scenario")
            .annotate(customers=Count("assignments")).order_by("position"))
    return {"organisation": organisation.slug, "profiles": [
        {"position": p.position, "name": p.name, "scenario": p.scenario.name, "audience": p.audience,
         "min_invoices": p.min_invoices, "min_outstanding": p.min_outstanding, "max_outstanding": p.max_outstanding,
         "max_average_days_late": p.max_average_days_late, "max_share_late": p.max_share_late,
         "max_reminders_per_invoice": p.max_reminders_per_invoice, "customers": p.customers}
        for p in rows]}


def _text(data: dict[str, Any]) -> str:
    if not data["profiles"]:
        return "Aucun profil de payeur : « relance profiles install » installe les profils par défaut."
    lines = [f"{'ordre':>5}  {'profil':<22} {'scénario':<22} {'clients':>7}"]
    lines += [f"{p['position']:>5}  {p['name']:<22} {p['scenario']:<22} {p['customers']:>7}" for p in data["profiles"]]
    return "\n".join(lines)


def cmd_profiles(args: argparse.Namespace) -> int:
    from relance.clock import today_for
    from relance.ledger.services.organisations import resolve_organisation
    from relance.profiles.services import assign_profiles, install_default_profiles

    org = resolve_organisation(args.org)
    if args.action == "install":
        before = _listing(org)["profiles"]
        install_default_profiles(org, actor="cli")
        data = _listing(org)
        data["installed"] = not before
        head = "Profils par défaut installés." if not before else "Profils déjà présents : rien n’a changé."
        emit(args, data, f"{head}\n{_text(data)}")
    elif args.action == "assign":
        day = parse_date(args.date) if args.date else today_for(org)
        report = assign_profiles(org, day, actor="cli")
        counts = ", ".join(f"{name} : {n}" for name, n in sorted(report.by_profile.items())) or "aucun profil"
        emit(args, report.as_dict(), f"{report.customers} clients classés au {day:%d/%m/%Y} ({counts}) ; "
                                       f"{report.changed} changent de profil, {report.scenarios_changed} de scénario.")
    else:
        data = _listing(org)
        emit(args, data, _text(data))
    return 0
