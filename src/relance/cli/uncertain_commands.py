"""``relance uncertain``: the reminders « à vérifier » (they may have left), and a person's
decision on one: ``sent ID`` (« parti ») or ``resend ID`` (« renvoyer »)
(``dunning.services.uncertain``)."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from .output import emit

ACTIONS = ["list", "show", "sent", "resend"]


def add_parsers(sub: Any) -> None:
    unc = sub.add_parser("uncertain", help="relances à vérifier (peut-être parties) : liste, détail, parti, renvoyer")
    unc.add_argument("action", nargs="?", choices=ACTIONS, default="list",
                     help="list (défaut) ; show ID : destinataire et texte ; sent ID : elle est partie ; "
                          "resend ID : elle n’est pas arrivée, la renvoyer")
    unc.add_argument("reminder", nargs="?", type=int, help="numéro de la relance (show, sent, resend)")
    unc.add_argument("--now", action="store_true", help="resend : l’envoie dans ce processus au lieu de la file")
    unc.add_argument("--org", help="une seule organisation (list) ; celle de la relance (show, sent, resend)")
    unc.add_argument("--json", action="store_true")


def _when(moment: datetime | None, zone: str) -> str:
    from relance.clock import zone_of
    from relance.core.formatting import long_date

    if moment is None:
        return "—"
    local = moment.astimezone(zone_of(zone))
    return f"{long_date(local.date())} à {local:%H:%M:%S}"


def cmd_uncertain(args: argparse.Namespace) -> int:
    from relance.dunning.services import uncertain
    from relance.errors import InvalidInput
    from relance.ledger.models import Organisation
    from relance.ledger.services.organisations import resolve_organisation

    if args.action == "list":
        org = Organisation.objects.filter(slug=args.org).first() if args.org else None
        if args.org and org is None:
            resolve_organisation(args.org)  # raises the usual « introuvable »
        rows = uncertain.uncertain_reminders(org)
        if not rows:
            text = "Aucune relance à vérifier."
        else:
            lines = [f"{len(rows)} relance(s) à vérifier (peut-être parties : ne pas renvoyer sans vérifier) :"]
            for row in rows:
                r = row.reminder
                lines.append(f"n° {r.pk:<6} {row.customer_code:<10} {row.customer_name[:28]:<28} "
                             f"remise le {_when(row.handed_over_at, r.organisation.timezone)} — {r.recipient} — "
                             f"« {r.subject} »")
            lines.append("Détail : relance uncertain show ID ; puis relance uncertain sent ID (partie) "
                         "ou relance uncertain resend ID (à renvoyer).")
            text = "\n".join(lines)
        emit(args, [row.as_dict() for row in rows], text)
        return 0
    if args.reminder is None:
        raise InvalidInput(f"indiquez le numéro de la relance : relance uncertain {args.action} ID")
    org = _organisation_of(args)
    if args.action == "show":
        reminder = uncertain.uncertain_reminder(org, args.reminder)
        row = uncertain.UncertainRow(reminder, reminder.customer.code, reminder.customer.legal_name,
                                     reminder.handed_over_at)
        text = "\n".join([
            f"Relance n° {reminder.pk} — {reminder.customer.legal_name} ({reminder.customer.code}) — "
            f"{reminder.get_status_display()}",
            f"Remise au serveur : {_when(reminder.handed_over_at, org.timezone)}",
            f"Destinataire : {reminder.recipient or '—'}",
            f"Objet : {reminder.subject or '—'}",
            f"Message-ID : {reminder.message_id or '—'}",
            *([f"PDF : {reminder.document.name}"] if reminder.document else []),
            f"Motif : {reminder.last_error or '—'}",
            "", reminder.body_text or "(texte non conservé)"])
        emit(args, {**row.as_dict(), "status": reminder.status, "body_text": reminder.body_text}, text)
        return 0
    if args.action == "sent":
        reminder = uncertain.confirm_sent(org, args.reminder, actor="cli")
        emit(args, {"reminder": reminder.pk, "status": reminder.status, "sent_at": reminder.sent_at},
               f"Relance n° {reminder.pk} enregistrée comme partie le {_when(reminder.sent_at, org.timezone)}.")
        return 0
    from relance.dunning.services.dispatcher import send_reminder

    reminder = uncertain.request_resend(org, args.reminder, actor="cli", enqueue=not args.now)
    outcome = send_reminder(reminder.pk) if args.now else "queued"
    reminder.refresh_from_db()
    texts = {"queued": "remise en file d’envoi (un worker l’enverra : « relance worker » ou « relance run »)",
             "sent": "renvoyée", "cancelled": "annulée : plus aucune facture à relancer",
             "retrying": "échec temporaire, nouvelle tentative prévue", "failed": "en échec",
             "uncertain": "de nouveau à vérifier"}
    text = f"Relance n° {reminder.pk} {texts.get(outcome, outcome)} (même Message-ID {reminder.message_id or '—'})."
    if outcome in ("failed", "uncertain") and reminder.last_error:
        text += f"\n{reminder.last_error}"
    emit(args, {"reminder": reminder.pk, "outcome": outcome, "status": reminder.status,
                  "attempts": reminder.attempts, "last_error": reminder.last_error}, text)
    return 0


def _organisation_of(args: argparse.Namespace) -> Any:
    """The organisation named, else the reminder's own (the number is unique in the database)."""
    from relance.dunning.models import Reminder
    from relance.errors import NotFound
    from relance.ledger.services.organisations import resolve_organisation

    if args.org:
        return resolve_organisation(args.org)
    reminder = Reminder.objects.select_related("organisation").filter(pk=args.reminder).first()
    if reminder is None:
        raise NotFound(f"relance n° {args.reminder} introuvable")
    return reminder.organisation
