"""``relance litigation``: the litigation cases (list, show one), hand one over to a lawyer,
a bailiff or a collection agency (``file``), close one with its outcome (``close``)."""

from __future__ import annotations

import argparse
from typing import Any

from .output import emit, parse_date

ACTIONS = ["list", "show", "file", "close"]
OUTCOMES = ["paid", "settled", "judgment", "abandoned", "other"]


def add_parsers(sub: Any) -> None:
    lit = sub.add_parser("litigation", help="dossiers de contentieux : liste, détail, transmission, clôture")
    lit.add_argument("action", nargs="?", choices=ACTIONS, default="list",
                     help="list (défaut) ; show ID ; file ID --handled-by … ; close ID --outcome …")
    lit.add_argument("case", nargs="?", type=int, help="numéro du dossier (show, file, close)")
    lit.add_argument("--state", choices=["opened", "filed", "closed"], help="list : seulement les dossiers dans cet état")
    lit.add_argument("--handled-by", dest="handled_by", default="",
                     help="file : à qui le dossier est transmis (avocat, commissaire de justice, société de recouvrement)")
    lit.add_argument("--outcome", choices=OUTCOMES,
                     help="close : paid (payé), settled (accord amiable), judgment (décision obtenue), "
                          "abandoned (abandonné : les factures ne sont plus relancées), other (autre, avec --note)")
    lit.add_argument("--date", help="file, close : date de la transmission ou de la clôture (AAAA-MM-JJ), "
                                    "défaut aujourd’hui")
    lit.add_argument("--note", default="")
    lit.add_argument("--org")
    lit.add_argument("--json", action="store_true")


def _money(amount: Any, currency: str) -> str:
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


def _needs_case(args: argparse.Namespace) -> int:
    from relance.errors import InvalidInput

    if args.case is None:
        raise InvalidInput(f"relance litigation {args.action} : indiquez le numéro du dossier")
    return int(args.case)


def cmd_litigation(args: argparse.Namespace) -> int:
    from relance.clock import today_for
    from relance.errors import InvalidInput
    from relance.ledger.services.organisations import resolve_organisation
    from relance.litigation import queries, services

    org = resolve_organisation(args.org)
    if args.action == "list":
        found = queries.rows(org, queries.cases(org, args.state or ""))
        data = {"organisation": org.slug, "state": args.state, "counts": queries.state_counts(org),
                "cases": [r.as_dict() for r in found]}
        emit(args, data, "\n".join(_row_text(r) for r in found) if found else "Aucun dossier de contentieux.")
        return 0
    pk = _needs_case(args)
    if args.action == "show":
        detail = queries.case_detail(org, pk)
        emit(args, detail.as_dict(), _detail_text(detail))
        return 0
    on = parse_date(args.date) if args.date else today_for(org)
    if args.action == "file":
        services.file_case(org, pk, actor="cli", on=on, handled_by=args.handled_by, note=args.note)
        head = f"Dossier n° {pk} transmis à {args.handled_by.strip()} le {on:%d/%m/%Y}."
    else:
        if not args.outcome:
            raise InvalidInput("relance litigation close : indiquez l’issue (--outcome)")
        services.close_case(org, pk, outcome=args.outcome, actor="cli", on=on, note=args.note)
        head = f"Dossier n° {pk} clôturé le {on:%d/%m/%Y}."
    detail = queries.case_detail(org, pk)
    emit(args, detail.as_dict(), f"{head}\n{_detail_text(detail)}")
    return 0
