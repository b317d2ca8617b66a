"""Blind, held-out measurement of the writing check (relance.writing) on tests/fixtures/writing/heldout_fr.tsv:
120 French collection-letter sentences written without reading the checker or its corpus, 60 correct and
60 with exactly one error each (orthographe, grammaire, typographie, ton). An error sentence counts as found
when a problem of the same kind overlaps the faulty token; a correct sentence is a false positive when any
problem is reported. Prints recall per kind and overall, the false-positive rate, the misses and the false
positives.

    .venv/bin/python scripts/writing_heldout.py

The file is read by splitting on tabs (no csv quoting: tokens such as « ' », « " » or two spaces are literal)."""

from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HELDOUT = ROOT / "tests" / "fixtures" / "writing" / "heldout_fr.tsv"
KINDS = ("orthographe", "grammaire", "typographie", "ton")


def setup_django() -> None:
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relance.settings")
    import django

    django.setup()


BLIND = ROOT / "tests" / "fixtures" / "writing_blind" / "heldout2_fr.tsv"


def read_rows(path: Path = HELDOUT) -> list[tuple[str, str, str]]:
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[0] == "kind\ttoken\tsentence", lines[0]
    rows = []
    for line in lines[1:]:
        if not line:
            continue
        kind, token, sentence = line.split("\t")
        rows.append((kind, token, sentence))
    return rows


def show(problems) -> str:
    return "; ".join(f"[{p.kind}] {p.text!r} @{p.offset}: {p.message}" for p in problems) or "(aucun problème)"


def measure(rows: list[tuple[str, str, str]]) -> dict:
    """Recall per kind (a problem of the same kind overlapping the faulty token) and the correct
    sentences flagged, with the misses and false positives spelled out."""
    from relance.writing import check_text

    total: Counter[str] = Counter()
    found: Counter[str] = Counter()
    misses: list[str] = []
    false_positives: list[str] = []
    n_correct = 0
    for kind, token, sentence in rows:
        problems = check_text(sentence, language="fr")
        if kind == "correct":
            n_correct += 1
            if problems:
                false_positives.append(f"{sentence!r}\n      -> {show(problems)}")
            continue
        total[kind] += 1
        start = sentence.index(token)
        end = start + len(token)
        if any(p.kind == kind and p.offset < end and start < p.offset + p.length for p in problems):
            found[kind] += 1
        else:
            misses.append(f"[{kind}] token {token!r} in {sentence!r}\n      -> {show(problems)}")
    errors = sum(total.values())
    return {"total": total, "found": found, "errors": errors, "recall": sum(found.values()) / errors,
            "correct": n_correct, "flagged": len(false_positives),
            "false_positive_rate": len(false_positives) / n_correct, "misses": misses,
            "false_positives": false_positives}


def main() -> int:
    setup_django()
    path = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else HELDOUT
    rows = read_rows(path)
    result = measure(rows)
    total, found = result["total"], result["found"]
    print(f"Held-out corpus: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path} ({len(rows)} sentences)")
    print("Recall:")
    for kind in KINDS:
        n = total[kind]
        print(f"  {kind:12} {found[kind]:3}/{n:<3} {100 * found[kind] / n:5.1f} %" if n else f"  {kind:12} -")
    print(f"  {'overall':12} {sum(found.values()):3}/{result['errors']:<3} {100 * result['recall']:5.1f} %")
    print(f"False positives: {result['flagged']}/{result['correct']} correct sentences "
          f"({100 * result['false_positive_rate']:.1f} %)")
    print(f"\nMisses ({len(result['misses'])}):")
    for m in result["misses"]:
        print("  - " + m)
    print(f"\nFalse positives ({result['flagged']}):")
    for f in result["false_positives"]:
        print("  - " + f)
    return 0



if __name__ == "__main__":
    raise SystemExit(main())
