"""The writing check on its corpus (tests/fixtures/writing/corpus_fr.tsv, measured by
scripts/writing_corpus.py): at least 90 % of the errors found at the right place with the right kind,
at most 5 % of the correct sentences flagged (issue #17)."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "writing_corpus.py"


def _script():
    spec = importlib.util.spec_from_file_location("writing_corpus", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up
    spec.loader.exec_module(module)
    return module


def test_the_corpus_is_large_and_balanced():
    rows = _script().read_corpus()
    kinds = Counter(row.kind for row in rows)
    assert len(rows) >= 200 and kinds["correct"] >= 100 and sum(kinds.values()) - kinds["correct"] >= 100
    assert set(kinds) == {"correct", "orthographe", "grammaire", "typographie", "ton"}
    assert all(row.token in row.sentence for row in rows if row.kind != "correct")
    assert len({row.sentence for row in rows}) == len(rows)


def test_recall_and_false_positives():
    script = _script()
    result = script.measure(script.read_corpus())
    print(f"\nrecall {result['found']}/{result['errors']} = {result['recall']:.1%}, "
          f"false positives {result['flagged']}/{result['correct']} = {result['false_positive_rate']:.1%}")
    assert result["recall"] >= 0.90, result["misses"]
    assert result["false_positive_rate"] <= 0.05, result["false_positives"]
