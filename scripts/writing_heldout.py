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


def read_rows() -> list[tuple[str, str, str]]:
    lines = HELDOUT.read_text(encoding="utf-8").split("\n")
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


def main() -> int:
    setup_django()
    from relance.writing import check_text

    rows = read_rows()
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
        hit = any(p.kind == kind and p.offset < end and start < p.offset + p.length for p in problems)
        if hit:
            found[kind] += 1
        else:
            misses.append(f"[{kind}] token {token!r} in {sentence!r}\n      -> {show(problems)}")

    print(f"Held-out corpus: {HELDOUT.relative_to(ROOT)} ({len(rows)} sentences)")
    print("Recall:")
    for kind in KINDS:
        n = total[kind]
        print(f"  {kind:12} {found[kind]:3}/{n:<3} {100 * found[kind] / n:5.1f} %" if n else f"  {kind:12} -")
    all_found, all_total = sum(found.values()), sum(total.values())
    print(f"  {'overall':12} {all_found:3}/{all_total:<3} {100 * all_found / all_total:5.1f} %")
    fp = len(false_positives)
    print(f"False positives: {fp}/{n_correct} correct sentences ({100 * fp / n_correct:.1f} %)")
    print(f"\nMisses ({len(misses)}):")
    for m in misses:
        print("  - " + m)
    print(f"\nFalse positives ({fp}):")
    for f in false_positives:
        print("  - " + f)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
