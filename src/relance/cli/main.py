"""``relance`` — the command line. Thin commands over the service layer; Django's own
management commands (migrate, createsuperuser, …) pass through unchanged.

Exit codes: see :data:`relance.errors.EXIT_CODES` (README, « Codes de sortie »).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

OWN_COMMANDS: tuple[str, ...] = (
    "demo", "import", "bank", "alias", "run", "serve", "events", "verify-events", "worker", "orgs",
    "letter", "law", "rates", "prescription", "retry", "profiles", "audit", "formal-notice", "litigation", "cases")
OWN_COMMANDS += ("doctor", "digest")  # operations_commands
OWN_COMMANDS += ("backup", "restore", "schedule")  # ops_commands
OWN_COMMANDS += ("uncertain",)  # uncertain_commands
OWN_COMMANDS += ("replies",)  # replies_commands
OWN_COMMANDS += ("writing",)  # writing_commands
#: commands that run on a data folder never migrated (they create the database, or need none):
#: every other one refuses it in one line (``_require_database``)
WITHOUT_DATABASE = {"demo", "law", "doctor", "migrate", "makemigrations", "showmigrations", "sqlmigrate", "help",
                    "version", "check", "shell", "dbshell", "diffsettings", "sendtestemail", "compilemessages",
                    "makemessages", "collectstatic", "squashmigrations", "optimizemigration", "test", "restore"}


def _require_database(command: str | None, data_dir: str | None) -> None:
    """A data folder never migrated: one French line and exit 10, rather than a traceback, an
    empty database created silently, or a web app serving nothing (a file-exists test and one
    query on the table list)."""
    if command is None or command in WITHOUT_DATABASE or command.startswith("-"):
        return
    from django.db import OperationalError

    from relance.errors import NotInitialised
    from relance.operations.doctor import database_initialised, not_initialised_message, unreachable_message

    try:
        message = None if database_initialised() else not_initialised_message(data_dir)
    except OperationalError as exc:  # PostgreSQL down, or its database not created
        message = unreachable_message(exc)
    if message:
        print(f"relance : {message}", file=sys.stderr)
        sys.exit(NotInitialised.exit_code)


def _configure(data_dir: str | None) -> None:
    """Point the settings at a data folder before Django starts."""
    if data_dir:
        base = Path(data_dir).resolve()
        os.environ["RELANCE_DATA_DIR"] = str(base)
        os.environ.setdefault("RELANCE_SQLITE_PATH", str(base / "relance.sqlite3"))
        os.environ.setdefault("RELANCE_MEDIA_ROOT", str(base / "fichiers"))
        os.environ.setdefault("RELANCE_EML_DIR", str(base / "emails"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relance.settings")
    import django

    django.setup()


def _parser() -> argparse.ArgumentParser:
    from . import (
        cases_commands,
        escalation_commands,
        import_commands,
        operations_commands,
        ops_commands,
        profile_commands,
        replies_commands,
        uncertain_commands,
        writing_commands,
    )

    p = argparse.ArgumentParser(prog="relance", description="Recouvrement amiable des factures impayées.")
    p.add_argument("--dir", help="dossier de données (base SQLite, fichiers, emails) ; défaut ./relance-data")
    sub = p.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="crée une entreprise de démonstration et lance la journée de relances")
    demo.add_argument("--dir", dest="demo_dir", default="demo-output", help="dossier de sortie (défaut demo-output)")
    demo.add_argument("--json", action="store_true")

    import_commands.add_parsers(sub)
    profile_commands.add_parsers(sub)
    escalation_commands.add_parsers(sub)
    cases_commands.add_parsers(sub)
    operations_commands.add_parsers(sub)
    ops_commands.add_parsers(sub)
    uncertain_commands.add_parsers(sub)
    replies_commands.add_parsers(sub)
    writing_commands.add_parsers(sub)

    run = sub.add_parser("run", help="planifie puis envoie les relances du jour")
    run.add_argument("--date", help="date de la journée (AAAA-MM-JJ), défaut aujourd’hui")
    run.add_argument("--dry-run", action="store_true", help="montre ce qui partirait, sans rien enregistrer")
    run.add_argument("--no-queue", action="store_true", help="envoie dans ce processus au lieu de la file de tâches")
    run.add_argument("--org")
    run.add_argument("--json", action="store_true")

    serve = sub.add_parser("serve", help="lance l’application web (gunicorn ; --dev : serveur de développement)")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--dev", action="store_true", help="serveur de développement de Django (démonstration)")
    serve.add_argument("--workers", type=int, help="processus web (défaut : 2 × cœurs + 1, au plus 8)")
    serve.add_argument("--timeout", type=int, help="secondes avant d’abandonner une requête (défaut 300)")

    ev = sub.add_parser("events", help="affiche le journal des événements")
    ev.add_argument("--customer", help="code client")
    ev.add_argument("--limit", type=int, default=50)
    ev.add_argument("--org")
    ev.add_argument("--json", action="store_true")

    ver = sub.add_parser("verify-events", help="vérifie l’intégrité du journal chaîné")
    ver.add_argument("--org")
    ver.add_argument("--head", help="empreinte gardée ailleurs (bilan du jour) : vérifie qu’elle est encore au journal")
    ver.add_argument("--json", action="store_true")

    worker = sub.add_parser("worker", help="exécute les envois en file d’attente (plusieurs workers possibles)")
    worker.add_argument("--batch", action="store_true", help="traite ce qui est en attente puis s’arrête")
    worker.add_argument("--once", action="store_true",
                        help="un seul passage : journées dues, reprise des envois interrompus, file d’envoi, puis arrêt")
    worker.add_argument("--no-scheduler", action="store_true",
                        help="file d’envoi seulement, sans lancer les journées (workers supplémentaires)")
    worker.add_argument("--json", action="store_true", help="avec --once : le compte rendu du passage en JSON")

    orgs = sub.add_parser("orgs", help="liste ou crée les organisations")
    orgs.add_argument("action", nargs="?", choices=["list", "add", "set"], default="list")
    orgs.add_argument("slug", nargs="?", help="identifiant court (add, set)")
    orgs.add_argument("--heure", "--run-at", dest="run_at", help="heure de la journée de relances, HH:MM (set)")
    orgs.add_argument("--fuseau", "--timezone", dest="timezone", help="fuseau horaire, ex. Europe/Paris (set)")
    orgs.add_argument("--name", help="raison sociale (add)")
    orgs.add_argument("--siren")
    orgs.add_argument("--iban")
    orgs.add_argument("--bic")
    orgs.add_argument("--email", help="adresse d’expédition des relances")
    orgs.add_argument("--address")
    orgs.add_argument("--postal-code", dest="postal_code")
    orgs.add_argument("--city")
    orgs.add_argument("--admin", action="append", default=[], help="utilisateur administrateur (répétable)")
    orgs.add_argument("--json", action="store_true")
    law = sub.add_parser("law", help="calculs de droit : pénalités, intérêts légaux, délais, prescription")
    law_sub = law.add_subparsers(dest="law_command", required=True)
    pen = law_sub.add_parser("penalties", help="pénalités de retard (L441-10) et indemnité de 40 € (D441-5)")
    pen.add_argument("--amount", required=True, help="montant TTC de la facture")
    pen.add_argument("--due", required=True, help="échéance (AAAA-MM-JJ)")
    pen.add_argument("--paid", help="date du paiement (défaut : aujourd’hui, calcul « à ce jour »)")
    pen.add_argument("--issued", help="date de la facture")
    pen.add_argument("--rate", help="taux contractuel annuel en %% (défaut : BCE + 10 points)")
    pen.add_argument("--payment", action="append", default=[], help="paiement partiel DATE:MONTANT (répétable)")
    pen.add_argument("--debtor", choices=["business", "consumer"], default="business")
    pen.add_argument("--notice", help="date de la mise en demeure (AAAA-MM-JJ) : point de départ de la clause pénale "
                                      "d’un consommateur (C. civ. 1231-5)")
    pen.add_argument("--json", action="store_true")
    inte = law_sub.add_parser("interest", help="intérêts au taux légal (C. civ. 1231-6, CMF L313-2 et L313-3)")
    inte.add_argument("--amount", required=True)
    inte.add_argument("--from", dest="start", required=True, help="date de la mise en demeure")
    inte.add_argument("--to", dest="end", help="fin du calcul (défaut : aujourd’hui)")
    inte.add_argument("--creditor", choices=["business", "individual"], default="business")
    inte.add_argument("--judgment", help="date à laquelle la décision de justice est devenue exécutoire")
    inte.add_argument("--json", action="store_true")
    terms = law_sub.add_parser("terms", help="délais de paiement maximaux (L441-10 I)")
    terms.add_argument("--issued", required=True)
    terms.add_argument("--due", required=True)
    terms.add_argument("--delivery")
    terms.add_argument("--convention", choices=["shortest", "eom_after", "eom_before"], default="shortest")
    terms.add_argument("--json", action="store_true")
    presc = law_sub.add_parser("prescription", help="prescription de la créance (L110-4, L218-2)")
    presc.add_argument("--due", required=True)
    presc.add_argument("--debtor", choices=["business", "consumer"], default="business")
    presc.add_argument("--performed", help="date de la livraison ou de la prestation")
    presc.add_argument("--issued", help="date de la facture (point de départ sans date de livraison)")
    presc.add_argument("--interruption", action="append", default=[],
                       help="reconnaissance de dette ou action en justice (AAAA-MM-JJ, répétable)")
    presc.add_argument("--as-of", dest="as_of", help="date du calcul (défaut : aujourd’hui)")
    presc.add_argument("--json", action="store_true")

    rates = sub.add_parser("rates", help="tables des taux (intérêt légal, BCE)")
    rates_sub = rates.add_subparsers(dest="rates_command", required=True)
    show = rates_sub.add_parser("show", help="affiche les taux par semestre")
    show.add_argument("--json", action="store_true")
    add = rates_sub.add_parser("add", help="ajoute les taux d’un semestre publié")
    add.add_argument("--semestre", "--semester", dest="semester", required=True, help="AAAA-S1 ou AAAA-S2")
    add.add_argument("--particuliers", help="taux de l’intérêt légal, créancier particulier (%%)")
    add.add_argument("--autres", help="taux de l’intérêt légal, autres cas (%%)")
    add.add_argument("--bce", help="taux BCE en vigueur au 1er janvier / 1er juillet (%%)")
    add.add_argument("--source", required=True, help="arrêté et JO, ou décision de la BCE")
    add.add_argument("--json", action="store_true")

    presc = sub.add_parser("prescription", help="factures proches de la prescription ; actes qui l’interrompent")
    presc.add_argument("action", nargs="?", choices=["list", "interrupt"], default="list")
    presc.add_argument("invoice", nargs="?", help="numéro de facture (interrupt)")
    presc.add_argument("--type", dest="kind", choices=["acknowledgment", "court_action"], default="acknowledgment",
                       help="reconnaissance de dette (défaut) ou action en justice")
    presc.add_argument("--date", help="date de l’acte (AAAA-MM-JJ)")
    presc.add_argument("--note", default="")
    presc.add_argument("--as-of", dest="as_of", help="date du calcul (défaut : aujourd’hui)")
    presc.add_argument("--org")
    presc.add_argument("--json", action="store_true")

    letter = sub.add_parser("letter", help="enregistre le suivi d’une lettre recommandée")
    letter.add_argument("reminder", type=int, help="numéro du courrier (voir l’application web)")
    letter.add_argument("--tracking", help="numéro de recommandé La Poste")
    letter.add_argument("--received", help="date de l’avis de réception (AAAA-MM-JJ)")
    letter.add_argument("--scan", type=Path, help="avis de réception scanné (PDF, PNG, JPEG)")
    letter.add_argument("--org")
    letter.add_argument("--json", action="store_true")

    retry = sub.add_parser("retry", help="renvoie une relance en échec (remise en file d’envoi)")
    retry.add_argument("reminder", type=int, help="numéro de la relance (voir l’application web)")
    retry.add_argument("--now", action="store_true", help="l’envoie dans ce processus au lieu de la file de tâches")
    retry.add_argument("--org")
    retry.add_argument("--json", action="store_true")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    data_dir, rest = None, argv
    if argv[:1] == ["--dir"] and len(argv) > 1:
        data_dir, rest = argv[1], argv[2:]
    elif argv[:1] and argv[0].startswith("--dir="):
        data_dir, rest = argv[0].split("=", 1)[1], argv[1:]
    command = rest[0] if rest else None
    if command is not None and command not in OWN_COMMANDS and not command.startswith("-"):
        _configure(data_dir)  # a Django management command: migrate, createsuperuser, shell…
        _require_database(command, data_dir)
        from django.core.management import execute_from_command_line

        execute_from_command_line(["relance", *rest])
        return 0
    args = _parser().parse_args(argv)
    if args.command == "demo":
        os.environ.setdefault("RELANCE_EMAIL_BACKEND", "relance.channels.eml_backend.EmlBackend")
        os.environ.setdefault("RELANCE_TASK_BACKEND", "django_tasks.backends.immediate.ImmediateBackend")
        from relance.cli.demo_setup import prepare_demo_dir

        prepare_demo_dir(Path(args.demo_dir))
        _configure(args.demo_dir)
    else:
        _configure(args.dir)
        # « replies classify » reads a file and needs no database; the other « replies » actions do
        if not (args.command == "replies" and getattr(args, "action", "") == "classify") and args.command != "writing":
            _require_database(args.command, args.dir)
    from relance.errors import RelanceError

    from . import (
        cases_commands,
        commands,
        escalation_commands,
        import_commands,
        law_commands,
        operations_commands,
        ops_commands,
        profile_commands,
        replies_commands,
        uncertain_commands,
        writing_commands,
    )

    try:
        name = "cmd_" + args.command.replace("-", "_")
        handler: Callable[[argparse.Namespace], int] = next(
            getattr(module, name) for module in (commands, import_commands, profile_commands, law_commands,
                                                 cases_commands, escalation_commands, operations_commands,
                                                 ops_commands, uncertain_commands, replies_commands, writing_commands)
            if hasattr(module, name))
        return handler(args)
    except BrokenPipeError:  # « relance events | head »: the reader left, that is fine
        sys.stderr.close()
        return 0
    except RelanceError as exc:
        if getattr(args, "json", False):
            print(json.dumps(exc.as_dict(), ensure_ascii=False, indent=2, default=str))
        print(f"relance : {exc.message}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
