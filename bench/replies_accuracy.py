"""The reply classifier's accuracy on the labelled corpus: confusion matrix, per category and
overall, on the held-out part (never tuned on) and the tuning part.

    .venv/bin/python bench/replies_accuracy.py [--split heldout|tuning|all] [--misses]

Figures and what they mean: docs/replies.md."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from relance.core.replies.measure import load, measure  # noqa: E402

CORPUS = ROOT / "tests" / "fixtures" / "replies" / "corpus.jsonl"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["heldout", "tuning", "all"], default="heldout")
    parser.add_argument("--misses", action="store_true", help="affiche les réponses mal classées")
    args = parser.parse_args()
    rows = load(CORPUS, None if args.split == "all" else args.split)
    result = measure(rows)
    print(f"Corpus {args.split} : {len(rows)} réponses\n")
    print(result.table())
    if args.misses:
        for row, got in result.misses:
            flat = row.text.replace("\n", " ⏎ ")[:160]
            print(f"\n[{row.category} → {got}] {flat}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
