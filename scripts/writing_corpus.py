"""Measure the writing check (relance.writing) on its corpus, tests/fixtures/writing/corpus_fr.tsv:
sentences of French collection letters, half with one error each, half correct and full of domain
tokens. Prints the recall (errors found: a problem of the right kind over the faulty token) and the
false-positive rate (correct sentences with any problem), per kind, and the misses with --verbose.

    .venv/bin/python scripts/writing_corpus.py [--verbose] [--json]

The names of the corpus (customers, contacts, signatories) are given as the organisation's would be."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "writing" / "corpus_fr.tsv"
#: the customers', contacts' and signatories' names of the corpus: what Organisation and Customer rows give
NAMES = ("Lefèvre", "Garnier", "Nguyen", "Kowalski", "Dubois", "Élodie", "Sophie", "Laurent", "Claire", "Martin",
         "Julien")


@dataclass(frozen=True)
class Row:
    kind: str
    token: str
    sentence: str


def read_corpus(path: Path = CORPUS) -> list[Row]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        if not line or line.startswith("#") or line.startswith("kind\t"):
            continue
        kind, token, sentence = line.split("\t")
        rows.append(Row(kind, token, sentence))
    return rows


def measure(rows: list[Row]) -> dict:
    from relance.writing import check_text

    found_by_kind: Counter[str] = Counter()
    total_by_kind: Counter[str] = Counter()
    misses, false_positives = [], []
    correct = flagged = 0
    for row in rows:
        problems = check_text(row.sentence, extra_words=NAMES)
        if row.kind == "correct":
            correct += 1
            if problems:
                flagged += 1
                false_positives.append({"sentence": row.sentence, "problems": [p.as_dict() for p in problems]})
            continue
        total_by_kind[row.kind] += 1
        start = row.sentence.find(row.token)
        end = start + len(row.token)
        if any(p.kind == row.kind and p.offset < end and start < p.offset + p.length for p in problems):
            found_by_kind[row.kind] += 1
        else:
            misses.append({"kind": row.kind, "token": row.token, "sentence": row.sentence,
                           "problems": [p.as_dict() for p in problems]})
    errors = sum(total_by_kind.values())
    return {
        "errors": errors, "found": sum(found_by_kind.values()),
        "recall": sum(found_by_kind.values()) / errors if errors else 1.0,
        "correct": correct, "flagged": flagged,
        "false_positive_rate": flagged / correct if correct else 0.0,
        "by_kind": {k: {"errors": total_by_kind[k], "found": found_by_kind[k]} for k in sorted(total_by_kind)},
        "misses": misses, "false_positives": false_positives,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="list the misses and the false positives")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relance.settings")
    import django

    django.setup()
    result = measure(read_corpus())
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return 0
    print(f"corpus: {CORPUS.name}, {result['errors']} sentences with one error, {result['correct']} correct")
    print(f"recall: {result['found']}/{result['errors']} = {result['recall']:.1%}")
    for kind, n in result["by_kind"].items():
        print(f"  {kind}: {n['found']}/{n['errors']}")
    print(f"false positives: {result['flagged']}/{result['correct']} = {result['false_positive_rate']:.1%}")
    if args.verbose:
        for miss in result["misses"]:
            print(f"MISS [{miss['kind']}] « {miss['token']} » in: {miss['sentence']}")
            for p in miss["problems"]:
                print(f"     got [{p['kind']}] « {p['text']} » {p['message']}")
        for fp in result["false_positives"]:
            print(f"FALSE POSITIVE: {fp['sentence']}")
            for p in fp["problems"]:
                print(f"     [{p['kind']}] « {p['text']} » {p['message']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
