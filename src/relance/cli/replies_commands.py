"""``relance replies classify FILE|-``: the category of a customer's reply (an .eml or a text
body), with the words that decided and the promised or return date
(:mod:`relance.core.replies`). Needs no database."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .output import emit, parse_date

LABELS = {
    "deja_paye": "déjà payé",
    "non_recu": "facture non reçue",
    "litige": "litige",
    "promesse": "promesse de paiement",
    "echeancier": "demande d’échéancier ou de délai",
    "absence": "absence (réponse automatique)",
    "mauvais_contact": "mauvais contact",
    "autre": "autre",
}


def add_parsers(sub: Any) -> None:
    replies = sub.add_parser("replies", help="réponses des clients : relever la boîte, lister, traiter, classer")
    actions = replies.add_subparsers(dest="action", required=True)
    from .inbox_commands import add_inbox_parsers

    add_inbox_parsers(actions)
    classify = actions.add_parser("classify", help="classe une réponse : catégorie, indices, date promise ou de retour")
    classify.add_argument("file", help="fichier .eml ou texte du message ; « - » pour l’entrée standard")
    classify.add_argument("--date", help="date de réception (AAAA-MM-JJ) ; défaut : l’en-tête Date, sinon aujourd’hui")
    classify.add_argument("--json", action="store_true")


def _read(name: str) -> bytes:
    from relance.errors import InvalidInput

    if name == "-":
        return sys.stdin.buffer.read()
    path = Path(name)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{name} : fichier illisible ({exc.strerror or exc})") from exc


def cmd_replies(args: argparse.Namespace) -> int:
    if args.action != "classify":
        from .inbox_commands import run_inbox

        return run_inbox(args)
    from relance.clock import today_for
    from relance.core.formatting import long_date
    from relance.core.replies import classify
    from relance.core.replies.message import UnreadableMessage, read_message
    from relance.errors import InvalidInput

    source = "entrée standard" if args.file == "-" else args.file
    try:
        message = read_message(_read(args.file))
    except UnreadableMessage as exc:
        raise InvalidInput(f"{source} : {exc}") from exc
    received_on = parse_date(args.date) if args.date else (message.sent_on or today_for(None))
    result = classify(message.body, received_on=received_on, subject=message.subject,
                      auto_submitted=message.auto_submitted)
    sentence = [f"Réponse classée « {LABELS[result.category]} » (confiance {result.confidence:.0%})."]
    if result.promised_date:
        sentence.append(f"Date promise : {long_date(result.promised_date)}.")
    if result.return_date:
        sentence.append(f"Retour annoncé le {long_date(result.return_date)}.")
    if result.evidence:
        sentence.append("Indices : " + ", ".join(f"« {words} »" for words in result.evidence) + ".")
    else:
        sentence.append("Aucun indice décisif.")
    emit(args, result.as_dict(), " ".join(sentence))
    return 0
