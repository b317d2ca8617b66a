"""``relance replies fetch|receive|list|show|confirm|attach|dismiss|reopen|undo|accuracy|mailbox``:
the inbox from the command line, over the same services as the web « Boîte de réception »
(``relance.replies.services``). Every read has ``--json``."""

from __future__ import annotations

import argparse
from typing import Any

from relance.core.replies.rules import CATEGORIES as CATEGORY_CODES

from .output import emit


def add_inbox_parsers(actions: Any) -> None:
    def action(name: str, help: str, *, reply: bool = False) -> Any:
        parser = actions.add_parser(name, help=help)
        if reply:
            parser.add_argument("reply", type=int, help="numéro de la réponse")
        parser.add_argument("--org")
        parser.add_argument("--json", action="store_true")
        return parser

    fetch = action("fetch", "relève la boîte de réception IMAP de l’organisation (ou de toutes : --all)")
    fetch.add_argument("--all", action="store_true", help="toutes les boîtes actives, qu’elles soient dues ou non")
    receive = action("receive", "enregistre un message .eml reçu hors de la boîte (transféré, exporté)")
    receive.add_argument("file", nargs="+", help="fichier(s) .eml")
    listing = action("list", "liste les réponses (à traiter d’abord)")
    listing.add_argument("--state", choices=["a_rattacher", "a_traiter", "traitee", "classee"])
    action("show", "détail d’une réponse : catégorie, indices, effet", reply=True)
    confirm = action("confirm", "applique la suite proposée (après correction de la catégorie avec --category)",
                     reply=True)
    confirm.add_argument("--category", choices=CATEGORY_CODES)
    confirm.add_argument("--all-invoices", action="store_true",
                         help="litige ne citant aucune facture : l’ouvrir sur toutes les factures du client")
    attach = action("attach", "rattache la réponse à un client (code client)", reply=True)
    attach.add_argument("customer", help="code client")
    dismiss = action("dismiss", "classe la réponse sans suite (les relances reprennent)", reply=True)
    dismiss.add_argument("--note", default="")
    action("reopen", "rouvre une réponse classée", reply=True)
    action("undo", "annule la suite donnée à une réponse (elle redevient à traiter)", reply=True)
    action("accuracy", "exactitude du classement, mesurée sur les réponses vues par une personne")
    mailbox = action("mailbox", "montre ou règle la boîte de réception IMAP ; --test essaie la connexion")
    mailbox.add_argument("--host")
    mailbox.add_argument("--port", type=int)
    mailbox.add_argument("--security", choices=["ssl", "starttls", "none"])
    mailbox.add_argument("--user")
    mailbox.add_argument("--password-env", dest="password_env",
                         help="nom de la variable d’environnement qui contient le mot de passe (jamais en clair sur "
                              "la ligne de commande)")
    mailbox.add_argument("--folder")
    mailbox.add_argument("--processed-folder", dest="processed_folder",
                         help="dossier où déplacer les messages enregistrés (« » : ne rien déplacer)")
    mailbox.add_argument("--every", type=int, help="relève toutes les N minutes")
    mailbox.add_argument("--automatic", help="catégories appliquées sans validation, séparées par des virgules")
    mailbox.add_argument("--disable", action="store_true")
    mailbox.add_argument("--test", action="store_true")


def _reply_text(reply: Any) -> str:
    from relance.core.formatting import long_date

    who = f"{reply.customer.legal_name} ({reply.customer.code})" if reply.customer else "client à rattacher"
    head = (f"n° {reply.pk:<5} {long_date(reply.received_on)}  {reply.get_state_display()!s:<20} "
            f"{reply.get_category_display()!s:<22} {who} — {reply.sender} — {reply.subject[:60]}")
    return head


def _as_dict(reply: Any) -> dict[str, Any]:
    return {"id": reply.pk, "kind": reply.kind, "state": reply.state, "received_at": reply.received_at,
            "received_on": reply.received_on, "sender": reply.sender, "subject": reply.subject,
            "customer": reply.customer.code if reply.customer else None, "reminder": reply.reminder_id,
            "attached_by": reply.attached_by, "predicted": reply.predicted, "category": reply.category,
            "confidence": reply.confidence, "evidence": reply.evidence, "promised_date": reply.promised_date,
            "return_date": reply.return_date, "problems": reply.problems, "bounce": reply.bounce,
            "effect": reply.effect, "message_key": reply.message_key, "sha256": reply.sha256}


ACTION_TEXT = {
    "pause_paiement": "relances en pause en attendant le relevé bancaire",
    "renvoi_facture": "facture à renvoyer (tâche), nouveau délai laissé au client",
    "litige": "litige ouvert",
    "promesse": "promesse de paiement enregistrée",
    "echeancier": "échéancier à proposer (tâche), relances en pause",
    "absence": "relances en pause jusqu’au retour du destinataire",
    "contact": "contact à mettre à jour (tâche)",
    "aucune": "aucune",
}


def _effect_text(effect: dict[str, Any]) -> str:
    action = str(effect.get("action", ""))
    parts = [ACTION_TEXT.get(action, action)]
    if action == "renvoi_facture" and effect.get("copy"):
        parts = [f"copie de la facture envoyée par e-mail, PDF joint (message n° {effect['copy']}), nouveau délai "
                 "laissé au client"]
    if effect.get("waits_until"):
        from datetime import date

        from relance.core.formatting import long_date

        parts.append(f"jusqu’au {long_date(date.fromisoformat(effect['waits_until']))}")
    refs = [f"promesse n° {effect['promise']}"] if effect.get("promise") else []
    refs += [f"suspension n° {h}" for h in effect.get("holds", [])]
    refs += [f"tâche n° {t}" for t in effect.get("tasks", [])]
    if refs:
        parts[-1] += f" ({', '.join(refs)})"
    parts.append("appliquée automatiquement" if effect.get("automatic") else "confirmée par une personne")
    return " ; ".join(parts)


def _detail(reply: Any) -> str:
    from relance.core.formatting import long_date

    lines = [_reply_text(reply)]
    lines.append(f"Catégorie lue : {reply.get_predicted_display()} (confiance {round(float(reply.confidence) * 100)}\u202f%)"
                 + (f" ; retenue : {reply.get_category_display()}" if reply.category != reply.predicted else ""))
    if reply.evidence:
        lines.append("Indices : " + ", ".join(f"« {e} »" for e in reply.evidence))
    if reply.promised_date:
        lines.append(f"Date promise : {long_date(reply.promised_date)}")
    if reply.return_date:
        lines.append(f"Retour annoncé : {long_date(reply.return_date)}")
    for problem in reply.problems:
        lines.append(f"Problème de lecture : {problem}")
    if reply.effect:
        lines.append("Suite : " + _effect_text(reply.effect))
    lines.append("")
    lines.append(reply.body[:3000])
    return "\n".join(lines)


def run_inbox(args: argparse.Namespace) -> int:
    from relance.ledger.services.organisations import resolve_organisation
    from relance.replies.models import Reply
    from relance.replies.services import review

    if args.action == "fetch" and args.all:
        from relance.replies.models import Mailbox
        from relance.replies.services.fetch import fetch

        reports = [fetch(m.organisation) for m in Mailbox.objects.filter(enabled=True).select_related("organisation")]
        emit(args, [r.as_dict() for r in reports], "\n".join(_fetch_text(r) for r in reports) or
             "Aucune boîte de réception configurée.")
        return 1 if any(r.error for r in reports) else 0
    org = resolve_organisation(args.org)
    if args.action == "fetch":
        from relance.replies.services.fetch import fetch

        report = fetch(org)
        emit(args, report.as_dict(), _fetch_text(report))
        return 1 if report.error else 0
    if args.action == "receive":
        return _receive(args, org)
    if args.action == "mailbox":
        return _mailbox(args, org)
    if args.action == "list":
        from relance.replies.queries import inbox

        rows = list(inbox(org, state=args.state or None))
        emit(args, [_as_dict(r) for r in rows], "\n".join(_reply_text(r) for r in rows) or "Aucune réponse.")
        return 0
    if args.action == "accuracy":
        found = review.accuracy(org)
        rate = f"{found.rate:.1%}" if found.rate is not None else "—"
        emit(args, found.as_dict(), f"Réponses vues par une personne : {found.reviewed} ; catégorie lue confirmée : "
                                    f"{found.agreed} ({rate}).")
        return 0
    reply_id = args.reply
    if args.action == "show":
        from relance.errors import NotFound

        reply = Reply.objects.filter(organisation=org, pk=reply_id).select_related("customer").first()
        if reply is None:
            raise NotFound("réponse introuvable")
        emit(args, _as_dict(reply), _detail(reply))
        return 0
    if args.action == "confirm":
        reply = review.confirm(org, reply_id, actor="cli", category=args.category, all_invoices=args.all_invoices)
    elif args.action == "attach":
        from relance.errors import NotFound
        from relance.ledger.models import Customer

        customer = Customer.objects.filter(organisation=org, code=args.customer).first()
        if customer is None:
            raise NotFound(f"client « {args.customer} » introuvable")
        reply = review.attach_to(org, reply_id, customer, actor="cli")
    elif args.action == "dismiss":
        reply = review.dismiss(org, reply_id, actor="cli", note=args.note)
    elif args.action == "reopen":
        reply = review.reopen(org, reply_id, actor="cli")
    else:  # undo
        left = review.undo(org, reply_id, actor="cli")
        reply = Reply.objects.get(pk=reply_id)
        if left:
            print("Non annulé : " + " ; ".join(left))
    reply.refresh_from_db()
    emit(args, _as_dict(reply), _reply_text(reply))
    return 0


def _fetch_text(report: Any) -> str:
    if report.error:
        return f"{report.organisation} : {report.error}"
    return (f"{report.organisation} : {report.stored} message(s) enregistré(s) ({report.applied} traité(s) "
            f"automatiquement, {report.to_review} à traiter, {report.to_attach} à rattacher, {report.bounces} "
            f"non-distribution(s)), {report.duplicates} déjà connu(s)"
            + (" ; UIDVALIDITY changée : dossier relu" if report.uidvalidity_changed else "")
            + (f" ; {report.moved} déplacé(s) dans le dossier « traité »" if report.moved else ""))


def _receive(args: argparse.Namespace, org: Any) -> int:
    from pathlib import Path

    from relance.errors import InvalidInput
    from relance.replies.services.receive import receive

    results = []
    for name in args.file:
        try:
            raw = Path(name).read_bytes()
        except OSError as exc:
            raise InvalidInput(f"{name} : fichier illisible ({exc.strerror or exc})") from exc
        received = receive(org, raw, source="fichier", actor="cli")
        results.append((name, received))
    emit(args, [{"file": n, "created": r.created, **_as_dict(r.reply)} for n, r in results],
         "\n".join(f"{n} : " + ("" if r.created else "déjà reçue — ") + _reply_text(r.reply) for n, r in results))
    return 0


def _mailbox(args: argparse.Namespace, org: Any) -> int:
    import os

    from relance.errors import InvalidInput
    from relance.replies.models import Mailbox

    mailbox = Mailbox.objects.filter(organisation=org).first()
    changes = {k: v for k, v in {"host": args.host, "port": args.port, "security": args.security,
                                  "username": args.user, "folder": args.folder,
                                  "processed_folder": args.processed_folder, "every_minutes": args.every}.items()
               if v is not None}
    if args.password_env:
        if args.password_env not in os.environ:
            raise InvalidInput(f"variable d’environnement {args.password_env} absente")
        changes["password"] = os.environ[args.password_env]
    if args.automatic is not None:
        chosen = [c.strip() for c in args.automatic.split(",") if c.strip()]
        unknown = [c for c in chosen if c not in CATEGORY_CODES]
        if unknown:
            raise InvalidInput(f"catégorie(s) inconnue(s) : {', '.join(unknown)}")
        changes["automatic"] = chosen
    if args.disable:
        changes["enabled"] = False
    if changes:
        if mailbox is None:
            if not changes.get("host") or not changes.get("username"):
                raise InvalidInput("première configuration : indiquez au moins --host et --user")
            mailbox = Mailbox(organisation=org)
        for key, value in changes.items():
            setattr(mailbox, key, value)
        mailbox.save()
    if mailbox is None:
        emit(args, None, "Aucune boîte de réception configurée (relance replies mailbox --host … --user … "
                         "--password-env …).")
        return 0
    data = {"host": mailbox.host, "port": mailbox.port, "security": mailbox.security, "user": mailbox.username,
            "folder": mailbox.folder, "processed_folder": mailbox.processed_folder, "enabled": mailbox.enabled,
            "every_minutes": mailbox.every_minutes, "automatic": mailbox.automatic,
            "last_fetch_at": mailbox.last_fetch_at, "last_error": mailbox.last_error}
    text = (f"{mailbox.username}@{mailbox.host}:{mailbox.port} ({mailbox.get_security_display()}), dossier "
            f"« {mailbox.folder} », relève {'active' if mailbox.enabled else 'arrêtée'} toutes les "
            f"{mailbox.every_minutes} min ; appliquées sans validation : {', '.join(mailbox.automatic) or 'aucune'}")
    if args.test:
        from relance.replies.imap import MailboxUnavailable, check
        from relance.replies.services.fetch import settings_of

        try:
            data["test"] = check(settings_of(mailbox))
            text += f"\nConnexion réussie : {data['test']['messages']} message(s) dans le dossier."
        except (MailboxUnavailable, ValueError) as exc:
            data["test"] = {"error": str(exc)}
            emit(args, data, f"{text}\nÉchec de la connexion : {exc}")
            return 1
    emit(args, data, text)
    return 0
