"""``relance writing check FILE|- [--lang fr|en] [--org ORG] [--html] --json``: the writing check
(:mod:`relance.writing`) of a text. A report: it exits 0 even when it finds problems, 2 on bad input
(a file missing or not UTF-8). Needs a database only with ``--org`` (its words and names)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .output import emit


def add_parsers(sub: Any) -> None:
    writing = sub.add_parser("writing", help="vérification d’écriture : orthographe, accords, typographie, ton")
    actions = writing.add_subparsers(dest="action", required=True)
    check = actions.add_parser("check", help="liste les problèmes d’un texte (code de sortie 0 même s’il y en a)")
    check.add_argument("file", help="fichier texte UTF-8 ; « - » pour l’entrée standard")
    check.add_argument("--lang", choices=["fr", "en"], default="fr", help="langue du texte (défaut fr)")
    check.add_argument("--org", help="organisation : ses mots acceptés et les noms de ses clients sont connus")
    check.add_argument("--html", action="store_true", help="le texte est un fragment HTML (positions dans le texte visible)")
    check.add_argument("--json", action="store_true")


def _read(name: str) -> str:
    from relance.errors import InvalidInput

    source = "entrée standard" if name == "-" else name
    try:
        data = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
    except FileNotFoundError as exc:
        raise InvalidInput(f"{source} : fichier introuvable") from exc
    except OSError as exc:
        raise InvalidInput(f"{source} : fichier illisible ({exc.strerror or exc})") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{source} : le texte n’est pas en UTF-8 (octet illisible à la position {exc.start})") from exc


def _organisation(slug: str, data_dir: str | None) -> Any:
    from django.db import OperationalError

    from relance.errors import NotFound, NotInitialised
    from relance.ledger.models import Organisation
    from relance.operations.doctor import database_initialised, not_initialised_message, unreachable_message

    try:
        message = None if database_initialised() else not_initialised_message(data_dir)
    except OperationalError as exc:
        message = unreachable_message(exc)
    if message:
        raise NotInitialised(message)
    organisation = Organisation.objects.filter(slug=slug).first()
    if organisation is None:
        raise NotFound(f"organisation « {slug} » introuvable")
    return organisation


def cmd_writing(args: argparse.Namespace) -> int:
    from relance.writing import check_text

    text = _read(args.file)
    organisation = _organisation(args.org, args.dir) if args.org else None
    problems = check_text(text, language=args.lang, organisation=organisation, html=args.html)
    data = {"problems": [p.as_dict() for p in problems]}
    if problems:
        lines = [f"{len(problems)} problème{'s' if len(problems) > 1 else ''} :"]
        for p in problems:
            line = text.count("\n", 0, p.offset) + 1
            column = p.offset - (text.rfind("\n", 0, p.offset) + 1) + 1  # the offset stays in --json
            hint = f" → {' / '.join(p.suggestions[:3])}" if p.suggestions else ""
            lines.append(f"  ligne {line}, colonne {column} [{p.kind}] « {p.text} » : {p.message}{hint}")
        summary = "\n".join(lines)
    else:
        summary = "Aucun problème trouvé."
    emit(args, data, summary)
    return 0
