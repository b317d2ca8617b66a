"""Errors raised by ``relance.core.law``.

``LawInputError`` is a ``ValueError`` whose message, in French, tells the user which input
is wrong. ``MissingRate`` says which published rate is missing and how to add it: the
computations never guess a rate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .rates import Semester


class LawInputError(ValueError):
    """An input of a legal computation is invalid (French message)."""


class MissingRate(LookupError):
    """A rate needed for a computation is not in the tables.

    ``semester`` is the semester whose rate is missing, ``table`` is ``"legal"`` (taux de
    l’intérêt légal, C. mon. fin. L313-2) or ``"ecb"`` (taux BCE, C. com. L441-10 II), and
    ``hint`` explains how to add it (the ``relance rates add`` command).
    """

    TABLE_LABELS = {
        "legal": "taux de l’intérêt légal (C. mon. fin. L313-2)",
        "ecb": "taux de la BCE pour ses opérations principales de refinancement (C. com. L441-10 II)",
    }

    def __init__(self, semester: Semester, table: str, hint: str):
        self.semester = semester
        self.table = table
        self.hint = hint
        label = self.TABLE_LABELS.get(table, table)
        self.message = f"Taux manquant pour le semestre {semester} : {label}. {hint}"
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message
