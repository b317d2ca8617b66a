"""The CLI commands: parse, call one service, print (text or --json)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from relance.cli.output import emit, parse_date
from relance.errors import ChainBroken, InvalidInput


def cmd_run(args: argparse.Namespace) -> int:
    """Plan and send the day, after the pre-flight checks (relance.operations.doctor): a channel
    that would go out broken is held back (no SMTP server: the emails stay planned; no letterhead:
    the letters are not made). Exit 11 when something did not leave (held back, failed, waiting
    for a retry, to check), with the counts and reasons."""
    import sys

    from relance.clock import today_for
    from relance.core.formatting import long_date, money
    from relance.errors import NotDelivered
    from relance.ledger.services.organisations import resolve_organisation
    from relance.operations.daily import run_day
    from relance.operations.delivery import held_back, not_left
    from relance.operations.doctor import preflight

    org = resolve_organisation(args.org)
    day = parse_date(args.date) if args.date else today_for(org)
    checks = preflight(org)
    held = {} if args.dry_run else checks.held_channels(org.slug)
    report = run_day(org, day, dry_run=args.dry_run, queue=not args.no_queue, skip_channels=tuple(held))

    labels = {"email": "email", "letter": "courrier", "registered_letter": "recommandé AR",
              "litigation": "contentieux", "phone": "appel"}
    lines = [f"Journée du {long_date(day)}{' (simulation, rien n’est enregistré)' if args.dry_run else ''} :"]
    for r in report.plan.reminders:
        lines.append(f"  {r.customer:<10} {r.customer_name[:32]:<32} {r.step:<30} {labels.get(r.channel, r.channel):<14} "
                     f"{len(r.invoices)} fact. {money(r.total_due):>14}")
    if not report.plan.reminders:
        lines.append("  rien à planifier")
    data = report.as_dict()
    data["checks"] = checks.as_dict()
    if checks.problems:
        lines.append("Vérifications avant l’envoi :")
        lines += [f"  {line}" for line in checks.problem_lines()]
    waiting = held_back(org, day, tuple(held))
    data["held"] = {channel: {"count": n, "reason": held[channel]} for channel, n in waiting.items()}
    for channel, n in waiting.items():
        lines.append(f"Retenus ({labels.get(channel, channel)}) : {n}, laissés en attente, ils partiront au prochain "
                     f"« relance run » une fois corrigé : {held[channel]}")
    missing = 0
    if report.dispatch:
        d = report.dispatch.as_dict()
        lines.append(f"Envois : {d['sent']} partis, {d['cancelled']} annulés, {d['retrying']} à réessayer, "
                     f"{d['failed']} en échec, {d['uncertain']} à vérifier")
        ids = report.dispatch.failed + report.dispatch.retrying + report.dispatch.uncertain
        problems = not_left(org.reminders.filter(pk__in=ids))
        data["not_delivered"] = problems.as_dict()
        lines += [f"  {line}" for line in problems.lines()]
        missing = problems.total
    emit(args, data, "\n".join(lines))
    if missing or waiting:
        error = NotDelivered(f"{missing + sum(waiting.values())} relance(s) ne sont pas parties "
                             "(« Le travail du jour » les liste ; « relance doctor » vérifie la configuration)")
        print(f"relance : {error.message}", file=sys.stderr)
        return error.exit_code
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from .ops_commands import serve

    return serve(args)  # gunicorn; --dev: Django's development server


def cmd_events(args: argparse.Namespace) -> int:
    from relance.errors import NotFound
    from relance.events.models import Event
    from relance.ledger.models import Customer
    from relance.ledger.services.organisations import resolve_organisation

    org = resolve_organisation(args.org)
    qs = Event.objects.filter(organisation=org)
    if args.customer:
        customer = Customer.objects.filter(organisation=org, code=args.customer).first()
        if customer is None:
            raise NotFound(f"client « {args.customer} » introuvable")
        qs = qs.filter(customer_id_ref=customer.id)
    events = list(qs.order_by("-seq")[: args.limit])
    data = [{"seq": e.seq, "at": e.occurred_at.isoformat(), "kind": e.kind, "actor": e.actor, "data": e.data,
             "hash": e.hash} for e in events]
    text = "\n".join(f"#{e.seq:<6} {e.occurred_at:%Y-%m-%d %H:%M} {e.kind:<20} "
                     f"{json.dumps(e.data, ensure_ascii=False, default=str)[:120]}" for e in events) or "aucun événement"
    emit(args, {"events": data}, text)
    return 0


def cmd_verify_events(args: argparse.Namespace) -> int:
    """Recompute the chain; with ``--head HASH`` (a head printed earlier, e.g. by the daily
    digest) also check that this event is still in the chain: removing the last events leaves a
    valid shorter chain, which only a head kept elsewhere reveals."""
    from relance.events.models import Event
    from relance.events.services import verify_chain
    from relance.ledger.services.organisations import resolve_organisation

    org = resolve_organisation(args.org)
    anchor = (args.head or "").strip().lower() if getattr(args, "head", None) else ""
    if anchor and (len(anchor) != 64 or any(c not in "0123456789abcdef" for c in anchor)):
        raise InvalidInput(f"empreinte « {args.head} » illisible : attendu 64 caractères hexadécimaux")
    problems = verify_chain(org)
    count = Event.objects.filter(organisation=org).count()
    data: dict[str, Any] = {"organisation": org.slug, "events": count, "valid": not problems,
                            "problems": [{"seq": p.seq, "message": p.message} for p in problems]}
    head = Event.objects.filter(organisation=org).order_by("-seq").values_list("seq", "hash").first()
    data["head"] = {"seq": head[0], "hash": head[1]} if head else None
    if problems:
        if not args.json:
            print("\n".join(f"événement #{p.seq} : {p.message}" for p in problems))
        raise ChainBroken(f"journal altéré : {len(problems)} problème(s) sur {count} événements", data)
    text = f"Journal intègre : {count} événements vérifiés."
    if head:
        text += f"\nDernier événement : n° {head[0]}, empreinte {head[1]}"
    if anchor:
        found = Event.objects.filter(organisation=org, hash=anchor).values_list("seq", flat=True).first()
        if found is None:
            current = f"n° {head[0]}, empreinte {head[1]}" if head else "aucun événement"
            data["anchor"] = {"hash": anchor, "found": False}
            raise ChainBroken(f"l’empreinte {anchor} n’est plus dans le journal : des événements ont été retirés "
                              f"ou le journal a été remplacé (dernier événement aujourd’hui : {current})", data)
        after = count - found if head else 0
        data["anchor"] = {"hash": anchor, "found": True, "seq": found, "events_after": after}
        text += (f"\nL’empreinte donnée est celle de l’événement n° {found}, toujours dans le journal ; "
                 f"{after} événement(s) l’ont suivi.")
    elif head:
        text += "\n(conservez cette empreinte ailleurs : elle permettra de prouver qu’aucun événement n’a été retiré)"
    emit(args, data, text)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from .ops_commands import worker

    return worker(args)  # the task queue, and beside it the scheduler, heartbeat and recovery


def cmd_orgs(args: argparse.Namespace) -> int:
    from relance.ledger.models import Organisation

    if args.action == "add":
        from relance.ledger.services.organisations import create_organisation

        org = create_organisation(
            args.slug, args.name, args.admin, siren=args.siren or "", iban=args.iban or "", bic=args.bic or "",
            sender_email=args.email or "", city=args.city or "", address1=args.address or "",
            postal_code=args.postal_code or "",
        )
        emit(args, {"slug": org.slug, "name": org.legal_name}, f"Organisation « {org.legal_name} » créée ({org.slug}).")
        return 0

    if args.action == "set":
        from relance.ledger.services.organisations import set_schedule

        org = set_schedule(args.slug, run_at=args.run_at, timezone=args.timezone)
        emit(args, {"slug": org.slug, "run_at": org.run_at.strftime("%H:%M"), "timezone": org.timezone},
               f"Organisation « {org.legal_name} » : journée de relances à {org.run_at:%H:%M} ({org.timezone}).")
        return 0

    orgs = [{"slug": o.slug, "name": o.legal_name, "siren": o.siren} for o in Organisation.objects.all()]
    emit(args, {"organisations": orgs}, "\n".join(f"{o['slug']:<20} {o['name']}" for o in orgs) or "aucune")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from pathlib import Path

    from relance.demo.run import run_demo

    summary = run_demo(Path(args.demo_dir))
    emit(args, summary.as_dict(), summary.text())
    return 0


def cmd_letter(args: argparse.Namespace) -> int:
    from relance.dunning.services.registered_mail import record_delivery
    from relance.ledger.services.organisations import resolve_organisation

    org = resolve_organisation(args.org)
    reminder = record_delivery(org, args.reminder, tracking_number=args.tracking,
                               received_on=parse_date(args.received) if args.received else None,
                               scan=args.scan, actor="cli")
    data = {"reminder": reminder.id, "tracking_number": reminder.tracking_number,
            "received_on": reminder.received_on, "receipt_scan": reminder.receipt_scan.name or None}
    emit(args, data, f"Courrier n° {reminder.id} : recommandé {reminder.tracking_number or '—'}, "
                       f"reçu le {reminder.received_on or '—'}.")
    return 0


def cmd_retry(args: argparse.Namespace) -> int:
    from relance.dunning.services.dispatcher import send_reminder
    from relance.dunning.services.retries import retry
    from relance.ledger.services.organisations import resolve_organisation

    org = resolve_organisation(args.org)
    reminder = retry(org, args.reminder, actor="cli", enqueue=not args.now)
    outcome = send_reminder(reminder.pk) if args.now else "queued"
    reminder.refresh_from_db()
    texts = {"queued": "remise en file d’envoi (un worker l’enverra : « relance worker » ou « relance run »)",
             "sent": "envoyée", "cancelled": "annulée : plus aucune facture à relancer",
             "retrying": "échec temporaire, nouvelle tentative prévue", "failed": "de nouveau en échec"}
    text = f"Relance n° {reminder.pk} {texts.get(outcome, outcome)}."
    if outcome == "failed" and reminder.last_error:
        text += f"\n{reminder.last_error}"
    emit(args, {"reminder": reminder.pk, "outcome": outcome, "status": reminder.status,
                  "attempts": reminder.attempts, "last_error": reminder.last_error}, text)
    return 0




#: « relance prescription » lists what ends within six months (the web and « relance cases prescription »: 90 days)
WATCH_DAYS = 183


def cmd_prescription(args: argparse.Namespace) -> int:
    from relance.clock import today_for
    from relance.core.formatting import long_date
    from relance.dunning.services.prescription import record_interruption
    from relance.ledger.services.organisations import resolve_organisation
    from relance.litigation.prescription import watch

    org = resolve_organisation(args.org)
    today = parse_date(args.as_of) if args.as_of else today_for(org)
    if args.action == "interrupt":
        if not args.invoice or not args.date:
            raise InvalidInput("indiquez la facture et la date : relance prescription interrupt F-001 --date AAAA-MM-JJ")
        event = record_interruption(org, args.invoice, args.kind, parse_date(args.date), today, args.note, "cli")
        emit(args, {"event": event.seq, "invoice": args.invoice, "kind": args.kind, "date": args.date},
               f"Acte enregistré (événement n° {event.seq}) : la prescription de {args.invoice} repart du {args.date}.")
        return 0
    rows = watch(org, today, days=WATCH_DAYS)
    data = [{"invoice": w.invoice.number, "customer": w.customer.code, "amount_due": f"{w.invoice.amount_due:.2f}",
             "deadline": w.ends_on.isoformat(), "days_left": w.days_left, "expired": w.expired,
             "interruptions": [{"on": d.isoformat(), "act": label} for d, label in w.interruptions]} for w in rows]
    text = "\n".join(
        f"{w.invoice.number:<16} {w.customer.code:<8} "
        f"{'prescrite depuis le' if w.expired else 'à agir avant le'} {long_date(w.ends_on)}"
        for w in rows) or "Aucune facture ouverte à moins de six mois de la prescription."
    emit(args, {"as_of": today.isoformat(), "invoices": data}, text)
    return 0
