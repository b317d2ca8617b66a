"""What the writing check reports: one problem, its place in the checked text and its kind."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: the four kinds, in French as the interface and the JSON show them
KINDS = ("orthographe", "grammaire", "typographie", "ton")


@dataclass(frozen=True)
class Problem:
    """``text`` is the words at fault as they stand at ``offset`` (characters) in the checked text."""

    text: str
    offset: int
    length: int
    kind: str  # "orthographe" | "grammaire" | "typographie" | "ton"
    message: str
    suggestions: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "offset": self.offset, "length": self.length, "kind": self.kind,
                "message": self.message, "suggestions": list(self.suggestions)}


def problem_at(text: str, start: int, end: int, kind: str, message: str,
               suggestions: tuple[str, ...] = ()) -> Problem:
    return Problem(text[start:end], start, end - start, kind, message, suggestions)
