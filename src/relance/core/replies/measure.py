"""The classifier's measured accuracy: per category, overall, and the confusion matrix, over
labelled replies (the corpus of the tests, later the corrections people make)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from .classifier import classify
from .rules import CATEGORIES


@dataclass(frozen=True)
class Labelled:
    text: str
    received_on: date
    category: str
    subject: str = ""
    auto_submitted: bool = False
    promised_date: date | None = None
    return_date: date | None = None
    split: str = "tuning"


@dataclass
class Measure:
    #: confusion[expected][predicted] = count
    confusion: dict[str, dict[str, int]] = field(
        default_factory=lambda: {e: {p: 0 for p in CATEGORIES} for e in CATEGORIES})
    dates_right: int = 0
    dates_total: int = 0
    misses: list[tuple[Labelled, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(sum(row.values()) for row in self.confusion.values())

    @property
    def accuracy(self) -> float:
        return sum(self.confusion[c][c] for c in CATEGORIES) / self.total if self.total else 0.0

    def recall(self, category: str) -> float | None:
        row = self.confusion[category]
        n = sum(row.values())
        return row[category] / n if n else None

    def table(self) -> str:
        short = {c: c[:8] for c in CATEGORIES}
        head = "attendu \\ prédit".ljust(18) + " ".join(short[c].rjust(8) for c in CATEGORIES) + "   justes"
        lines = [head]
        for expected in CATEGORIES:
            row = self.confusion[expected]
            n = sum(row.values())
            recall = self.recall(expected)
            lines.append(expected.ljust(18) + " ".join(str(row[p]).rjust(8) for p in CATEGORIES)
                         + f"   {row[expected]}/{n}" + (f" ({recall:.0%})" if recall is not None else ""))
        lines.append(f"global : {self.accuracy:.1%} ({sum(self.confusion[c][c] for c in CATEGORIES)}/{self.total}) ; "
                     f"dates justes : {self.dates_right}/{self.dates_total}")
        return "\n".join(lines)


def load(path: Path, split: str | None = None) -> list[Labelled]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        raw = json.loads(line)
        if split is not None and raw.get("split", "tuning") != split:
            continue
        rows.append(Labelled(
            raw["text"], date.fromisoformat(raw["date"]), raw["category"], raw.get("subject", ""),
            bool(raw.get("auto_submitted", False)),
            date.fromisoformat(raw["promised_date"]) if raw.get("promised_date") else None,
            date.fromisoformat(raw["return_date"]) if raw.get("return_date") else None,
            raw.get("split", "tuning")))
    return rows


def measure(rows: Iterable[Labelled]) -> Measure:
    result = Measure()
    for row in rows:
        got = classify(row.text, received_on=row.received_on, subject=row.subject, auto_submitted=row.auto_submitted)
        result.confusion[row.category][got.category] += 1
        if got.category != row.category:
            result.misses.append((row, got.category))
        elif row.promised_date or row.return_date:
            result.dates_total += 1
            if (got.promised_date, got.return_date) == (row.promised_date, row.return_date):
                result.dates_right += 1
            else:
                result.misses.append((row, f"{got.category} dates {got.promised_date} {got.return_date}"))
    return result
