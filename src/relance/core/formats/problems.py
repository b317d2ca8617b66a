"""A problem found in an input file, located precisely enough to be fixed."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f", ligne {self.line}"
        if self.field:
            where += f", champ « {self.field} »"
        return f"{where} : {self.message}"

    def as_dict(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "field": self.field, "message": self.message}


def os_error_text(exc: OSError) -> str:
    """A French reason for a file that cannot be read (``strerror`` is English, and says too much)."""
    if isinstance(exc, FileNotFoundError):
        return "fichier introuvable"
    if isinstance(exc, IsADirectoryError):
        return "c’est un dossier, pas un fichier"
    if isinstance(exc, PermissionError):
        return "lecture non autorisée"
    return "erreur de lecture"
