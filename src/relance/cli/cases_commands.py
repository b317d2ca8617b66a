"""``relance cases`` (alias ``relance litigation``): the litigation cases.

Read (each with ``--json``): ``list``, ``show ID``, ``documents ID``, ``export`` (CSV or JSON
for an agency), ``writeoffs`` (cases closed « irrécouvrable »: CSV or FEC lines for the
accountant), ``recipients`` (without ``--name``), ``prescription`` (open invoices whose
prescription ends soon or has ended).

Write: ``file ID`` produces the evidence file and the request (``--out DIR`` copies them there);
``file ID --handled-by X`` marks the case handed over to X as before, without producing anything
unless ``--documents`` or ``--out`` is given (then the filing comes first, so that a refused one
produces nothing); ``handover ID
--to RECIPIENT --method …``; ``step ID --to request_filed|order_issued|served``; ``close ID
--outcome …``; ``recipients --name … --kind …`` creates (or with an ID, changes) a recipient.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

from .output import emit, parse_date

ACTIONS = ["list", "show", "file", "handover", "step", "close", "documents", "export", "writeoffs", "recipients",
           "prescription"]
OUTCOMES = ["paid", "settled", "judgment", "irrecoverable", "abandoned", "other"]
STATES = ["opened", "filed", "request_filed", "order_issued", "served", "closed"]
STEPS = ["request_filed", "order_issued", "served"]


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("cases", aliases=["litigation"],
                       help="dossiers de contentieux : liste, détail, dossier et requête, transmission, étapes, "
                            "clôture, exports, créances irrécouvrables, prescription")
    p.add_argument("action", nargs="?", choices=ACTIONS, default="list",
                   help="list (défaut) ; show ID ; file ID [--out DOSSIER] [--handled-by …] ; handover ID --to … ; "
                        "step ID --to … ; close ID --outcome … ; documents ID ; export ; writeoffs ; recipients [ID] ; "
                        "prescription")
    p.add_argument("case", nargs="?", type=int, help="numéro du dossier (ou du destinataire pour recipients)")
    p.add_argument("--state", choices=STATES, help="list, export : seulement les dossiers dans cet état")
    p.add_argument("--handled-by", dest="handled_by", default="",
                   help="file : marque le dossier transmis à (avocat, commissaire de justice, société de "
                        "recouvrement), sans produire les documents sauf avec --documents ou --out")
    p.add_argument("--documents", dest="documents", action="store_true",
                   help="file : avec --handled-by, produit aussi le dossier et la requête (sans --handled-by, "
                        "ils sont toujours produits)")
    p.add_argument("--out", help="file : dossier où copier les documents produits ; export, writeoffs : fichier écrit")
    p.add_argument("--to", dest="to", default="",
                   help="handover : destinataire (numéro ou nom) ; step : request_filed, order_issued ou served")
    p.add_argument("--method", choices=["attachment", "link", "download"],
                   help="handover : pièces jointes, lien de téléchargement ou téléchargé (défaut : celui du "
                        "destinataire)")
    p.add_argument("--outcome", choices=OUTCOMES,
                   help="close : paid (payé), settled (accord amiable), judgment (décision obtenue), irrecoverable "
                        "(irrécouvrable : à passer en perte), abandoned (abandonné : les factures ne sont plus "
                        "relancées), other (autre, avec --note)")
    p.add_argument("--date", help="file, handover, step, close : date de l’acte (AAAA-MM-JJ), défaut aujourd’hui")
    p.add_argument("--note", default="")
    p.add_argument("--court-kind", dest="court_kind", default="", choices=["", "commerce", "judiciaire"],
                   help="step : tribunal de commerce ou tribunal judiciaire")
    p.add_argument("--court-name", dest="court_name", default="")
    p.add_argument("--court-address", dest="court_address", default="")
    p.add_argument("--court-reference", dest="court_reference", default="", help="step : numéro RG, de l’ordonnance")
    p.add_argument("--document", type=Path, help="step : l’ordonnance ou l’acte de signification reçu (PDF)")
    p.add_argument("--format", dest="fmt", choices=["csv", "json", "fec"],
                   help="export : csv (défaut) ou json ; writeoffs : csv (défaut) ou fec")
    p.add_argument("--since", help="writeoffs : clôturés depuis le (AAAA-MM-JJ), défaut 1er janvier")
    p.add_argument("--until", help="writeoffs : jusqu’au (AAAA-MM-JJ), défaut aujourd’hui")
    p.add_argument("--loss-account", dest="loss_account", default="654", help="writeoffs --format fec (défaut 654)")
    p.add_argument("--vat-account", dest="vat_account", default="44571", help="writeoffs --format fec (défaut 44571)")
    p.add_argument("--customer-account", dest="customer_account", default="411",
                   help="writeoffs --format fec (défaut 411)")
    p.add_argument("--as-of", dest="as_of", help="prescription, file : date du calcul (défaut aujourd’hui)")
    p.add_argument("--days", type=int, default=90, help="prescription : horizon en jours (défaut 90)")
    # recipients
    p.add_argument("--name", default="", help="recipients : nom du destinataire (crée ou modifie)")
    p.add_argument("--kind", choices=["lawyer", "bailiff", "agency"], help="recipients : profession")
    p.add_argument("--email", default="")
    p.add_argument("--address", default="")
    p.add_argument("--reference", default="", help="recipients : votre référence chez lui")
    p.add_argument("--delivery", choices=["attachment", "link"], default="attachment")
    p.add_argument("--link-days", dest="link_days", type=int, default=14)
    p.add_argument("--inactive", action="store_true", help="recipients : désactive le destinataire")
    p.add_argument("--org")
    p.add_argument("--json", action="store_true")


# ------------------------------------------------------------------------------------------ text


def _money(amount: Any, currency: str = "EUR") -> str:
    from relance.core.formatting import money

    return money(amount, currency)


def _row_text(row: Any) -> str:
    from relance.core.formatting import short_date
    from relance.litigation.models import LitigationCase

    c = row.case
    state = LitigationCase.State(c.state).label
    notices = ", ".join(f"{short_date(n.sent_on)}" + (f" LRAR {n.tracking_number}" if n.tracking_number else "")
                        + (f" AR {short_date(n.received_on)}" if n.received_on else " AR —") for n in row.notices)
    return (f"n° {c.pk:<5} {short_date(c.opened_on)}  {state!s:<9} {c.customer.code:<10} "
            f"{c.customer.legal_name[:30]:<30} {_money(row.total_due_now, row.currency):>14}  "
            f"{', '.join(row.numbers)} ; mise en demeure : {notices or 'aucune'}")


def _detail_text(detail: Any) -> str:
    from relance.core.formatting import short_date
    from relance.litigation.models import LitigationCase

    row = detail.row
    c = row.case
    lines = [f"Dossier de contentieux n° {c.pk} — {c.customer.legal_name} ({c.customer.code})",
             f"État : {LitigationCase.State(c.state).label} ; ouvert le {short_date(c.opened_on)}"]
    if c.filed_on:
        lines.append(f"Transmis le {short_date(c.filed_on)} à {c.handled_by}")
    for label, day in (("Requête déposée le", c.request_filed_on), ("Ordonnance rendue le", c.order_issued_on),
                       ("Ordonnance signifiée le", c.served_on)):
        if day:
            lines.append(f"{label} {short_date(day)}")
    if c.court_name or c.court_reference:
        lines.append(f"Juridiction : {c.court_name or '—'}" + (f" ; référence {c.court_reference}"
                                                              if c.court_reference else ""))
    if c.closed_on:
        lines.append(f"Clôturé le {short_date(c.closed_on)} : {LitigationCase.Outcome(c.outcome).label}")
    lines.append(f"Dû à l’ouverture : {_money(row.total_at_opening, row.currency)} ; "
                 f"dû aujourd’hui : {_money(row.total_due_now, row.currency)}")
    lines.append("Factures :")
    for line in row.lines:
        i = line.invoice
        notice = f"mise en demeure du {short_date(line.notice.sent_on)}" if line.notice else "sans mise en demeure"
        lines.append(f"  {i.number:<16} échéance {short_date(i.due_date)}  "
                     f"{_money(line.amount_due_at_opening, i.currency):>14} à l’ouverture, "
                     f"{_money(i.amount_due, i.currency):>14} aujourd’hui ; {notice}")
    lines.append("Mises en demeure :" if row.notices else "Mises en demeure : aucune")
    for n in row.notices:
        lines.append(f"  courrier n° {n.reminder.pk} du {short_date(n.sent_on)} ({', '.join(n.numbers)}) ; "
                     f"recommandé {n.tracking_number or '—'} ; AR {short_date(n.received_on) if n.received_on else '—'} ; "
                     f"PDF {'conservé' if n.has_document else 'absent'}"
                     + (f" (SHA-256 {n.reminder.document_sha256})" if n.reminder.document_sha256 else ""))
    if c.note:
        lines.append(f"Notes : {c.note}")
    return "\n".join(lines)


def _document_dict(doc: Any) -> dict[str, Any]:
    return {"id": doc.pk, "kind": doc.kind, "kind_label": str(doc.get_kind_display()), "title": doc.title,
            "file": doc.file.name, "sha256": doc.sha256, "size": doc.size, "as_of": doc.as_of,
            "created_by": doc.created_by, "created_at": doc.created_at}


def _document_text(doc: Any) -> str:
    from relance.core.formatting import short_date

    return (f"  n° {doc.pk:<5} {doc.get_kind_display()!s:<40} {doc.title}"
            + (f" (au {short_date(doc.as_of)})" if doc.as_of else "") + f" — {doc.size} octets, SHA-256 {doc.sha256}")


def _recipient_dict(r: Any) -> dict[str, Any]:
    return {"id": r.pk, "kind": r.kind, "name": r.name, "email": r.email, "address": r.address,
            "reference": r.reference, "delivery": r.delivery, "link_days": r.link_days, "active": r.active}


def _recipient_text(r: Any) -> str:
    return (f"n° {r.pk:<4} {r.name} ({r.get_kind_display()}) — {r.email or 'sans e-mail'} ; "
            f"envoi : {r.get_delivery_display()}" + ("" if r.active else " ; inactif"))


# ------------------------------------------------------------------------------------------ helpers


def _needs_case(args: argparse.Namespace) -> int:
    from relance.errors import InvalidInput

    if args.case is None:
        raise InvalidInput(f"relance cases {args.action} : indiquez le numéro du dossier")
    return int(args.case)


def _write(path: str, content: str | bytes) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        target.write_bytes(content)
    else:
        target.write_text(content, encoding="utf-8", newline="")
    return target


def _resolve_recipient(org: Any, value: str) -> int | None:
    from relance.errors import InvalidInput, NotFound
    from relance.litigation.models import HandoverRecipient

    value = value.strip()
    if not value:
        return None
    qs = HandoverRecipient.objects.filter(organisation=org)
    found = qs.filter(pk=int(value)).first() if value.isdigit() else qs.filter(name__iexact=value).first()
    if found is None and not value.isdigit():
        matches = list(qs.filter(name__icontains=value)[:2])
        if len(matches) > 1:
            raise InvalidInput(f"plusieurs destinataires correspondent à « {value} » : indiquez son numéro")
        found = matches[0] if matches else None
    if found is None:
        raise NotFound(f"destinataire « {value} » introuvable")
    return int(found.pk)


def _show(args: argparse.Namespace, org: Any, pk: int, head: str = "") -> int:
    from relance.litigation import queries

    detail = queries.case_detail(org, pk)
    emit(args, detail.as_dict(), f"{head}\n{_detail_text(detail)}" if head else _detail_text(detail))
    return 0


# ------------------------------------------------------------------------------------------ actions


def _list(args: argparse.Namespace, org: Any) -> int:
    from relance.litigation import queries

    found = queries.rows(org, queries.cases(org, args.state or ""))
    data = {"organisation": org.slug, "state": args.state, "counts": queries.state_counts(org),
            "cases": [r.as_dict() for r in found]}
    emit(args, data, "\n".join(_row_text(r) for r in found) if found else "Aucun dossier de contentieux.")
    return 0


def _file(args: argparse.Namespace, org: Any, today: date) -> int:
    from relance.litigation import services

    pk = _needs_case(args)
    on = parse_date(args.date) if args.date else today
    heads = []
    if args.handled_by:
        services.file_case(org, pk, actor="cli", on=on, handled_by=args.handled_by, note=args.note)
        heads.append(f"Dossier n° {pk} transmis à {args.handled_by.strip()} le {on:%d/%m/%Y}.")
    docs: list[Any] = []
    if not args.handled_by or args.documents or args.out:
        as_of = parse_date(args.as_of) if args.as_of else today
        docs = services.produce_documents(org, pk, actor="cli", as_of=as_of)
        heads.append(f"Documents produits au {as_of:%d/%m/%Y} :")
        heads.extend(_document_text(d) for d in docs)
    written = []
    if args.out and docs:
        folder = Path(args.out)
        folder.mkdir(parents=True, exist_ok=True)
        for doc in docs:
            with doc.file.open("rb") as fh:
                target = folder / Path(doc.file.name).name
                target.write_bytes(fh.read())
            written.append(str(target))
        heads.append(f"Copiés dans {folder} : {', '.join(Path(w).name for w in written)}")
    from relance.litigation import queries

    detail = queries.case_detail(org, pk)
    data = {**detail.as_dict(), "documents": [_document_dict(d) for d in docs], "written": written}
    emit(args, data, "\n".join([*heads, _detail_text(detail)]))
    return 0


def _handover(args: argparse.Namespace, org: Any, today: date) -> int:
    from relance.errors import InvalidInput
    from relance.litigation import services
    from relance.litigation.models import HandoverRecipient

    pk = _needs_case(args)
    recipient = _resolve_recipient(org, args.to)
    method = args.method
    if method is None:
        if recipient is None:
            raise InvalidInput("relance cases handover : indiquez le destinataire (--to) ou --method download")
        method = HandoverRecipient.objects.get(pk=recipient).delivery
    on = parse_date(args.date) if args.date else today
    handover = services.hand_over(org, pk, recipient=recipient, method=method, actor="cli", on=on)
    to = handover.recipient.name if handover.recipient else "—"
    head = f"Dossier n° {pk} transmis ({handover.get_method_display()}) à {to} le {on:%d/%m/%Y}."
    from relance.litigation import queries

    detail = queries.case_detail(org, pk)
    data = {**detail.as_dict(), "handover": {
        "id": handover.pk, "recipient": handover.recipient_id, "method": handover.method, "on": handover.on,
        "reminder": handover.reminder_id, "link_expires_at": handover.link_expires_at,
        "documents": list(handover.documents.values_list("pk", flat=True))}}
    emit(args, data, f"{head}\n{_detail_text(detail)}")
    return 0


def _step(args: argparse.Namespace, org: Any, today: date) -> int:
    from relance.errors import InvalidInput
    from relance.litigation import services

    pk = _needs_case(args)
    if args.to not in STEPS:
        raise InvalidInput(f"relance cases step : indiquez l’étape (--to {' | '.join(STEPS)})")
    document = None
    if args.document is not None:
        if not args.document.is_file():
            raise InvalidInput(f"fichier introuvable : « {args.document} »")
        document = (args.document.name, args.document.read_bytes())
    on = parse_date(args.date) if args.date else today
    services.record_step(org, pk, args.to, actor="cli", on=on, note=args.note, court_kind=args.court_kind,
                         court_name=args.court_name, court_address=args.court_address,
                         court_reference=args.court_reference, document=document)
    from relance.core import litigation as machine

    return _show(args, org, pk, f"Dossier n° {pk} : « {machine.state_label(args.to)} » le {on:%d/%m/%Y}.")


def _close(args: argparse.Namespace, org: Any, today: date) -> int:
    from relance.errors import InvalidInput
    from relance.litigation import services

    pk = _needs_case(args)
    if not args.outcome:
        raise InvalidInput("relance cases close : indiquez l’issue (--outcome)")
    on = parse_date(args.date) if args.date else today
    services.close_case(org, pk, outcome=args.outcome, actor="cli", on=on, note=args.note)
    return _show(args, org, pk, f"Dossier n° {pk} clôturé le {on:%d/%m/%Y}.")


def _documents(args: argparse.Namespace, org: Any) -> int:
    from relance.litigation import queries

    pk = _needs_case(args)
    case = queries.case_for(org, pk)
    docs = list(case.documents.order_by("-created_at", "-pk"))
    emit(args, {"case": pk, "documents": [_document_dict(d) for d in docs]},
         "\n".join([f"Documents du dossier n° {pk} :", *(_document_text(d) for d in docs)]) if docs
         else f"Dossier n° {pk} : aucun document.")
    return 0


def _export(args: argparse.Namespace, org: Any) -> int:
    from relance.errors import InvalidInput
    from relance.litigation import exports

    fmt = args.fmt or "csv"
    if fmt == "fec":
        raise InvalidInput("relance cases export : --format csv ou json")
    rows = exports.cases_json(org, args.state or "")
    if args.json and not args.out:
        emit(args, {"organisation": org.slug, "state": args.state, "cases": rows}, "")
        return 0
    if fmt == "json":
        import json

        content = json.dumps(rows, ensure_ascii=False, indent=2)
    else:
        content = exports.cases_csv(org, args.state or "")
    if args.out:
        target = _write(args.out, content)
        emit(args, {"organisation": org.slug, "file": str(target), "format": fmt, "cases": len(rows)},
             f"{len(rows)} dossier(s) exporté(s) dans {target}.")
    else:
        print(content, end="")
    return 0


def _writeoffs(args: argparse.Namespace, org: Any, today: date) -> int:
    from relance.errors import InvalidInput
    from relance.litigation import writeoffs

    since = parse_date(args.since) if args.since else date(today.year, 1, 1)
    until = parse_date(args.until) if args.until else today
    if since > until:
        raise InvalidInput("relance cases writeoffs : --since après --until")
    fmt = args.fmt or "csv"
    if fmt == "json":
        raise InvalidInput("relance cases writeoffs : --format csv ou fec (--json pour le JSON)")
    found = writeoffs.writeoffs(org, since, until)
    totals = {"written_off": sum((w.amount for w in found), writeoffs.ZERO),
              "excl_tax": sum((w.excl_tax for w in found), writeoffs.ZERO),
              "vat": sum((w.vat for w in found), writeoffs.ZERO)}
    data: dict[str, Any] = {"organisation": org.slug, "since": since, "until": until,
                            "writeoffs": [w.as_dict() for w in found],
                            "totals": {k: f"{v:.2f}" for k, v in totals.items()},
                            "vat_unknown": [w.invoice.number for w in found if not w.vat_known],
                            "vat_note": writeoffs.VAT_NOTE}
    accounts = {"loss_account": (args.loss_account, writeoffs.LOSS_ACCOUNT[1]),
                "vat_account": (args.vat_account, writeoffs.VAT_ACCOUNT[1]),
                "customer_account": (args.customer_account, writeoffs.CUSTOMER_ACCOUNT[1])}
    if fmt == "fec":
        data["fec"] = writeoffs.fec_lines(org, since, until, loss_account=accounts["loss_account"],
                                          vat_account=accounts["vat_account"],
                                          customer_account=accounts["customer_account"])
    if args.out:
        content = (writeoffs.writeoffs_fec(org, since, until, **accounts) if fmt == "fec"
                   else writeoffs.writeoffs_csv(org, since, until))
        target = _write(args.out, content)
        note = _write(str(target.with_suffix("")) + "-tva.txt", writeoffs.VAT_NOTE)
        data.update(file=str(target), note_file=str(note))
        emit(args, data, f"{len(found)} facture(s) irrécouvrable(s) du {since:%d/%m/%Y} au {until:%d/%m/%Y} : "
                         f"{_money(totals['written_off'])} TTC, dont TVA {_money(totals['vat'])} ; écrit dans "
                         f"{target} (note sur la TVA : {note}).")
        return 0
    if args.json:
        emit(args, data, "")
        return 0
    content = (writeoffs.writeoffs_fec(org, since, until, **accounts) if fmt == "fec"
               else writeoffs.writeoffs_csv(org, since, until))
    print(content, end="")
    return 0


def _recipients(args: argparse.Namespace, org: Any) -> int:
    from relance.errors import InvalidInput
    from relance.litigation import services
    from relance.litigation.models import HandoverRecipient

    if args.name or (args.case is not None and (args.kind or args.email or args.inactive)):
        existing = HandoverRecipient.objects.filter(organisation=org, pk=args.case).first() if args.case else None
        kind = args.kind or (existing.kind if existing else None)
        if not kind:
            raise InvalidInput("relance cases recipients : indiquez la profession (--kind lawyer|bailiff|agency)")
        saved = services.save_recipient(
            org, pk=args.case, kind=kind, name=args.name or (existing.name if existing else ""),
            email=args.email or (existing.email if existing else ""),
            address=args.address or (existing.address if existing else ""),
            reference=args.reference or (existing.reference if existing else ""), delivery=args.delivery,
            link_days=args.link_days, active=not args.inactive, actor="cli")
        emit(args, _recipient_dict(saved), f"Destinataire enregistré : {_recipient_text(saved)}")
        return 0
    found = list(HandoverRecipient.objects.filter(organisation=org).order_by("name", "pk"))
    emit(args, {"organisation": org.slug, "recipients": [_recipient_dict(r) for r in found]},
         "\n".join(_recipient_text(r) for r in found) if found else "Aucun destinataire des dossiers.")
    return 0


def _prescription(args: argparse.Namespace, org: Any, today: date) -> int:
    from relance.core.formatting import short_date
    from relance.litigation import prescription

    as_of = parse_date(args.as_of) if args.as_of else today
    rows = prescription.watch(org, as_of, days=args.days)
    data = {"organisation": org.slug, "as_of": as_of, "days": args.days, "invoices": [r.as_dict() for r in rows]}
    lines = []
    for r in rows:
        when = (f"prescrite depuis le {short_date(r.ends_on)}" if r.expired
                else f"prescrite le {short_date(r.ends_on)} (dans {r.days_left} j)")
        moved = "; ".join(f"{label} du {short_date(d)}" for d, label in r.interruptions)
        lines.append(f"{r.invoice.number:<16} {r.customer.code:<10} {r.customer.legal_name[:30]:<30} "
                     f"{_money(r.invoice.amount_due, r.invoice.currency):>14}  {when} ; {r.years} ans"
                     + (f" ; interrompue : {moved}" if moved else "")
                     + (f" ; contentieux n° {r.case_id}" if r.case_id else ""))
    emit(args, data, "\n".join(lines) if lines
         else f"Aucune facture prescrite ou prescrite d’ici {args.days} jours.")
    return 0


def cmd_cases(args: argparse.Namespace) -> int:
    from relance.clock import today_for
    from relance.ledger.services.organisations import resolve_organisation

    org = resolve_organisation(args.org)
    today = today_for(org)
    action = args.action
    if action == "list":
        return _list(args, org)
    if action == "show":
        return _show(args, org, _needs_case(args))
    if action == "documents":
        return _documents(args, org)
    if action == "export":
        return _export(args, org)
    if action == "writeoffs":
        return _writeoffs(args, org, today)
    if action == "recipients":
        return _recipients(args, org)
    if action == "prescription":
        return _prescription(args, org, today)
    if action == "file":
        return _file(args, org, today)
    if action == "handover":
        return _handover(args, org, today)
    if action == "step":
        return _step(args, org, today)
    return _close(args, org, today)


#: ``relance litigation`` (the alias: argparse names the command as typed)
cmd_litigation = cmd_cases
