"""Typed errors of the service layer, and the one place that maps them to CLI exit
codes and HTTP statuses (documented in README, « Codes de sortie »)."""

from __future__ import annotations

from collections.abc import Sequence

from relance.core.formats.problems import Problem


class RelanceError(Exception):
    exit_code = 1
    http_status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def as_dict(self) -> dict[str, object]:
        return {"error": type(self).__name__, "message": self.message}


class InvalidInput(RelanceError):
    exit_code = 2
    http_status = 400


class NotFound(RelanceError):
    exit_code = 3
    http_status = 404


class ImportRejected(RelanceError):
    """The file was refused; nothing from it was imported."""

    exit_code = 4
    http_status = 422

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        first = "\n".join(f"  {p}" for p in self.problems[:50])
        more = f"\n  … et {len(self.problems) - 50} autres problèmes" if len(self.problems) > 50 else ""
        super().__init__(f"Import refusé, rien n’a été importé ({len(self.problems)} problème(s)) :\n{first}{more}")

    def as_dict(self) -> dict[str, object]:
        return {**super().as_dict(), "problems": [p.as_dict() for p in self.problems]}


class ImportStopped(ImportRejected):
    """A row of a file written one row per transaction (payments, credit notes) met a real
    conflict: the import stops there, naming the line; the rows before it are recorded (importing
    the corrected file again does not record them twice: they are « déjà connus »)."""

    def __init__(self, problems: Sequence[Problem]):
        super().__init__(problems)
        first = "\n".join(f"  {p}" for p in self.problems[:50])
        self.message = ("Import arrêté : les lignes précédentes sont enregistrées, celle-ci et les suivantes ne le "
                        f"sont pas (réimportez le fichier corrigé : rien ne sera compté deux fois) :\n{first}")
        self.args = (self.message,)


class ChainBroken(RelanceError):
    exit_code = 5
    http_status = 500

    def __init__(self, message: str, report: dict[str, object] | None = None):
        super().__init__(message)
        self.report = report or {}

    def as_dict(self) -> dict[str, object]:
        return {**self.report, **super().as_dict()}


class Conflict(RelanceError):
    exit_code = 6
    http_status = 409


class AlreadyRecorded(Conflict):
    """The payment, credit note… is already recorded (its reference or number): nothing to do —
    unlike other conflicts, which an import reports as the file's error."""


class OrganisationIncomplete(Conflict):
    """A letter or formal notice cannot be made: the organisation lacks what it must print
    (postal address, signatory, SIREN). The message names what is missing and where to add it."""

    def __init__(self, missing: Sequence[str], where: str):
        self.missing = list(missing)
        super().__init__(f"courrier refusé : l’organisation n’a pas {', '.join(self.missing)} ; complétez-la {where}")

    def as_dict(self) -> dict[str, object]:
        return {**super().as_dict(), "missing": self.missing}


class RateMissing(RelanceError):
    """A legal computation needs a rate the tables do not have (never guessed)."""

    exit_code = 7
    http_status = 409


class RulesBroken(RelanceError):
    """``relance audit`` found sent messages that break the escalation rules."""

    exit_code = 8
    http_status = 409


class DoctorProblems(RelanceError):
    """``relance doctor`` (and the checks ``relance run`` makes first) found problems: each is
    one French line saying what to do."""

    exit_code = 9
    http_status = 503

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        super().__init__(f"{len(self.problems)} problème(s) à corriger :\n" + "\n".join(f"  {p}" for p in self.problems))

    def as_dict(self) -> dict[str, object]:
        return {**super().as_dict(), "problems": self.problems}


class NotInitialised(RelanceError):
    """The data folder's database was never migrated (or PostgreSQL does not answer): nothing is
    created, nothing runs."""

    exit_code = 10
    http_status = 503


class NotDelivered(RelanceError):
    """``relance run`` finished, but some messages did not leave (failed, waiting for a retry,
    to check, or held back by the checks)."""

    exit_code = 11
    http_status = 503


EXIT_CODES = {
    0: "succès",
    1: "erreur inattendue",
    2: "entrée invalide (option, date, montant…)",
    3: "objet introuvable (organisation, client…)",
    4: "import refusé : le fichier contient des erreurs, rien n’a été importé",
    5: "journal des événements altéré",
    6: "conflit avec l’état existant",
    7: "taux manquant dans les tables : l’ajouter avec « relance rates add »",
    8: "règles de relance enfreintes dans l’historique (« relance audit »)",
    9: "vérification : des problèmes empêchent l’envoi (« relance doctor » dit quoi faire)",
    10: "base de données non initialisée (lancez « relance migrate ») ou injoignable (DATABASE_URL)",
    11: "des relances ne sont pas parties (échec, nouvel essai prévu, à vérifier, ou retenues)",
}
